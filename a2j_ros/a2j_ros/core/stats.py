"""The one percentile of the package (ROI search, hand centres, replay reports, benches)."""
import math

import numpy as np


def percentile(values, q):
    """Return the q-th percentile of ``values`` (numpy's default linear rule), None if empty.

    One ``np.partition`` instead of a sort: the same number as ``np.percentile``, faster on
    the large pixel arrays of the ROI search.
    """
    values = np.asarray(values).ravel()
    if values.size == 0:
        return None
    h = q / 100.0 * (values.size - 1)
    lo = int(math.floor(h))
    hi = min(lo + 1, values.size - 1)
    part = np.partition(values, sorted({lo, hi}))
    return float(part[lo]) + (h - lo) * (float(part[hi]) - float(part[lo]))


__all__ = ['percentile']
