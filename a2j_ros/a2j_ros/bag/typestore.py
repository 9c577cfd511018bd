"""The ``rosbags`` typestore: standard ROS 2 messages plus our a2j_ros_msgs.

The standard types come from rosbags' ROS 2 Kilted store, whose type hashes (RIHS01) equal
those of Humble/Jazzy/Kilted for the messages we use (sensor_msgs/Image, CameraInfo,
RegionOfInterest, std_msgs/Header, geometry_msgs/Point). Our own types are parsed from the
.msg files of a2j_ros_msgs, looked up in this order: every ``share/a2j_ros_msgs/msg`` on
``AMENT_PREFIX_PATH``, then the source tree or its colcon ``install/`` next to this package,
then the copy kept in ``msg_definitions.py``.
"""
import functools
import os
from pathlib import Path

from rosbags.typesys import get_types_from_msg, get_typestore, Stores

from a2j_ros.bag.msg_definitions import MSG_DEFINITIONS

MSGS_PACKAGE = 'a2j_ros_msgs'
MSG_NAMES = tuple(MSG_DEFINITIONS)
IMAGE = 'sensor_msgs/msg/Image'
CAMERA_INFO = 'sensor_msgs/msg/CameraInfo'
ROI_ARRAY = f'{MSGS_PACKAGE}/msg/RegionOfInterestArray'
SKELETON = f'{MSGS_PACKAGE}/msg/Skeleton'
SKELETON_ARRAY = f'{MSGS_PACKAGE}/msg/SkeletonArray'


def _candidate_msg_dirs():
    """Yield the folders that may hold our .msg files, most authoritative first."""
    for prefix in filter(None, os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep)):
        yield Path(prefix) / 'share' / MSGS_PACKAGE / 'msg'
    # Source checkout (symlink install keeps __file__ inside it) and its colcon install/.
    for parent in Path(__file__).resolve().parents:
        yield parent / MSGS_PACKAGE / 'msg'
        yield parent / 'install' / MSGS_PACKAGE / 'share' / MSGS_PACKAGE / 'msg'


def find_msg_dir():
    """Return the first folder holding every a2j_ros_msgs .msg file, or None."""
    for folder in _candidate_msg_dirs():
        if all((folder / f'{name}.msg').is_file() for name in MSG_NAMES):
            return folder
    return None


def load_msg_definitions(msg_dir=None):
    """Return ``{name: definition text}`` from ``msg_dir`` (found if None) or the fallback."""
    folder = Path(msg_dir) if msg_dir is not None else find_msg_dir()
    if folder is None:
        return dict(MSG_DEFINITIONS)
    return {name: (folder / f'{name}.msg').read_text() for name in MSG_NAMES}


def make_typestore(msg_dir=None):
    """Return a new rosbags Typestore with ROS 2 Kilted types and a2j_ros_msgs registered."""
    store = get_typestore(Stores.ROS2_KILTED)
    types = {}
    for name, text in load_msg_definitions(msg_dir).items():
        types.update(get_types_from_msg(text, f'{MSGS_PACKAGE}/msg/{name}'))
    store.register(types)
    return store


@functools.lru_cache(maxsize=1)
def default_typestore():
    """Return the shared typestore (built once per process)."""
    return make_typestore()


__all__ = ['CAMERA_INFO', 'IMAGE', 'ROI_ARRAY', 'SKELETON', 'SKELETON_ARRAY',
           'default_typestore', 'find_msg_dir', 'load_msg_definitions', 'make_typestore']
