"""MarkerArray and SkeletonArray building."""
import numpy as np
import pytest

pytest.importorskip('visualization_msgs.msg')
msgs = pytest.importorskip('a2j_ros_msgs.msg')
from std_msgs.msg import Header  # noqa: E402
from visualization_msgs.msg import Marker  # noqa: E402

from a2j_ros.core.layouts import get_layout  # noqa: E402
from a2j_ros.core.pipeline import PoseResult  # noqa: E402
from a2j_ros.ros.markers import MarkerOptions, skeleton_markers  # noqa: E402
from a2j_ros.ros.messages import rois_from_a2j, skeleton_array  # noqa: E402

BONES = ((0, 1), (1, 2))


def _header():
    return Header(frame_id='camera_depth_optical_frame')


def test_spheres_and_bones_per_instance():
    joints = [np.array([[0, 0, 0.5], [0.1, 0, 0.5], [0.1, 0.1, 0.5]]),
              np.array([[0, 0, 0.6], [0.1, 0, 0.6], [0.1, 0.1, 0.6]])]
    out = skeleton_markers(joints, _header(), BONES, MarkerOptions(lifetime_s=0.25))
    assert [(m.ns, m.id, m.type) for m in out.markers] == [
        ('a2j_0', 0, Marker.SPHERE_LIST), ('a2j_0', 1, Marker.LINE_LIST),
        ('a2j_1', 0, Marker.SPHERE_LIST), ('a2j_1', 1, Marker.LINE_LIST)]
    spheres, lines = out.markers[0], out.markers[1]
    assert len(spheres.points) == 3 and len(lines.points) == 4
    assert lines.points[3].y == pytest.approx(0.1)
    assert spheres.lifetime.nanosec == 250_000_000 and spheres.lifetime.sec == 0
    assert spheres.header.frame_id == 'camera_depth_optical_frame'
    assert out.markers[0].color.r != out.markers[2].color.r       # one colour per instance


def test_nothing_seen_is_deleteall_and_vanished_instances_are_deleted():
    empty = skeleton_markers([], _header(), BONES)
    assert [m.action for m in empty.markers] == [Marker.DELETEALL]
    one = skeleton_markers([np.zeros((3, 3)) + 0.5], _header(), BONES, previous_count=3)
    deleted = [(m.ns, m.id) for m in one.markers if m.action == Marker.DELETE]
    assert deleted == [('a2j_1', 0), ('a2j_1', 1), ('a2j_2', 0), ('a2j_2', 1)]


def test_non_finite_joints_and_their_bones_are_skipped():
    joints = np.array([[0, 0, 0.5], [np.nan, 0, 0.5], [0.1, 0.1, 0.5]])
    out = skeleton_markers([joints], _header(), BONES,
                           MarkerOptions(joint_color=(1.0, 0.0, 0.0)))
    assert len(out.markers[0].points) == 2 and len(out.markers[1].points) == 0
    assert out.markers[0].color.r == 1.0 and out.markers[0].color.a == 1.0


def test_skeleton_array_in_metres_with_crop_roi():
    layout = get_layout('nyu_hand_14')
    xyz = np.tile([[10.0, -20.0, 500.0]], (14, 1))
    uvd = np.tile([[160.0, 120.0, 500.0]], (14, 1))
    result = PoseResult(joints_xyz_mm=xyz, joints_uvd=uvd, confidence=np.full(14, 0.5),
                        roi=(1, 2, 3, 4), score=0.9, crop_box=(100, 80, 60, 61))
    header = _header()
    header.stamp.sec = 7
    out = skeleton_array([result], header, layout)
    assert out.header.stamp.sec == 7 and out.header.frame_id == 'camera_depth_optical_frame'
    sk = out.skeletons[0]
    assert sk.layout == 'nyu_hand_14' and list(sk.joint_names) == list(layout.joint_names)
    assert (sk.joints[0].x, sk.joints[0].y, sk.joints[0].z) == pytest.approx((0.01, -0.02, 0.5))
    assert (sk.joints_uvd[0].x, sk.joints_uvd[0].z) == pytest.approx((160.0, 0.5))
    assert sk.score == pytest.approx(0.9) and len(sk.confidence) == 14
    assert (sk.roi.x_offset, sk.roi.y_offset, sk.roi.width, sk.roi.height) == (100, 80, 60, 61)


def test_rois_from_a2j_message():
    from sensor_msgs.msg import RegionOfInterest
    msg = msgs.RegionOfInterestArray(rois=[RegionOfInterest(x_offset=1, y_offset=2, width=3,
                                                            height=4)])
    rois, scores = rois_from_a2j(msg)
    assert rois.tolist() == [[1, 2, 3, 4]] and scores.tolist() == [1.0]
    msg.scores = [0.5, 0.2]
    with pytest.raises(Exception, match='scores'):
        rois_from_a2j(msg)
