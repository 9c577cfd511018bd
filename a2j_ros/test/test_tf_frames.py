"""Joint TF frames: names, parent frame, translation in metres, skipped joints."""
import numpy as np
import pytest

pytest.importorskip('geometry_msgs.msg')
from std_msgs.msg import Header  # noqa: E402

from a2j_ros.core.layouts import get_layout  # noqa: E402
from a2j_ros.core.pipeline import PoseResult  # noqa: E402
from a2j_ros.ros.tf_frames import joint_frame_name, joint_transforms  # noqa: E402


def _result(track_id, xyz_mm):
    return PoseResult(joints_xyz_mm=np.asarray(xyz_mm, dtype=np.float64),
                      joints_uvd=np.zeros((len(xyz_mm), 3)), confidence=np.ones(len(xyz_mm)),
                      roi=(0, 0, 1, 1), score=1.0, crop_box=(0, 0, 1, 1), track_id=track_id)


def test_one_frame_per_finite_joint_of_tracked_skeletons():
    layout = get_layout('itop_body_15')
    xyz = np.arange(45, dtype=np.float64).reshape(15, 3) * 10.0 + [0.0, 0.0, 2000.0]
    xyz[3] = np.nan                              # a joint without a position: no frame
    header = Header(frame_id='camera_depth_optical_frame')
    header.stamp.sec = 42
    out = joint_transforms([_result(5, xyz), _result(None, xyz)], header, layout, 'a2j_body_')
    assert len(out) == 14                        # 15 joints - 1 NaN; untracked skipped
    first = out[0]
    assert first.header.frame_id == 'camera_depth_optical_frame'
    assert first.header.stamp.sec == 42
    assert first.child_frame_id == f'a2j_body_5/{layout.joint_names[0]}'
    t = first.transform.translation
    assert (t.x, t.y, t.z) == pytest.approx((0.0, 0.01, 2.02))     # mm -> m
    assert first.transform.rotation.w == 1.0
    assert [o.child_frame_id.split('/')[1] for o in out] == [
        n for i, n in enumerate(layout.joint_names) if i != 3]


def test_frame_name():
    assert joint_frame_name('a2j_', 3, 'thumb_tip') == 'a2j_3/thumb_tip'
