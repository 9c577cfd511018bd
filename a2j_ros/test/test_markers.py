"""MarkerArray and SkeletonArray building."""
import numpy as np
import pytest
from std_msgs.msg import Header
from visualization_msgs.msg import Marker

from a2j_ros.core.layouts import get_layout
from a2j_ros.core.pipeline import PoseResult
from a2j_ros.ros.markers import MarkerOptions, skeleton_markers
from a2j_ros.ros.messages import rois_from_a2j, skeleton_array
import a2j_ros_msgs.msg as msgs

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


def test_reused_markers_are_refilled_not_rebuilt():
    reuse = {}
    first = skeleton_markers([np.zeros((3, 3)) + 0.5], _header(), BONES, reuse=reuse)
    spheres = first.markers[0]
    header = _header()
    header.stamp.sec = 9
    second = skeleton_markers([np.zeros((3, 3)) + 0.25], header, BONES, reuse=reuse)
    assert second.markers[0] is spheres and len(reuse) == 2
    assert spheres.header.stamp.sec == 9 and spheres.points[0].x == pytest.approx(0.25)
    assert len(second.markers[1].points) == 4 and second.markers[1].color.a == 1.0
    fresh = skeleton_markers([np.zeros((3, 3)) + 0.25], header, BONES)
    assert fresh.markers[0] is not spheres
    assert [(p.x, p.y, p.z) for p in fresh.markers[1].points] == \
        [(p.x, p.y, p.z) for p in second.markers[1].points]


def test_marker_options_from_parameter_lists():
    options = MarkerOptions(joint_color=[1, 0, 0], bone_color=[0, 0, 1, 0.5])
    out = skeleton_markers([np.zeros((3, 3)) + 0.5], _header(), [[0, 1], [1, 2]], options)
    assert (out.markers[0].color.r, out.markers[0].color.a) == (1.0, 1.0)
    assert (out.markers[1].color.b, out.markers[1].color.a) == (1.0, 0.5)
    assert len(out.markers[1].points) == 4 and out.markers[1].scale.x == pytest.approx(0.006)
    assert out.markers[1].scale.y == 0.0 and out.markers[0].scale.z == pytest.approx(0.012)


def test_skeleton_array_values_are_exact_and_nan_safe():
    layout = get_layout('nyu_hand_14')
    xyz = np.arange(42, dtype=np.float64).reshape(14, 3) * 10.0
    xyz[3] = np.nan
    result = PoseResult(joints_xyz_mm=xyz, joints_uvd=xyz.copy(),
                        confidence=np.linspace(0, 1, 14, dtype=np.float32),
                        roi=(0, 0, 2, 2), score=1.0, crop_box=(-3, 2, 5, 6))
    sk = skeleton_array([result, result], _header(), layout).skeletons
    assert [s.id for s in sk] == [0, 1]
    got = np.array([(p.x, p.y, p.z) for p in sk[0].joints])
    assert np.allclose(got, xyz * 1e-3, equal_nan=True)
    uvd = np.array([(p.x, p.y, p.z) for p in sk[0].joints_uvd])
    assert np.allclose(uvd[:, :2], xyz[:, :2], equal_nan=True)
    assert np.allclose(uvd[:, 2], xyz[:, 2] * 1e-3, equal_nan=True)
    assert list(sk[0].confidence) == pytest.approx(np.linspace(0, 1, 14))
    assert (sk[0].roi.x_offset, sk[0].roi.width) == (0, 5)
    assert result.joints_uvd[1, 2] == 50.0           # the result itself is not changed


def test_track_ids_name_and_colour_the_markers_and_lost_tracks_are_deleted():
    from a2j_ros.ros.markers import PALETTE
    joints = [np.zeros((3, 3)) + 0.5, np.zeros((3, 3)) + 0.6]
    reuse = {}
    out = skeleton_markers(joints, _header(), BONES, reuse=reuse, ids=[7, 2])
    assert [m.ns for m in out.markers] == ['a2j_7', 'a2j_7', 'a2j_2', 'a2j_2']
    # the colour follows the id (7 % 6 = 1), not the position in the frame
    assert out.markers[0].color.r == pytest.approx(PALETTE[1][0])
    out = skeleton_markers(joints[:1], _header(), BONES, reuse=reuse, ids=[2],
                           previous_ids=(7, 2))
    assert [(m.ns, m.action) for m in out.markers] == [
        ('a2j_2', Marker.ADD), ('a2j_2', Marker.ADD),
        ('a2j_7', Marker.DELETE), ('a2j_7', Marker.DELETE)]
    assert out.markers[0].color.r == pytest.approx(PALETTE[2][0])
    assert {key[0] for key in reuse} == {2}          # track 7's markers forgotten


def test_skeleton_id_is_the_track_id():
    layout = get_layout('nyu_hand_14')
    result = PoseResult(joints_xyz_mm=np.zeros((14, 3)) + 500.0,
                        joints_uvd=np.zeros((14, 3)) + 500.0, confidence=np.ones(14),
                        roi=(0, 0, 10, 10), score=1.0, crop_box=(0, 0, 10, 10), track_id=12)
    untracked = PoseResult(**{**result.__dict__, 'track_id': None})
    msg = skeleton_array([result, untracked], _header(), layout)
    assert [s.id for s in msg.skeletons] == [12, 1]
