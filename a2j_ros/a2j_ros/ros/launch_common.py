"""The launch description shared by launch/hand_pose.launch.py and launch/body_pose.launch.py.

Needs ``launch`` and ``launch_ros`` (every ROS 2 install has them); importing this module
without them raises ImportError, which is why it is only imported by the launch files.
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument, OpaqueFunction, SetEnvironmentVariable
from launch.conditions import IfCondition
from launch.substitutions import EnvironmentVariable, LaunchConfiguration
from launch_ros.actions import Node

from launch import LaunchDescription

PACKAGE = 'a2j_ros'

# name, default, description ('' = keep the params file's value)
ARGUMENTS = (
    ('checkpoint', '', "a2j_ros checkpoint (.pt); empty = the params file's"),
    ('device', '', "auto | cpu | cuda | cuda:N; empty = the params file's (cpu)"),
    ('backend', '', "inference backend; empty = the params file's (eager)"),
    ('roi_source', '', "topic | nearest | full_frame; empty = the params file's (nearest)"),
    ('depth_topic', '/camera/depth/image_rect_raw', 'sensor_msgs/Image depth topic'),
    ('camera_info_topic', '/camera/depth/camera_info', 'sensor_msgs/CameraInfo of the depth'),
    ('rois_topic', 'rois', 'ROI topic (roi_source topic), relative to the namespace'),
    ('namespace', 'a2j', 'namespace of the node and its outputs'),
    ('node_name', 'pose_node', 'name of the node'),
    ('use_sim_time', 'false', 'true when replaying a bag with --clock'),
    ('rviz', 'false', 'start rviz2 with config/a2j_ros.rviz'),
)


def _node(context, params_file):
    """Build the pose node with the launch arguments that were given (OpaqueFunction)."""
    def arg(name):
        return LaunchConfiguration(name).perform(context)

    overrides = {key: arg(key) for key in ('checkpoint', 'device', 'backend', 'roi_source')
                 if arg(key)}
    overrides['use_sim_time'] = arg('use_sim_time').lower() in ('true', '1', 'yes')
    return [Node(package=PACKAGE, executable='pose_node', name=arg('node_name'),
                 namespace=arg('namespace'), output='screen', emulate_tty=True,
                 parameters=[arg('params_file'), overrides],
                 remappings=[('depth/image', arg('depth_topic')),
                             ('depth/camera_info', arg('camera_info_topic')),
                             ('rois', arg('rois_topic'))])]


def pose_launch_description(params_name):
    """Return the LaunchDescription of the pose node with the params file ``params_name``."""
    share = get_package_share_directory(PACKAGE)
    params_file = os.path.join(share, 'config', params_name)
    actions = [DeclareLaunchArgument(name, default_value=default, description=text)
               for name, default, text in ARGUMENTS]
    actions.append(DeclareLaunchArgument('params_file', default_value=params_file,
                                         description='parameter YAML of the node'))
    # VGA depth over Fast DDS loses most best-effort frames without the large-data
    # transport (docs/node.md); keep the user's own setting when there is one.
    actions.append(SetEnvironmentVariable(
        'FASTDDS_BUILTIN_TRANSPORTS',
        EnvironmentVariable('FASTDDS_BUILTIN_TRANSPORTS', default_value='LARGE_DATA')))
    actions.append(OpaqueFunction(function=_node, args=[params_file]))
    actions.append(Node(package='rviz2', executable='rviz2', name='a2j_rviz',
                        arguments=['-d', os.path.join(share, 'config', 'a2j_ros.rviz')],
                        parameters=[{'use_sim_time': LaunchConfiguration('use_sim_time')}],
                        condition=IfCondition(LaunchConfiguration('rviz'))))
    return LaunchDescription(actions)


__all__ = ['ARGUMENTS', 'pose_launch_description']
