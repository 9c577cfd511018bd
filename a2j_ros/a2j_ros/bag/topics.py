"""Default topic names, frame id and QoS of the bags that ``a2j make-bag`` writes.

The names follow a RealSense-style driver under ``/camera`` and the pose node's
namespace ``/a2j``; every reader and replay option can rename them.
"""
from dataclasses import dataclass

from rosbags.interfaces import (
    Qos,
    QosDurability,
    QosHistory,
    QosLiveliness,
    QosReliability,
    QosTime,
)

DEPTH_TOPIC = '/camera/depth/image_rect_raw'
INFO_TOPIC = '/camera/depth/camera_info'
ROI_TOPIC = '/a2j/rois'
GT_TOPIC = '/a2j/ground_truth'
FRAME_ID = 'camera_depth_optical_frame'

# rmw's "infinite" duration, as rosbag2 records it in metadata.yaml.
_INFINITE = QosTime(sec=2147483647, nsec=4294967295)

# What a camera driver offers: reliable, volatile, keep last 10. `ros2 bag play` offers the
# recorded QoS again; reliable publishers match both reliable and best-effort subscribers.
OFFERED_QOS = Qos(history=QosHistory.KEEP_LAST, depth=10,
                  reliability=QosReliability.RELIABLE, durability=QosDurability.VOLATILE,
                  deadline=_INFINITE, lifespan=_INFINITE, liveliness=QosLiveliness.AUTOMATIC,
                  liveliness_lease_duration=_INFINITE, avoid_ros_namespace_conventions=False)


@dataclass
class BagTopics:
    """Topic names of one bag; ``roi`` or ``ground_truth`` may be None (absent)."""

    depth: str = DEPTH_TOPIC
    camera_info: str = INFO_TOPIC
    roi: str = ROI_TOPIC
    ground_truth: str = GT_TOPIC


__all__ = ['BagTopics', 'DEPTH_TOPIC', 'FRAME_ID', 'GT_TOPIC', 'INFO_TOPIC', 'OFFERED_QOS',
           'ROI_TOPIC']
