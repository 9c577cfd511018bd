"""The replay report's temporal section, from a hand-made ReplayRecord."""
import numpy as np

from a2j_ros.bag.frames import GroundTruth
from a2j_ros.bag.replay_record import FrameOutcome, ReplayRecord
from a2j_ros.bag.temporal_report import format_temporal, temporal_section


def _outcome(i, x_pred, x_true, track_id=3, gt_id=1):
    pred = np.zeros((1, 14, 3)) + [x_pred, 0.0, 500.0]
    truth = np.zeros((1, 14, 3)) + [x_true, 0.0, 500.0]
    out = FrameOutcome(index=i, stamp_ns=10**9 + i * 100_000_000, pred_xyz_mm=pred,
                       pred_uvd=pred.copy(), confidence=np.ones((1, 14)),
                       rois=np.zeros((1, 4), np.int64),
                       ground_truth=GroundTruth('nyu_hand_14', truth, truth.copy(),
                                                track_ids=np.array([gt_id])))
    out.track_ids = np.array([track_id])
    return out


def test_section_measures_jitter_and_ids_and_draws_the_plot(tmp_path):
    # the truth moves 10 mm per frame (no second difference), the output 0, 12, 18, 32:
    # |18 - 2 * 12 + 0| = 6 and |32 - 2 * 18 + 12| = 8, mean 7; errors 0, 2, 2, 2: mean 1.5
    record = ReplayRecord(bag='x.mcap', mode='offline', layout='nyu_hand_14', frames=[
        _outcome(0, 0.0, 0.0), _outcome(1, 12.0, 10.0), _outcome(2, 18.0, 20.0),
        _outcome(3, 32.0, 30.0, track_id=4)])
    section = temporal_section(record, tmp_path / 'plots')
    assert section['jitter_mm'] == 7.0 and section['gt_jitter_mm'] == 0.0
    assert section['mean_error_mm'] == 1.5 and section['id_switches'] == 1
    assert section['predicted_ids'] == [3, 4] and section['tracked']
    assert (tmp_path / 'plots' / 'temporal.png').is_file() and 'series' not in section
    assert 'id switches 1' in format_temporal(section)


def test_no_ground_truth_no_section():
    out = _outcome(0, 0.0, 0.0)
    out.ground_truth = None
    record = ReplayRecord(bag='x.mcap', mode='offline', layout='nyu_hand_14', frames=[out])
    assert temporal_section(record) is None
    assert 'no ground truth' in format_temporal(None)
