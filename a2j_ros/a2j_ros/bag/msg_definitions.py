"""Fallback copy of the a2j_ros_msgs definitions, used when no .msg files are found.

Keep in sync with a2j_ros_msgs/msg (test_bag_typestore.py checks that the type hashes
agree). Comments are left out: they do not change the wire format or the hashes.
"""

MSG_DEFINITIONS = {
    'RegionOfInterestArray': (
        'std_msgs/Header header\n'
        'sensor_msgs/RegionOfInterest[] rois\n'
        'float32[] scores\n'
    ),
    'Skeleton': (
        'int32 id\n'
        'string layout\n'
        'string[] joint_names\n'
        'geometry_msgs/Point[] joints\n'
        'geometry_msgs/Point[] joints_uvd\n'
        'float32[] confidence\n'
        'float32 score\n'
        'sensor_msgs/RegionOfInterest roi\n'
    ),
    'SkeletonArray': (
        'std_msgs/Header header\n'
        'Skeleton[] skeletons\n'
    ),
}
