"""Temporal metrics on tiny hand-made sequences (one joint per skeleton unless said)."""
import numpy as np

from a2j_ros.core.temporal_metrics import temporal_metrics


def one(x, y=0.0, z=500.0):
    """One skeleton of one joint, shape (1, 1, 3)."""
    return np.array([[[x, y, z]]], dtype=np.float64)


def test_jitter_jumps_and_error_of_one_track():
    stamps = [0.0, 0.1, 0.2, 0.3]
    pred = [one(x) for x in (0.0, 1.0, 0.0, 1.0)]
    gt = [one(0.0)] * 4
    ids = [[1]] * 4
    m = temporal_metrics(stamps, pred, ids, gt, [[1]] * 4, jump_mm=1.5)
    # second differences: |0 - 2 + 0| = 2 and |1 - 0 + 1| = 2; the truth stands still
    assert m['jitter_mm'] == 2.0 and m['gt_jitter_mm'] == 0.0
    assert m['mean_error_mm'] == 0.5 and m['centre_jumps'] == 0     # steps of 1 mm
    assert temporal_metrics(stamps, pred, ids, gt, [[1]] * 4, jump_mm=0.5)['centre_jumps'] == 3
    assert m['id_switches'] == 0 and m['mota'] == 1.0 and m['max_track_gap_s'] == 0.1


def test_true_motion_is_not_a_jump_and_a_dropped_frame_is_no_jitter_triple():
    # the truth moves 30 mm per frame and the prediction with it: no jump
    stamps = [0.0, 0.1, 0.3, 0.4]          # a frame dropped between 0.1 and 0.3
    gt = [one(30.0 * k) for k in range(4)]
    pred = [one(30.0 * k + (1.0 if k == 3 else 0.0)) for k in range(4)]
    m = temporal_metrics(stamps, pred, [[1]] * 4, gt, [[1]] * 4)
    assert m['centre_jumps'] == 0
    # triples (0, .1, .3) and (.1, .3, .4) have unequal steps: no jitter measured
    assert m['jitter_mm'] is None


def test_id_switch_fragmentation_and_reentry():
    # two instances far apart; the tracker swaps their ids in frame 2 (2 switches), misses
    # instance 1 in frame 3 (a fragmentation once it is found again in frame 4)
    a, b = one(0.0), one(500.0)
    both = np.concatenate([a, b])
    stamps = [0.0, 0.1, 0.2, 0.3, 0.4]
    pred = [both, both, both, b, both]
    pred_ids = [[1, 2], [1, 2], [2, 1], [1], [2, 1]]
    gt = [both] * 5
    m = temporal_metrics(stamps, pred, pred_ids, gt, [[7, 8]] * 5)
    assert m['id_switches'] == 2 and m['fragmentations'] == 1 and m['misses'] == 1
    assert m['per_track'][7]['predicted_ids'] == [1, 2]
    # MOTA = 1 - (1 miss + 0 fp + 2 switches) / 10
    assert m['mota'] == 0.7


def test_reentry_with_a_new_id_is_not_a_switch():
    a, b = one(0.0), one(500.0)
    both = np.concatenate([a, b])
    stamps = [0.0, 0.1, 0.2, 0.3, 0.4]
    # instance 8 leaves the ground truth in frames 2-3 and returns as predicted id 5
    gt = [both, both, a, a, both]
    gt_ids = [[7, 8], [7, 8], [7], [7], [7, 8]]
    pred = [both, both, a, a, both]
    pred_ids = [[1, 2], [1, 2], [1], [1], [1, 5]]
    m = temporal_metrics(stamps, pred, pred_ids, gt, gt_ids)
    assert m['id_switches'] == 0
    assert m['reentries'] == [{'gt_track': 8, 'absent_s': 0.2, 'id_before': 2,
                               'id_after': 5, 'new_id': True}]
    assert m['predicted_ids'] == [1, 2, 5] and m['max_track_gap_s'] == 0.1


def test_lag_of_a_delayed_output():
    # the output repeats the truth two frames late: 2 x 0.1 s = 200 ms
    stamps = np.arange(10) * 0.1
    gt = [one(10.0 * k) for k in range(10)]
    pred = [one(10.0 * (k - 2)) for k in range(10)]
    m = temporal_metrics(stamps, pred, [[1]] * 10, gt, [[1]] * 10, match_mm=50.0)
    assert m['lag_ms'] == 200.0 and m['mean_error_mm'] == 20.0


def test_far_predictions_are_misses_and_false_positives():
    m = temporal_metrics([0.0], [one(1000.0)], [[1]], [one(0.0)], [[1]], match_mm=100.0)
    assert m['misses'] == 1 and m['false_positives'] == 1 and m['mean_error_mm'] is None


def test_plot_draws_each_ground_truth_track(tmp_path):
    from a2j_ros.core.temporal_metrics import plot_temporal
    a, b = one(0.0), one(500.0)
    both = np.concatenate([a, b])
    m = temporal_metrics([0.0, 0.1, 0.2], [both] * 3, [[1, 2]] * 3, [both] * 3, [[7, 8]] * 3)
    assert sorted(m['series']) == [7, 8]
    np.testing.assert_array_equal(m['series'][8]['ids'], [2, 2, 2])
    path = plot_temporal(m, tmp_path / 'temporal.png')
    assert (tmp_path / 'temporal.png').read_bytes()[:4] == b'\x89PNG' and path.endswith('.png')
