"""Regions of interest without a detector, and hand crop centres from a region.

ROIs are boxes ``(x, y, width, height)`` in full-image pixels (the fields of a
sensor_msgs/RegionOfInterest), held as an (M, 4) int64 array with an (M,) float32 score.

Sources:

* ``nearest`` (hands): the hand is the nearest connected blob of pixels inside a depth band
  that starts at the nearest valid depth, the assumption of the hand datasets (NYU, ICVL,
  HANDS 2017 crop the hand the same way). Several hands are several blobs of the same band.
* ``largest`` (bodies): a person is the largest connected blob of the foreground, i.e. of the
  valid pixels between the minimum and maximum depth.
* ``full_frame``: one ROI covering the whole image.

Where these assumptions break is written down in docs/node.md. Depth is float32 millimetres
with 0 or NaN invalid, as everywhere in the core.
"""
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from a2j_ros.core.errors import InputError

ROI_SOURCES = ('topic', 'nearest', 'full_frame')
# 8-connectivity: diagonal neighbours belong to the same blob (thin fingers stay whole).
_EIGHT = np.ones((3, 3), dtype=bool)


@dataclass
class RoiSearch:
    """Settings of the detector-free ROI sources (millimetres and pixels)."""

    min_depth_mm: float = 100.0       # nearer than this is sensor noise or the lens cover
    max_depth_mm: float = 1500.0      # farther than this is background
    hand_band_mm: float = 150.0       # hand: depth band behind the nearest valid pixel
    min_pixels: int = 60              # smaller blobs are noise (flying pixels, speckle)
    max_instances: int = 1
    near_percentile: float = 0.5      # 'nearest depth' = this percentile, robust to speckle


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


def _valid_mask(depth, min_mm, max_mm):
    with np.errstate(invalid='ignore'):
        return (depth >= min_mm) & (depth <= max_mm)


def _check_depth(depth):
    if not isinstance(depth, np.ndarray) or depth.ndim != 2 or min(depth.shape) < 2:
        shape = getattr(depth, 'shape', None)
        raise InputError(f'depth image must be a 2-D numpy array, got shape {shape}')
    return depth.astype(np.float32, copy=False)


def _boxes_of(labels, ids):
    """Return the (M, 4) x, y, w, h bounding boxes of the labelled blobs ``ids``."""
    slices = ndimage.find_objects(labels)
    rows = []
    for i in ids:
        rs, cs = slices[i - 1]
        rows.append((cs.start, rs.start, cs.stop - cs.start, rs.stop - rs.start))
    return np.asarray(rows, dtype=np.int64).reshape(-1, 4)


def _blob_minima(depth, labels, mask, count):
    """Return the smallest depth of each of the ``count`` labelled blobs (in label order).

    One sort of the masked pixels instead of ``ndimage.minimum`` (8x faster here).
    """
    values, owners = depth[mask], labels[mask]
    order = np.argsort(values, kind='stable')
    first = np.unique(owners[order], return_index=True)
    minima = np.full(count, np.inf)
    minima[first[0] - 1] = values[order][first[1]]
    return minima


def nearest_hand_rois(depth_mm, search=None):
    """Find hands as the nearest blobs: return ``(rois (M, 4), scores (M,))``, M <= max.

    Valid pixels lie in [min_depth_mm, max_depth_mm]; the band runs from the nearest valid
    depth (a low percentile, so single flying pixels do not set it) to ``hand_band_mm``
    behind it. Connected blobs of the band with at least ``min_pixels`` pixels are hands,
    nearest first. The score is the blob's share of the band's pixels.
    """
    search = search or RoiSearch()
    depth = _check_depth(depth_mm)
    valid = _valid_mask(depth, search.min_depth_mm, search.max_depth_mm)
    if np.count_nonzero(valid) < search.min_pixels:
        return empty_rois()
    near = float(np.percentile(depth[valid], search.near_percentile))
    band = valid & (depth <= near + search.hand_band_mm)
    labels, count = ndimage.label(band, structure=_EIGHT)
    if count == 0:
        return empty_rois()
    ids = np.arange(1, count + 1)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    nearest = _blob_minima(depth, labels, band, count)
    keep = sizes >= search.min_pixels
    if not np.any(keep):
        return empty_rois()
    ids, sizes, nearest = ids[keep], sizes[keep], nearest[keep]
    order = np.argsort(nearest, kind='stable')[:max(int(search.max_instances), 0)]
    scores = (sizes[order] / float(np.count_nonzero(band))).astype(np.float32)
    return _boxes_of(labels, ids[order]), scores


