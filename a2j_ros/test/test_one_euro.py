"""One Euro filter against the published definition (Casiez et al., CHI 2012), by hand.

alpha(te, fc) = 1 / (1 + tau / te), tau = 1 / (2 pi fc). The expected numbers below were
worked out by hand from that definition (values rounded to 6 places in the comments).
"""
import numpy as np
import pytest

from a2j_ros.core.one_euro import OneEuroFilter


def test_first_sample_passes_through():
    f = OneEuroFilter(min_cutoff=1.0, beta=0.0, d_cutoff=1.0)
    np.testing.assert_array_equal(f(np.array([[3.0, -2.0, 500.0]]), 10.0), [[3.0, -2.0, 500.0]])


def test_constant_cutoff_and_dropped_frame():
    # beta = 0: a plain first-order low-pass with cutoff 1 Hz.
    # t = 0.1: tau = 1 / (2 pi) = 0.159155, alpha = 1 / (1 + 1.591549) = 0.385870
    # t = 0.3 (a frame dropped: te = 0.2): alpha = 1 / (1 + 0.795775) = 0.556868,
    #   xhat = 0.556868 * 1 + 0.443132 * 0.385870 = 0.727856
    f = OneEuroFilter(min_cutoff=1.0, beta=0.0, d_cutoff=1.0)
    f(np.zeros((2, 3)), 0.0)
    out = f(np.ones((2, 3)), 0.1)
    np.testing.assert_allclose(out, 0.385870, atol=1e-6)
    out = f(np.ones((2, 3)), 0.3)
    np.testing.assert_allclose(out, 0.727856, atol=1e-6)


def test_speed_raises_the_cutoff():
    # beta = 0.1, samples 0 @ 0 s, 1 @ 0.1 s, 1 @ 0.2 s.
    # step 1: dx = 10 / s, dxhat = 0.385870 * 10 = 3.858695, fc = 1.385870 Hz,
    #   alpha = 1 / (1 + 0.114842 / 0.1) = 0.465460 -> xhat = 0.465460
    # step 2: dx = (1 - 0.465460) / 0.1 = 5.345400 (from the previous *output*),
    #   dxhat = 0.385870 * 5.345400 + 0.614130 * 3.858695 = 4.432369, fc = 1.443237 Hz,
    #   alpha = 0.475563 -> xhat = 0.475563 + 0.524437 * 0.465460 = 0.719668
    f = OneEuroFilter(min_cutoff=1.0, beta=0.1, d_cutoff=1.0)
    f(np.array([0.0]), 0.0)
    np.testing.assert_allclose(f(np.array([1.0]), 0.1), [0.465460], atol=1e-6)
    np.testing.assert_allclose(f.velocity, [3.858695], atol=1e-6)
    np.testing.assert_allclose(f(np.array([1.0]), 0.2), [0.719668], atol=1e-6)
    np.testing.assert_allclose(f.velocity, [4.432369], atol=1e-6)


def test_coordinates_are_filtered_independently():
    # one coordinate moves, the other stays: only the moving one lags
    f = OneEuroFilter(min_cutoff=1.0, beta=0.0)
    f(np.array([0.0, 5.0]), 0.0)
    np.testing.assert_allclose(f(np.array([1.0, 5.0]), 0.1), [0.385870, 5.0], atol=1e-6)


def test_old_stamp_keeps_state_and_nan_passes():
    f = OneEuroFilter(min_cutoff=1.0, beta=0.0)
    f(np.array([0.0, 0.0]), 1.0)
    # same stamp again: no time step, the previous output comes back
    np.testing.assert_array_equal(f(np.array([9.0, 9.0]), 1.0), [0.0, 0.0])
    out = f(np.array([1.0, np.nan]), 1.1)
    assert out[0] == pytest.approx(0.385870, abs=1e-6) and np.isnan(out[1])
    # the NaN left coordinate 1's state alone: its next sample is filtered from 0
    assert f(np.array([1.0, 1.0]), 1.2)[1] == pytest.approx(0.385870, abs=1e-6)


@pytest.mark.parametrize('kwargs', [{'enabled': False}, {'min_cutoff': 0.0}])
def test_switched_off_passes_samples_through(kwargs):
    f = OneEuroFilter(**kwargs)
    f(np.array([0.0]), 0.0)
    assert f(np.array([7.0]), 0.1)[0] == 7.0
