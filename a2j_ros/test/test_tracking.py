"""Tracker: association, gating, birth, confirmation, death by stamp time, ids never reused.

Skeletons are 2 joints; every expected number is worked out in the comments.
"""
import numpy as np
import pytest

from a2j_ros.core.errors import InputError
from a2j_ros.core.tracking import (
    associate,
    association_cost,
    FORBIDDEN,
    SmoothingSettings,
    Tracker,
    TrackerSettings,
)

OFF = SmoothingSettings(enabled=False)


def skel(x, y=0.0, z=500.0):
    """Two joints 10 mm apart in x around (x, y, z)."""
    return np.array([[x - 5.0, y, z], [x + 5.0, y, z]])


def tracker(**kw):
    kw.setdefault('smoothing', OFF)
    kw.setdefault('min_hits', 1)
    return Tracker(TrackerSettings(**kw))


def test_cost_is_mean_joint_distance_and_skips_nan():
    det = np.stack([skel(0.0), skel(100.0)])
    trk = np.stack([skel(3.0), skel(0.0, y=4.0)])
    trk[1, 1] = np.nan                      # one joint unknown: mean over the other only
    cost = association_cost(det, trk)
    # det0-trk0: both joints 3 mm; det0-trk1: joint 0 only, 4 mm
    # det1-trk0: 97 mm; det1-trk1: joint 0 at (95,0) vs (-5,4): sqrt(100^2 + 4^2) = 100.080
    np.testing.assert_allclose(cost, [[3.0, 4.0], [97.0, 100.079968]], atol=1e-5)
    all_nan = np.full((1, 2, 3), np.nan)
    assert association_cost(det[:1], all_nan)[0, 0] == FORBIDDEN


def test_assignment_minimises_the_sum_and_gates():
    # greedy would take (0, 0) = 1 and leave (1, 1) = 50; the optimum is 10 + 10 = 20
    cost = np.array([[1.0, 10.0], [10.0, 50.0]])
    matches, rows, cols = associate(cost, gate=40.0)
    assert sorted(matches) == [(0, 1), (1, 0)] and rows == [] and cols == []
    # gate 5: only (0, 0) = 1 is allowed
    matches, rows, cols = associate(cost, gate=5.0)
    assert matches == [(0, 0)] and rows == [1] and cols == [1]
    assert associate(np.zeros((0, 2)), 5.0) == ([], [], [0, 1])


def test_ids_follow_instances_and_are_never_reused():
    t = tracker(gate_mm=30.0, timeout_s=0.25)
    u = t.update([skel(0.0), skel(200.0)], [np.ones(2)] * 2, 0.0)
    assert {i: tr.id for i, tr in u.assigned.items()} == {0: 1, 1: 2}
    # detections come in the other order and moved 10 mm: ids stay with the instances
    u = t.update([skel(210.0), skel(10.0)], [np.ones(2)] * 2, 0.1)
    assert {i: tr.id for i, tr in u.assigned.items()} == {0: 2, 1: 1}
    # 50 mm away from both: outside the 30 mm gate, a new track 3, and 1 is not updated
    u = t.update([skel(220.0), skel(60.0)], [np.ones(2)] * 2, 0.2)
    assert {i: tr.id for i, tr in u.assigned.items()} == {0: 2, 1: 3}
    # track 1 last seen at 0.1 s: still alive at 0.35 s (0.25 s), deleted at 0.36 s
    assert t.update([], [], 0.35).lost == []
    u = t.update([], [], 0.36)
    assert u.lost == [1]
    assert sorted(tr.id for tr in t.tracks) == [2, 3]
    # everything times out; a new instance gets id 4, not a reused one
    assert sorted(t.update([], [], 1.0).lost) == [2, 3]
    assert t.update([skel(0.0)], [np.ones(2)], 1.1).assigned[0].id == 4


def test_timeout_counts_stamp_time_not_frames():
    t = tracker(gate_mm=30.0, timeout_s=0.5)
    t.update([skel(0.0)], [np.ones(2)], 0.0)
    # 40 empty frames within 0.4 s: the track survives
    for k in range(1, 41):
        assert t.update([], [], k * 0.01).lost == []
    # one frame 0.51 s after the last detection: gone
    assert t.update([], [], 0.51).lost == [1]


def test_confirmation_after_min_hits_and_tentative_dies_on_a_miss():
    t = tracker(min_hits=3, gate_mm=30.0)
    for k, stamp in enumerate((0.0, 0.1)):
        u = t.update([skel(k)], [np.ones(2)], stamp)
        assert u.assigned == {} and list(u.tentative) == [0]
    u = t.update([skel(2.0)], [np.ones(2)], 0.2)
    assert u.assigned[0].id == 1 and u.assigned[0].confirmed
    # a second instance appears once and is missed in the next frame: dropped silently
    t.update([skel(2.0), skel(300.0)], [np.ones(2)] * 2, 0.3)
    u = t.update([skel(2.0)], [np.ones(2)], 0.4)
    assert u.lost == [] and [tr.id for tr in t.tracks] == [1]