def largest_body_rois(depth_mm, search=None):
    """Find people as the largest foreground blobs: ``(rois (M, 4), scores (M,))``, largest first.

    Foreground = valid pixels in [min_depth_mm, max_depth_mm]. A binary opening first cuts
    one-pixel bridges (noise, a thin cable) between blobs. The score is the blob's share of
    the foreground pixels.
    """
    search = search or RoiSearch()
    depth = _check_depth(depth_mm)
    foreground = _valid_mask(depth, search.min_depth_mm, search.max_depth_mm)
    foreground = ndimage.binary_opening(foreground, structure=np.ones((3, 3), bool))
    labels, count = ndimage.label(foreground, structure=_EIGHT)
    if count == 0:
        return empty_rois()
    ids = np.arange(1, count + 1)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    keep = sizes >= search.min_pixels
    if not np.any(keep):
        return empty_rois()
    ids, sizes = ids[keep], sizes[keep]
    order = np.argsort(-sizes, kind='stable')[:max(int(search.max_instances), 0)]
    scores = (sizes[order] / float(np.count_nonzero(foreground))).astype(np.float32)
    return _boxes_of(labels, ids[order]), scores


def full_frame_roi(height, width):
    """Return one ROI covering a width x height image, score 1."""
    return (np.array([[0, 0, int(width), int(height)]], dtype=np.int64),
            np.ones(1, dtype=np.float32))


def find_rois(depth_mm, source, mode, search=None):
    """Return ``(rois, scores)`` of a detector-free ``source`` ('nearest' or 'full_frame').

    ``mode`` is 'hand' (nearest blob in a depth band) or 'body' (largest foreground blob).
    """
    if source == 'full_frame':
        depth = _check_depth(depth_mm)
        return full_frame_roi(*depth.shape)
    if source != 'nearest':
        raise InputError(f'ROI source {source!r} does not find ROIs by itself; '
                         "use 'nearest' or 'full_frame'")
    if mode == 'hand':
        return nearest_hand_rois(depth_mm, search)
    if mode == 'body':
        return largest_body_rois(depth_mm, search)
    raise InputError(f"mode must be 'hand' or 'body', got {mode!r}")


def hand_centre(depth_mm, roi, band_mm=150.0, depth_offset_mm=15.0, min_mm=1.0,
                max_mm=np.inf, near_percentile=2.0):
    """Return the hand crop centre (u, v, d mm) of ``roi`` (x, y, w, h), or None.

    (u, v) is the ROI's centre pixel. d is the median depth of the ROI's nearest depth band
    (from a low percentile of its valid depth to ``band_mm`` behind it: the hand, not the
    wall or the arm behind it) plus ``depth_offset_mm``: the joints lie inside the hand,
    behind the surface the camera sees (on the synthetic hands the joints' mean is a median
    18 mm behind the visible surface; docs/node.md). None when the ROI has no valid depth.
    """
    x, y, w, h = (int(v) for v in roi)
    patch = depth_mm[y:y + h, x:x + w]
    valid = _valid_mask(patch, max(min_mm, 1e-6), max_mm)
    if not np.any(valid):
        return None
    values = patch[valid]
    near = float(np.percentile(values, near_percentile))
    depth = float(np.median(values[values <= near + band_mm]))
    return np.array([x + (w - 1) / 2.0, y + (h - 1) / 2.0, depth + depth_offset_mm])


__all__ = ['ROI_SOURCES', 'RoiSearch', 'as_rois', 'clip_roi', 'empty_rois', 'find_rois',
           'full_frame_roi', 'hand_centre', 'largest_body_rois', 'nearest_hand_rois']
