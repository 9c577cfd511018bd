"""a2j_ros: 3D hand and body pose from a single depth image with A2J, for ROS 2.

The package has two layers. ``a2j_ros.core`` is plain Python (numpy, torch): the network,
geometry, datasets, metrics and training; it imports no ROS module. ``a2j_ros.ros`` is the
thin ROS 2 layer (nodes, message conversion, synchronisation, markers) that calls the core.
"""

__version__ = '0.1.0'
