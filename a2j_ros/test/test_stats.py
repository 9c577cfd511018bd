"""core.stats.percentile on hand-computed cases (numpy's linear rule)."""
import numpy as np
import pytest

from a2j_ros.core.stats import percentile


def test_hand_computed_percentiles():
    # [1, 2, 3, 4]: rank h = q/100 * 3; q=50 -> h=1.5 -> 2 + 0.5 * (3 - 2) = 2.5
    assert percentile([4, 1, 3, 2], 50) == 2.5
    # 0..10: q=95 -> h=9.5 -> 9.5; q=0 and q=100 are the extremes
    values = np.arange(11, dtype=np.float32)[::-1]
    assert percentile(values, 95) == pytest.approx(9.5)
    assert (percentile(values, 0), percentile(values, 100)) == (0.0, 10.0)
    assert percentile([7.0], 30) == 7.0


def test_empty_gives_none():
    assert percentile([], 50) is None
    assert percentile(np.zeros((0, 3)), 95) is None
