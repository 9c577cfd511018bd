import numpy as np
import pytest

from a2j_ros.core import metrics
from a2j_ros.core.errors import InputError


def _pair():
    gt = np.zeros((3, 2, 3))
    pred = gt.copy()
    pred[0, 0, 0] = 3.0
    pred[0, 1, 1] = 4.0        # frame 0: errors 3, 4
    pred[1, 0] = [0, 3, 4]     # frame 1: errors 5, 0
    pred[2, 1, 2] = 12.0       # frame 2: errors 0, 12
    return pred, gt


def test_joint_errors_mean_and_per_joint():
    errors = metrics.joint_errors(*_pair())
    np.testing.assert_allclose(errors, [[3, 4], [5, 0], [0, 12]])
    assert metrics.mean_error(errors) == pytest.approx(24 / 6)
    np.testing.assert_allclose(metrics.per_joint_error(errors), [8 / 3, 16 / 3])


def test_success_curve_counts_frames_by_worst_joint_inclusive():
    errors = metrics.joint_errors(*_pair())       # worst per frame: 4, 5, 12
    curve = metrics.success_curve(errors, [0, 3.9, 4, 5, 11.99, 12, 80])
    np.testing.assert_allclose(curve, [0, 0, 1 / 3, 2 / 3, 2 / 3, 1, 1])
    assert len(metrics.success_curve(errors)) == 81


def test_map_uses_strictly_below_threshold_per_joint():
    errors = np.array([[99.9, 100.0], [150.0, 10.0], [0.0, 100.1], [50.0, 20.0]])
    overall, per_joint = metrics.map_at(errors, 100.0)
    np.testing.assert_allclose(per_joint, [75.0, 50.0])
    assert overall == pytest.approx(62.5)


def test_pdj_normalises_by_torso_diameter():
    # neck at (0, 0), hips at (-10, 40) and (10, 40): torso diameter 40 px.
    gt = np.zeros((1, 4, 2))
    gt[0, 1] = [-10, 40]
    gt[0, 2] = [10, 40]
    gt[0, 3] = [100, 100]
    torso = metrics.torso_diameter(gt, 0, (1, 2))
    assert torso.tolist() == [40.0]
    pred = gt.copy()
    pred[0, 0, 0] += 2.0       # 0.05 * 40 = 2: detected at every ratio (inclusive)
    pred[0, 1, 1] += 5.0       # within 0.15 and 0.20
    pred[0, 3] += [6.0, 8.0]   # 10 px: only at 0.25+, never here
    result = metrics.pdj(pred, gt, torso)
    assert sorted(result) == [0.05, 0.10, 0.15, 0.20]
    assert result[0.05][0] == pytest.approx(50.0)
    assert result[0.10][0] == pytest.approx(50.0)
    assert result[0.15][0] == pytest.approx(75.0)
    np.testing.assert_allclose(result[0.20][1], [100, 100, 100, 0])


def test_group_left_right_averages_pairs_in_order():
    grouped = metrics.group_left_right(['head', 'r_hand', 'l_hand', 'torso'], [1, 2, 4, 5])
    assert list(grouped.items()) == [('head', 1.0), ('hand', 3.0), ('torso', 5.0)]


def test_shape_mismatch_raises_input_error():
    with pytest.raises(InputError, match='same shape'):
        metrics.joint_errors(np.zeros((2, 3, 3)), np.zeros((2, 4, 3)))
    with pytest.raises(InputError, match='torso'):
        metrics.pdj(np.zeros((2, 3, 2)), np.zeros((2, 3, 2)), np.ones(3))
