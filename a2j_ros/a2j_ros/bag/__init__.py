"""Rosbag2 tools built on the ``rosbags`` library (no rclpy, no ROS install needed).

``writer``/``reader`` move depth frames, camera info, ROIs and ground truth in and out of
mcap or sqlite3 bags; ``make_bag`` turns a dataset into a bag; ``offline_replay`` runs the
pose pipeline over a bag; ``report`` writes the JSON, plots and overlay images.
"""
