"""rclpy publishes and receives a2j_ros_msgs in-process, over the real middleware."""
from conftest import spin_until
from geometry_msgs.msg import Point
import pytest
import rclpy
from rclpy.executors import SingleThreadedExecutor

import a2j_ros_msgs.msg as msgs


def _skeleton_array():
    sk = msgs.Skeleton()
    sk.id = 0
    sk.layout = 'nyu_hand_14'
    sk.joint_names = ['palm', 'thumb_tip']
    sk.joints = [Point(x=0.01, y=-0.02, z=0.5), Point(x=0.03, y=0.0, z=0.48)]
    sk.joints_uvd = [Point(x=320.0, y=240.0, z=0.5), Point(x=350.0, y=240.0, z=0.48)]
    sk.confidence = [0.9, 0.4]
    sk.score = 1.0
    sk.roi.x_offset, sk.roi.y_offset, sk.roi.width, sk.roi.height = 300, 200, 80, 90
    arr = msgs.SkeletonArray()
    arr.header.frame_id = 'camera_depth_optical_frame'
    arr.header.stamp.sec = 12
    arr.skeletons = [sk]
    return arr


def test_skeleton_array_roundtrip(ros_context):
    node = rclpy.create_node('a2j_msgs_roundtrip', context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    received = []
    pub = node.create_publisher(msgs.SkeletonArray, 'skeletons', 10)
    node.create_subscription(msgs.SkeletonArray, 'skeletons', received.append, 10)
    sent = _skeleton_array()

    def got():
        if not received:
            pub.publish(sent)
        return bool(received)

    assert spin_until(executor, got, timeout_s=15.0), 'no SkeletonArray received'
    out = received[0]
    assert out.header.frame_id == 'camera_depth_optical_frame'
    assert out.header.stamp.sec == 12
    sk = out.skeletons[0]
    assert sk.layout == 'nyu_hand_14' and list(sk.joint_names) == ['palm', 'thumb_tip']
    assert sk.joints[1].z == pytest.approx(0.48)
    assert list(sk.confidence) == pytest.approx([0.9, 0.4])
    assert (sk.roi.width, sk.roi.height) == (80, 90)
    executor.shutdown()
    node.destroy_node()


def test_roi_array_fields_and_cdr_roundtrip():
    from rclpy.serialization import deserialize_message, serialize_message
    from sensor_msgs.msg import RegionOfInterest
    # the fields the README documents, as the generated type declares them
    assert msgs.RegionOfInterestArray.get_fields_and_field_types() == {
        'header': 'std_msgs/Header', 'rois': 'sequence<sensor_msgs/RegionOfInterest>',
        'scores': 'sequence<float>'}
    arr = msgs.RegionOfInterestArray()
    arr.header.stamp.sec, arr.header.frame_id = 7, 'cam'
    arr.rois = [RegionOfInterest(x_offset=3, y_offset=4, width=50, height=60),
                RegionOfInterest(x_offset=100, y_offset=0, width=8, height=9)]
    arr.scores = [0.25, 1.0]
    back = deserialize_message(serialize_message(arr), msgs.RegionOfInterestArray)
    assert (back.header.stamp.sec, back.header.frame_id) == (7, 'cam')
    assert [(r.x_offset, r.y_offset, r.width, r.height) for r in back.rois] == [
        (3, 4, 50, 60), (100, 0, 8, 9)]
    assert list(back.scores) == [0.25, 1.0]
