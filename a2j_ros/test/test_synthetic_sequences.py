"""Moving synthetic sequences: determinism, smooth motion, visibility, track ids, make-bag."""
import numpy as np
import pytest

from a2j_ros.bag.reader import read_frames
from a2j_ros.cli import main as a2j_main
from a2j_ros.core.errors import InputError
from a2j_ros.core.synthetic.sequences import DURATION_S, open_sequence


def test_frames_are_deterministic_and_any_order():
    a = open_sequence('hand_drift', seed=2, rate_hz=30.0)
    b = open_sequence('hand_drift', seed=2, rate_hz=30.0)
    last = b[len(b) - 1]
    np.testing.assert_array_equal(a[len(a) - 1].depth_mm, last.depth_mm)
    np.testing.assert_array_equal(a[len(a) - 1].tracks[0].xyz_mm, last.tracks[0].xyz_mm)
    assert not np.array_equal(open_sequence('hand_drift', seed=3)[5].depth_mm, a[5].depth_mm)
    clean = open_sequence('hand_drift', seed=2, sensor=False)[5].depth_mm
    assert not np.array_equal(clean, a[5].depth_mm)
    assert a[5].stamp_s == pytest.approx(5 / 30.0)


def test_hand_drift_moves_smoothly_and_stays_in_view():
    seq = open_sequence('hand_drift', rate_hz=30.0)
    assert len(seq) == int(DURATION_S['hand_drift'] * 30) == 180
    centres = np.array([seq.joints_at(i)[1].mean(axis=0) for i in range(len(seq))])
    steps = np.linalg.norm(np.diff(centres, axis=0), axis=1)
    accel = np.linalg.norm(np.diff(centres, 2, axis=0), axis=1)
    assert steps.max() < 6.0 and accel.max() < 1.0          # mm per frame, mm per frame**2
    assert np.ptp(centres, axis=0).max() > 80.0             # it does move
    for i in (0, 90, 179):
        frame = seq[i]
        (track,) = frame.tracks
        assert track.track_id == 1 and track.visible and track.visible_fraction > 0.9
        # the arm runs to the bottom border: subject depth there, not wall
        wall = np.median(frame.depth_mm[0])
        bottom = frame.depth_mm[-1]
        assert np.any((bottom > 0) & (bottom < wall - 100.0))


def test_two_hands_enter_cross_leave_and_come_back():
    seq = open_sequence('two_hands', rate_hz=5.0, sensor=False)
    frames = [seq[i] for i in range(len(seq))]
    ids = {t.track_id for f in frames for t in f.tracks}
    assert ids == {1, 2}
    visible = np.array([[t.visible for t in f.tracks] for f in frames])       # (T, 2)
    assert not visible[0].any() and visible[5:8].all()                         # both enter
    # track 2 leaves through the border once for ~1.2 s, then comes back
    gone = np.flatnonzero(~visible[:, 1])
    spell = gone[gone > 12]                                     # after the crossing (1.6 s)
    assert np.all(np.diff(spell) == 1) and 1.0 <= len(spell) / 5.0 <= 1.4
    out = frames[spell[len(spell) // 2]].tracks[1]
    inside = (out.uvd[:, 0] >= 0) & (out.uvd[:, 0] <= 319)
    assert inside.mean() < 0.5
    assert visible[spell[-1] + 1:, 1].all()
    # the crossing: hand 1 in front hides part of hand 2 while their boxes overlap
    occluded = [f for f in frames[:spell[0]]
                if f.tracks[1].joint_visible.mean() < 1.0
                and np.all((f.tracks[1].uvd[:, 0] >= 0) & (f.tracks[1].uvd[:, 0] <= 319))]
    assert occluded
    for f in occluded:
        assert f.tracks[0].xyz_mm[:, 2].mean() < f.tracks[1].xyz_mm[:, 2].mean() - 80.0


def test_body_walk_crosses_the_view_feet_on_the_floor():
    seq = open_sequence('body_walk', rate_hz=5.0)
    assert seq.layout == 'itop_body_15' and seq.mode == 'body'
    joints = np.array([seq.joints_at(i)[1] for i in range(len(seq))])        # (T, 15, 3)
    assert np.ptp(joints[:, 8, 0]) > 1200.0                                   # torso x
    # the legs swing: the feet alternate in front
    feet_dz = joints[:, 13, 2] - joints[:, 14, 2]
    assert feet_dz.max() > 100.0 and feet_dz.min() < -100.0
    frame = seq[len(seq) // 2]
    assert frame.tracks[0].visible and frame.tracks[0].visible_fraction == 1.0
    cam = seq.camera
    uv = frame.tracks[0].uvd
    assert np.all((uv[:, 0] > 0) & (uv[:, 0] < cam.width - 1) & (uv[:, 1] > 0)
                  & (uv[:, 1] < cam.height - 1))


def test_unknown_sequence_and_rate():
    with pytest.raises(InputError, match='unknown sequence'):
        open_sequence('juggling')
    with pytest.raises(InputError, match='rate'):
        open_sequence('hand_drift', rate_hz=0)
    with pytest.raises(IndexError):
        open_sequence('hand_drift', rate_hz=1.0)[6]


def test_make_bag_sequence_writes_track_ids(tmp_path, capsys):
    out = tmp_path / 'two.mcap'
    assert a2j_main(['make-bag', '--dataset', 'synthetic_hand', '--sequence', 'two_hands',
                     '--rate', '2', '--encoding', '32FC1', '--out', str(out),
                     '--no-progress']) == 0
    frames = read_frames(out)
    assert len(frames) == 16 and frames[0].encoding == '32FC1'                # 8 s at 2 Hz
    assert len(frames[0].ground_truth.xyz_mm) == 0 and len(frames[0].rois) == 0
    seen = [list(f.ground_truth.track_ids) for f in frames if len(f.ground_truth.xyz_mm)]
    assert [1, 2] in seen and [1] in seen                                     # 2 gone a while
    seq = open_sequence('two_hands', rate_hz=2.0)
    truth = {t.track_id: t for t in seq[4].tracks}
    gt = frames[4].ground_truth
    for k, track_id in enumerate(gt.track_ids):
        np.testing.assert_allclose(gt.xyz_mm[k], truth[track_id].xyz_mm, atol=1e-3)
    np.testing.assert_allclose(frames[4].depth_mm, seq[4].depth_mm, atol=1e-3)


def test_make_bag_sequence_errors(tmp_path, capsys):
    out = str(tmp_path / 'x.mcap')
    assert a2j_main(['make-bag', '--dataset', 'synthetic_body', '--sequence', 'two_hands',
                     '--out', out, '--no-progress']) == 2
    assert 'use --dataset synthetic_hand' in capsys.readouterr().err
    assert a2j_main(['make-bag', '--dataset', 'synthetic_hand', '--no-sensor', '--out', out,
                     '--no-progress']) == 2
    assert '--no-sensor applies to --sequence' in capsys.readouterr().err
