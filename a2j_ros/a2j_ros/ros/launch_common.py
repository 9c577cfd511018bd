"""The launch description shared by launch/hand_pose.launch.py and launch/body_pose.launch.py.

``node_configuration`` turns the launch arguments into the node's parameters and
remappings (plain Python, tested without ``launch``); ``pose_launch_description`` builds
the LaunchDescription with ``launch_ros.actions.LifecycleNode`` (imported there: every
ROS 2 install has launch and launch_ros). No environment variable is set: transport
settings are the user's (the node adapts its QoS to the camera, docs/transport.md).
"""
import os

from a2j_ros.ros.bundled_models import resolve_checkpoint

PACKAGE = 'a2j_ros'
TRUE, FALSE = ('true', '1', 'yes'), ('false', '0', 'no')

# name, default, description ('' = keep the params file's value)
ARGUMENTS = (
    ('checkpoint', '', 'a2j_ros checkpoint (.pt) or a bundled file name; empty = the bundled '
     'demo model of this launch file (synthetic data only: the node says so)'),
    ('device', '', "auto | cpu | cuda | cuda:N; empty = the params file's (cpu)"),
    ('backend', '', "inference backend; empty = the params file's (auto)"),
    ('roi_source', '', "topic | nearest | full_frame; empty = the params file's (nearest)"),
    ('depth_min_m', '', "nearest depth used (m); empty = the params file's"),
    ('depth_max_m', '', "farthest depth used (m); empty = the params file's"),
    ('depth_topic', '/camera/depth/image_rect_raw', 'sensor_msgs/Image depth topic'),
    ('camera_info_topic', '/camera/depth/camera_info', 'sensor_msgs/CameraInfo of the depth'),
    ('rois_topic', 'rois', 'ROI topic (roi_source topic), relative to the namespace'),
    ('namespace', 'a2j', 'namespace of the node and its outputs'),
    ('node_name', 'pose_node', 'name of the node'),
    ('use_sim_time', 'false', 'true when replaying a bag with --clock'),
    ('autostart', 'true', 'configure and activate by itself; false: wait for a lifecycle '
     'manager (ros2 lifecycle set /a2j/pose_node configure)'),
    ('rviz', 'false', 'start rviz2 with config/a2j_ros.rviz'),
)
STRING_OVERRIDES = ('device', 'backend', 'roi_source')
FLOAT_OVERRIDES = ('depth_min_m', 'depth_max_m')


def _flag(name, text):
    value = str(text).strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ValueError(f'launch argument {name}:={text!r} must be true or false')


def node_configuration(args, mode, params_file):
    """Return the pose node's settings for the launch arguments ``args`` ({name: text}).

    ``mode`` ('hand' or 'body') picks the bundled demo checkpoint when ``checkpoint`` is
    empty; a bare file name of a bundled checkpoint is found in the package's data folder.
    Returns {'name', 'namespace', 'parameters' (params file, then overrides), 'remappings',
    'rviz'}; ValueError names a bad argument.
    """
    values = {name: default for name, default, _text in ARGUMENTS}
    unknown = sorted(set(args) - set(values) - {'params_file'})
    if unknown:
        raise ValueError(f'unknown launch argument(s) {", ".join(unknown)}; '
                         f'known: {", ".join(values)}')
    values.update({k: str(v) for k, v in args.items()})
    overrides = {'checkpoint': resolve_checkpoint(values['checkpoint'], mode),
                 'use_sim_time': _flag('use_sim_time', values['use_sim_time']),
                 'autostart': _flag('autostart', values['autostart'])}
    overrides.update({k: values[k] for k in STRING_OVERRIDES if values[k]})
    for key in FLOAT_OVERRIDES:
        if values[key]:
            try:
                overrides[key] = float(values[key])
            except ValueError:
                raise ValueError(f'launch argument {key}:={values[key]!r} is not a number '
                                 '(metres)') from None
    return {'name': values['node_name'], 'namespace': values['namespace'],
            'parameters': [values.get('params_file') or params_file, overrides],
            'remappings': [('depth/image', values['depth_topic']),
                           ('depth/camera_info', values['camera_info_topic']),
                           ('rois', values['rois_topic'])],
            'rviz': _flag('rviz', values['rviz'])}


def pose_launch_description(params_name, mode):
    """Return the LaunchDescription of the pose node (``mode``) with params ``params_name``."""
    from ament_index_python.packages import get_package_share_directory
    from launch.actions import DeclareLaunchArgument, OpaqueFunction
    from launch.conditions import IfCondition
    from launch.substitutions import LaunchConfiguration
    from launch_ros.actions import LifecycleNode, Node

    from launch import LaunchDescription
    share = get_package_share_directory(PACKAGE)
    params_file = os.path.join(share, 'config', params_name)

    def node(context):
        given = {name: LaunchConfiguration(name).perform(context)
                 for name, *_rest in ARGUMENTS + (('params_file',),)}
        config = node_configuration(given, mode, params_file)
        return [LifecycleNode(package=PACKAGE, executable='pose_node', name=config['name'],
                              namespace=config['namespace'], output='screen',
                              emulate_tty=True, parameters=config['parameters'],
                              remappings=config['remappings'])]

    actions = [DeclareLaunchArgument(name, default_value=default, description=text)
               for name, default, text in ARGUMENTS]
    actions.append(DeclareLaunchArgument('params_file', default_value=params_file,
                                         description='parameter YAML of the node'))
    actions.append(OpaqueFunction(function=node))
    actions.append(Node(package='rviz2', executable='rviz2', name='a2j_rviz',
                        arguments=['-d', os.path.join(share, 'config', 'a2j_ros.rviz')],
                        parameters=[{'use_sim_time': LaunchConfiguration('use_sim_time')}],
                        condition=IfCondition(LaunchConfiguration('rviz'))))
    return LaunchDescription(actions)


__all__ = ['ARGUMENTS', 'node_configuration', 'pose_launch_description']
