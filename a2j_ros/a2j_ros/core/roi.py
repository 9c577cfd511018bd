"""Regions of interest: the ROI array, clipping, and the hand crop centre inside an ROI.

ROIs are boxes ``(x, y, width, height)`` in full-image pixels (the fields of a
sensor_msgs/RegionOfInterest), held as an (M, 4) int64 array with an (M,) float32 score.
They come from a detector (the node's ``rois`` topic) or from the detector-free search of
``core.roi_search``. Depth is float32 millimetres with 0 or NaN invalid, as everywhere in the
core.
"""
import math

import numpy as np

from a2j_ros.core.errors import InputError
from a2j_ros.core.stats import percentile

CENTRE_PIXELS = 8192       # hand_centre reads about this many pixels of a larger ROI


def empty_rois():
    """Return an empty ROI array (0, 4) and its empty scores."""
    return np.zeros((0, 4), dtype=np.int64), np.zeros(0, dtype=np.float32)


def as_rois(rois):
    """Return ``rois`` as an (M, 4) int64 array of x, y, width, height (M may be 0)."""
    arr = np.asarray([] if rois is None else rois, dtype=np.float64)
    if arr.size == 0:
        return np.zeros((0, 4), dtype=np.int64)
    if arr.ndim == 1 and arr.shape[0] == 4:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise InputError(f'ROIs must have shape (M, 4) = x, y, width, height; got {arr.shape}')
    if not np.all(np.isfinite(arr)):
        raise InputError('ROIs contain non-finite values')
    return np.rint(arr).astype(np.int64)


def clip_roi(roi, width, height):
    """Return ``roi`` (x, y, w, h) clipped to a width x height image, or None if nothing is left.

    A ROI partly outside the image keeps its inside part; a ROI entirely outside or of zero
    (or negative) size gives None.
    """
    x, y, w, h = (int(v) for v in roi)
    if w <= 0 or h <= 0:
        return None
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, width), min(y + h, height)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return (x0, y0, x1 - x0, y1 - y0)


def valid_mask(depth, min_mm, max_mm):
    """Return the mask of pixels with depth in [min_mm, max_mm] (NaN is outside)."""
    with np.errstate(invalid='ignore'):
        return (depth >= min_mm) & (depth <= max_mm)


def full_frame_roi(height, width):
    """Return one ROI covering a width x height image, score 1."""
    return (np.array([[0, 0, int(width), int(height)]], dtype=np.int64),
            np.ones(1, dtype=np.float32))


def hand_centre(depth_mm, roi, band_mm=150.0, depth_offset_mm=15.0, min_mm=1.0,
                max_mm=np.inf, near_percentile=2.0):
    """Return the hand crop centre (u, v, d mm) of ``roi`` (x, y, w, h), or None.

    (u, v) is the ROI's centre pixel. d is the median depth of the ROI's nearest depth band
    (from a low percentile of its valid depth to ``band_mm`` behind it: the hand, not the
    wall or the arm behind it) plus ``depth_offset_mm``: the joints lie inside the hand,
    behind the surface the camera sees (on the synthetic hands the joints' mean is a median
    18 mm behind the visible surface; docs/node.md). None when the ROI has no valid depth.
    A large ROI is read on every n-th row and column, n = round(sqrt(pixels /
    CENTRE_PIXELS)) (2 from about 136 x 136 pixels): the statistics move by a fraction of a
    millimetre (docs/node.md), the time drops n^2 times.
    """
    x, y, w, h = (int(v) for v in roi)
    step = max(1, round(math.sqrt(max(w, 0) * max(h, 0) / CENTRE_PIXELS)))
    patch = depth_mm[y:y + h:step, x:x + w:step]
    valid = valid_mask(patch, max(min_mm, 1e-6), max_mm)
    if not np.any(valid):
        return None
    values = patch[valid]
    near = percentile(values, near_percentile)
    depth = percentile(values[values <= near + band_mm], 50.0)      # the median
    return np.array([x + (w - 1) / 2.0, y + (h - 1) / 2.0, depth + depth_offset_mm])


__all__ = ['CENTRE_PIXELS', 'as_rois', 'clip_roi', 'empty_rois', 'full_frame_roi', 'hand_centre',
           'valid_mask']
