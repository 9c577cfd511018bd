"""Start the A2J pose node for bodies (a lifecycle node; and RViz with rviz:=true).

    ros2 launch a2j_ros body_pose.launch.py        # the bundled demo model (synthetic data only)
    ros2 launch a2j_ros body_pose.launch.py checkpoint:=/path/body.pt \
        depth_topic:=/camera/depth/image_rect_raw camera_info_topic:=/camera/depth/camera_info

`ros2 launch a2j_ros body_pose.launch.py --show-args` lists every argument.
"""
from a2j_ros.ros.launch_common import pose_launch_description


def generate_launch_description():
    return pose_launch_description('body_pose.yaml', 'body')