def test_constant_velocity_prediction_keeps_a_fast_instance():
    # 0 -> 20 mm in 0.1 s (inside the 25 mm gate): velocity 200 mm/s;
    # 20 -> 60 mm: 40 mm off the last position, 0 mm off the prediction (20 + 200 * 0.1)
    t = tracker(gate_mm=25.0, velocity_smoothing=1.0, max_prediction_s=0.5)
    for x, stamp in ((0.0, 0.0), (20.0, 0.1), (60.0, 0.2)):
        assert t.update([skel(x)], [np.ones(2)], stamp).assigned[0].id == 1
    # velocity now 400 mm/s; a frame dropped: 0.2 s later at 140 = 60 + 400 * 0.2
    assert t.update([skel(140.0)], [np.ones(2)], 0.4).assigned[0].id == 1
    # without prediction (horizon 0) the same jump opens a new track
    t = tracker(gate_mm=25.0, velocity_smoothing=1.0, max_prediction_s=0.0)
    for x, stamp in ((0.0, 0.0), (20.0, 0.1)):
        t.update([skel(x)], [np.ones(2)], stamp)
    assert t.update([skel(60.0)], [np.ones(2)], 0.2).assigned[0].id == 2


def test_duplicate_and_low_confidence_detections_start_no_track():
    t = tracker(gate_mm=30.0, min_confidence=0.5)
    t.update([skel(0.0)], [np.ones(2)], 0.0)
    # a second crop of the same hand 12 mm off: a duplicate, not a new track
    u = t.update([skel(2.0), skel(12.0), skel(300.0)],
                 [np.ones(2), np.ones(2), np.full(2, 0.2)], 0.1)
    assert u.assigned[0].id == 1 and u.duplicates == [1] and u.ignored == [2]
    assert len(t.tracks) == 1


def test_stamp_going_back_ends_all_tracks():
    t = tracker(timeout_s=0.5)
    t.update([skel(0.0)], [np.ones(2)], 100.0)
    u = t.update([skel(0.0)], [np.ones(2)], 1.0)       # bag restarted
    assert u.lost == [1] and u.assigned[0].id == 2


def test_smoothing_is_applied_per_track_and_changeable():
    t = Tracker(TrackerSettings(min_hits=1, smoothing=SmoothingSettings(
        min_cutoff=1.0, beta=0.0, d_cutoff=1.0)))
    t.update([skel(0.0)], [np.ones(2)], 0.0)
    track = t.update([skel(10.0)], [np.ones(2)], 0.1).assigned[0]
    # One Euro at 1 Hz, te = 0.1 s: alpha = 0.385870, x moves 10 * 0.385870 = 3.858695
    np.testing.assert_allclose(track.smoothed[:, 0], [-5 + 3.858695, 5 + 3.858695], atol=1e-5)
    t.set_smoothing(SmoothingSettings(enabled=False))
    track = t.update([skel(20.0)], [np.ones(2)], 0.2).assigned[0]
    np.testing.assert_allclose(track.smoothed, skel(20.0))


@pytest.mark.parametrize('kw', [{'gate_mm': 0}, {'min_hits': 0}, {'timeout_s': -1},
                                {'velocity_smoothing': 0}])
def test_bad_settings_are_refused(kw):
    with pytest.raises(InputError):
        TrackerSettings(**kw).check()


def test_two_tracks_on_one_instance_keep_the_steadier_one():
    t = tracker(gate_mm=60.0, velocity_smoothing=1.0)
    t.update([skel(0.0), skel(100.0)], [np.ones(2)] * 2, 0.0)
    # track 2 jumps 50 mm toward track 1 (cost 50: running cost 0.3 * 50 = 15)
    u = t.update([skel(0.0), skel(50.0)], [np.ones(2)] * 2, 0.1)
    assert sorted(tr.id for tr in u.assigned.values()) == [1, 2] and u.lost == []
    # both now on one instance (10 mm apart < gate / 2): track 2 (running cost >= 10.5,
    # track 1's <= 3) is deleted as a duplicate, its detection dropped
    u = t.update([skel(0.0), skel(10.0)], [np.ones(2)] * 2, 0.2)
    assert u.lost == [2] and [tr.id for tr in u.assigned.values()] == [1]
    assert len(u.duplicates) == 1 and [tr.id for tr in t.tracks] == [1]
