"""The One Euro filter (Casiez, Roussel, Vogel, CHI 2012), vectorised, driven by stamps.

Each coordinate x of each joint is low-pass filtered with a cutoff that grows with its speed:
slow motion is smoothed hard (no jitter), fast motion lightly (little lag). With the time
step ``te`` (seconds) between two samples and ``alpha(fc) = 1 / (1 + tau / te)``,
``tau = 1 / (2 pi fc)``, the published definition is::

    dx_i   = (x_i - xhat_{i-1}) / te                       (derivative of the signal)
    dxhat_i = alpha(d_cutoff) dx_i + (1 - alpha(d_cutoff)) dxhat_{i-1}
    fc_i   = min_cutoff + beta |dxhat_i|
    xhat_i = alpha(fc_i) x_i + (1 - alpha(fc_i)) xhat_{i-1}

with ``xhat_0 = x_0`` and ``dxhat_0 = 0``. ``te`` comes from the samples' stamps, so a
variable frame rate or dropped frames change the smoothing as they should (a longer gap
lets the output move further toward the new sample). Units: ``min_cutoff`` and
``d_cutoff`` in Hz, ``beta`` in 1 / (unit of x), here 1/mm since the core works in mm.

Non-finite values (a 2D model's missing depth) pass through and leave that coordinate's
state alone. A sample whose stamp is not after the previous one is returned filtered with
the previous output (it carries no time step). ``enabled = False`` (or ``min_cutoff <= 0``)
passes samples through unfiltered and forgets the state.
"""
import math

import numpy as np


def smoothing_factor(te, cutoff):
    """Return alpha = 1 / (1 + tau / te), tau = 1 / (2 pi cutoff); arrays broadcast."""
    return 1.0 / (1.0 + 1.0 / (2.0 * math.pi * np.asarray(cutoff, dtype=np.float64) * te))


class OneEuroFilter:
    """One Euro filter over an array of any fixed shape (e.g. joints x 3), one per track."""

    def __init__(self, min_cutoff=1.0, beta=0.0, d_cutoff=1.0, enabled=True):
        self.min_cutoff = float(min_cutoff)
        self.beta = float(beta)
        self.d_cutoff = float(d_cutoff)
        self.enabled = bool(enabled)
        self.reset()

    def reset(self):
        """Forget the state: the next sample is output as is."""
        self._x = None          # previous output xhat
        self._dx = None         # previous derivative estimate dxhat (unit / s)
        self._t = None          # previous stamp (s)
        self._all_finite = False

    @property
    def active(self):
        """Whether samples are filtered (enabled and a positive min_cutoff)."""
        return self.enabled and self.min_cutoff > 0.0 and self.d_cutoff > 0.0

    def __call__(self, x, stamp_s):
        """Return the filtered copy of ``x`` for the sample stamped ``stamp_s`` (seconds)."""
        x = np.asarray(x, dtype=np.float64)
        if not self.active:
            self.reset()
            return x.copy()
        if self._x is None or self._x.shape != x.shape:
            self._x, self._dx, self._t = x.copy(), np.zeros_like(x), float(stamp_s)
            self._all_finite = bool(np.isfinite(x).all())
            return x.copy()
        te = float(stamp_s) - self._t
        if not te > 0.0:             # same or older stamp: no time step, keep the state
            return np.where(np.isfinite(x) & np.isfinite(self._x), self._x, x)
        a_d = smoothing_factor(te, self.d_cutoff)
        if self._all_finite and np.isfinite(x).all():      # the common case, fewer passes
            dx_hat = a_d * ((x - self._x) / te) + (1.0 - a_d) * self._dx
            a = smoothing_factor(te, self.min_cutoff + self.beta * np.abs(dx_hat))
            out = self._x + a * (x - self._x)
            self._x, self._dx, self._t = out, dx_hat, float(stamp_s)
            return out.copy()
        finite = np.isfinite(x)
        fresh = finite & ~np.isfinite(self._x)          # first finite value of a coordinate
        known = finite & np.isfinite(self._x)
        dx = np.zeros_like(x)
        dx[known] = (x[known] - self._x[known]) / te
        dx_hat = np.where(known, a_d * dx + (1.0 - a_d) * self._dx, self._dx)
        cutoff = self.min_cutoff + self.beta * np.abs(dx_hat)
        a = smoothing_factor(te, cutoff)
        out = np.where(known, a * x + (1.0 - a) * self._x, x)
        self._x = np.where(known | fresh, out, self._x)
        self._dx = np.where(fresh, 0.0, dx_hat)
        self._t = float(stamp_s)
        self._all_finite = bool(np.isfinite(self._x).all())
        return out

    @property
    def velocity(self):
        """Return the filter's derivative estimate dxhat (unit / s), or None before a sample."""
        return None if self._dx is None else self._dx.copy()


__all__ = ['OneEuroFilter', 'smoothing_factor']
