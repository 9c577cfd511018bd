"""Thin ROS 2 layer of a2j_ros: nodes, message conversion, synchronisation, markers."""
