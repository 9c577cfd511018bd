"""ROS-free core of a2j_ros: model, geometry, data, metrics, training, export.

Nothing under this package may import rclpy or any ``*_msgs`` module; a test checks it.
"""
