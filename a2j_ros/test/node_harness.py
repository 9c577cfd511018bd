"""A pose node under test with a peer node that publishes its inputs and records its outputs.

Shared by the rclpy tests of the node (test_pose_node.py, test_node_params.py, ...).
"""
import itertools

from conftest import spin_until
import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

from a2j_ros.ros.pose_node import PoseNode

FRAME = 'camera_depth_optical_frame'
_COUNT = itertools.count()


def box_around(joints_uvd, pad=10):
    """Return a detector-like box (x, y, w, h) around the joints."""
    lo = np.floor(joints_uvd[:, :2].min(0)) - pad
    hi = np.ceil(joints_uvd[:, :2].max(0)) + pad
    return int(lo[0]), int(lo[1]), int(hi[0] - lo[0]), int(hi[1] - lo[1])


def camera_info(camera, k=True, p=False, d=()):
    """Return a CameraInfo of ``camera`` with K and/or P filled in and distortion ``d``."""
    from sensor_msgs.msg import CameraInfo
    info = CameraInfo(width=camera.width, height=camera.height)
    info.header.frame_id = FRAME
    k9 = camera.k.reshape(-1).tolist()
    if k:
        info.k = k9
    if p:
        info.p = [k9[0], k9[1], k9[2], 0.0, k9[3], k9[4], k9[5], 0.0, 0.0, 0.0, 1.0, 0.0]
    if d:
        info.distortion_model = 'plumb_bob'
        info.d = [float(v) for v in d]
    return info


class Harness:
    """The node under test, a peer node with the publishers/subscribers, one executor."""

    def __init__(self, context, checkpoint, wait=True, **params):
        from diagnostic_msgs.msg import DiagnosticArray
        from rcl_interfaces.msg import Log
        from rosgraph_msgs.msg import Clock
        from sensor_msgs.msg import CameraInfo, CompressedImage, Image
        from visualization_msgs.msg import MarkerArray

        from a2j_ros_msgs.msg import RegionOfInterestArray, SkeletonArray
        params.setdefault('diagnostics_period_s', 0.2)
        params.setdefault('log_throttle_s', 0.0)
        # these tests send single frames and check each one's skeletons; tracking (on by
        # default: a track is published from its 3rd frame) is tested in test_node_tracking.py
        params.setdefault('tracking_enabled', False)
        self.params = params
        overrides = [Parameter('checkpoint', value=checkpoint)]
        overrides += [Parameter(k, value=v) for k, v in params.items()]
        # a name of its own: rcl routes /rosout by logger name, process-wide
        self.name = f'pose_node_{next(_COUNT)}'
        self.node = PoseNode(self.name, context=context, parameter_overrides=overrides)
        self.peer = rclpy.create_node('a2j_test_peer', context=context)
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)
        self.executor.add_node(self.peer)
        self.compressed = params.get('depth_transport') == 'compressedDepth'
        self.depth_pub = self.peer.create_publisher(
            CompressedImage if self.compressed else Image,
            'depth/image/compressedDepth' if self.compressed else 'depth/image', 10)
        self.info_pub = self.peer.create_publisher(CameraInfo, 'depth/camera_info', 10)
        self.roi_pub = self.peer.create_publisher(RegionOfInterestArray, 'rois', 10)
        self.clock_pub = self.peer.create_publisher(Clock, '/clock', 10)
        self.skeletons, self.markers, self.diagnostics, self.logs = [], [], [], []
        self.debug_images = []
        self.peer.create_subscription(SkeletonArray, 'skeletons', self.skeletons.append, 10)
        self.peer.create_subscription(MarkerArray, 'markers', self.markers.append, 10)
        self.peer.create_subscription(Image, f'{self.name}/debug_image',
                                      self.debug_images.append, 10)
        self.peer.create_subscription(DiagnosticArray, '/diagnostics',
                                      self.diagnostics.append, 10)
        latched = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.peer.create_subscription(
            Log, '/rosout', lambda m: self.logs.append(m.msg) if m.name == self.name else None,
            latched)

    def connected(self):
        """Spin until the node listens to the depth (and ROI) publisher and publishes."""
        topic = self.params.get('roi_source') == 'topic'
        return spin_until(self.executor, lambda: self.depth_pub.get_subscription_count() > 0
                          and (not topic or self.roi_pub.get_subscription_count() > 0)
                          and self.peer.count_publishers('skeletons') > 0, 20.0)

    def send(self, depth_msg, info=None, rois=None, stamp_sec=5):
        """Publish a depth message (+ camera_info, + ROIs with the same stamp)."""
        from sensor_msgs.msg import RegionOfInterest

        from a2j_ros_msgs.msg import RegionOfInterestArray
        depth_msg.header.frame_id = FRAME
        depth_msg.header.stamp.sec = stamp_sec
        if info is not None:
            self.info_pub.publish(info)
            count = self.node.cameras.received
            spin_until(self.executor, lambda: self.node.cameras.received > count, 5.0)
        if rois is not None:
            msg = RegionOfInterestArray()
            msg.header = depth_msg.header
            msg.rois = [RegionOfInterest(x_offset=x, y_offset=y, width=w, height=h)
                        for x, y, w, h in rois]
            self.roi_pub.publish(msg)
        self.depth_pub.publish(depth_msg)

    def wait(self, predicate, timeout=20.0):
        return spin_until(self.executor, predicate, timeout)

    def logged(self, text):
        """Return True once the node logged a line containing ``text`` (via /rosout)."""
        return self.wait(lambda: any(text in line for line in self.logs), 10.0)

    def set_parameters(self, **values):
        """Set parameters through the node's parameter service; return the results."""
        from rclpy.parameter_client import AsyncParameterClient
        client = AsyncParameterClient(self.peer, self.node.get_fully_qualified_name())
        assert self.wait(lambda: client.services_are_ready(), 10.0)
        future = client.set_parameters([Parameter(k, value=v) for k, v in values.items()])
        assert self.wait(future.done, 10.0), 'set_parameters did not answer'
        return future.result().results

    def close(self):
        self.executor.shutdown()
        self.node.destroy_node()
        self.peer.destroy_node()
