"""The pose node's input subscriptions while active: depth (raw or compressedDepth) and ROIs.

Each is an ``AdaptiveSubscription`` (QoS adapted to its publishers, qos_adapt.py); with
``roi_source: topic`` the two feed a ``DepthRoiPairer`` (message_filters where installed).
``on_frame(depth_msg, roi_msg)`` gets every depth message (roi_msg None without a
detector) or every pair.
"""
from a2j_ros.ros.qos_adapt import AdaptiveSubscription
from a2j_ros.ros.sync import DepthRoiPairer

DEPTH_TOPIC = 'depth/image'
ROI_TOPIC = 'rois'


def roi_message_type(roi_msg_type):
    """Return the ROI message class for the roi_msg_type parameter ('a2j' or 'vision_msgs')."""
    if roi_msg_type == 'vision_msgs':
        from vision_msgs.msg import Detection2DArray
        return Detection2DArray
    from a2j_ros_msgs.msg import RegionOfInterestArray
    return RegionOfInterestArray


def depth_input(node, transport):
    """Return (message class, topic) of the depth input for ``depth_transport``.

    compressedDepth follows image_transport's naming: ``<depth image topic>/compressedDepth``
    after remapping (remap ``depth/image`` as for raw images).
    """
    if transport == 'compressedDepth':
        from sensor_msgs.msg import CompressedImage
        return CompressedImage, node.resolve_topic_name(DEPTH_TOPIC) + '/compressedDepth'
    from sensor_msgs.msg import Image
    return Image, DEPTH_TOPIC


class PoseInputs:
    """The depth (+ ROI) subscriptions of an active pose node."""

    def __init__(self, node, settings, on_frame):
        s = settings
        depth_type, depth_topic = depth_input(node, s.depth_transport)
        if s.roi_source == 'topic':
            pairer = DepthRoiPairer(s.sync_queue_size, s.sync_slop_s, on_frame,
                                    use_message_filters=s.use_message_filters)
            self.subscriptions = [
                AdaptiveSubscription(node, depth_type, depth_topic, lambda m: pairer.add(0, m),
                                     s.depth_qos_reliability, s.depth_qos_depth,
                                     'depth_qos_reliability'),
                AdaptiveSubscription(node, roi_message_type(s.roi_msg_type), ROI_TOPIC,
                                     lambda m: pairer.add(1, m), s.roi_qos_reliability,
                                     s.sync_queue_size, 'roi_qos_reliability')]
            self.sync_implementation = pairer.implementation
        else:
            self.subscriptions = [AdaptiveSubscription(
                node, depth_type, depth_topic, lambda m: on_frame(m, None),
                s.depth_qos_reliability, s.depth_qos_depth, 'depth_qos_reliability')]
            self.sync_implementation = 'none'

    @property
    def topics(self):
        """Return the resolved topic names listened to."""
        return [sub.topic for sub in self.subscriptions]

    def refresh(self):
        """Re-adapt each subscription's QoS to the publishers found now."""
        for sub in self.subscriptions:
            sub.refresh()

    def destroy(self):
        """Remove every subscription."""
        for sub in self.subscriptions:
            sub.destroy()
        self.subscriptions = []


__all__ = ['DEPTH_TOPIC', 'PoseInputs', 'ROI_TOPIC', 'depth_input', 'roi_message_type']
