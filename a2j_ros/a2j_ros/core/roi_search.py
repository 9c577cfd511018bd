"""Regions of interest without a detector: where the hands or the people are in a depth image.

ROIs are the (M, 4) int64 arrays of ``core.roi`` with an (M,) float32 score.

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
import math

import numpy as np
from scipy import ndimage

from a2j_ros.core.camera import PinholeCamera
from a2j_ros.core.depth_image import check_depth_image
from a2j_ros.core.errors import InputError
from a2j_ros.core.roi import clip_roi, empty_rois, full_frame_roi, valid_mask
from a2j_ros.core.stats import percentile

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
    # Hand blobs are labelled on every ``stride``-th pixel and then refined at full
    # resolution (exact boxes); 0 = auto (about 120 rows), 1 = label the full image.
    stride: int = 0
    # With a camera: the hand is the part of the blob within this 3D radius of a mean-shift
    # centre that starts at the blob's distal end (not the forearm); 0 = the whole blob.
    hand_radius_mm: float = 60.0
    # With a camera: a nearest blob that is a large plane (a table reaching toward the
    # camera) is removed with its plane and the search repeated (at most MAX_PLANES times).
    reject_planes: bool = True


# A blob is a plane (table, wall) when PLANE_INLIERS of its points lie within PLANE_TOL_MM
# of their least-squares plane and it spans PLANE_EXTENT_MM along its long axis and
# PLANE_WIDTH_MM across; the valid pixels within PLANE_REMOVE_MM of that plane are then
# dropped. A hand with its forearm is neither flat (fingers, a 30 mm-radius arm) nor wide.
PLANE_TOL_MM = 10.0
PLANE_INLIERS = 0.85
PLANE_EXTENT_MM = 200.0
PLANE_WIDTH_MM = 120.0
PLANE_REMOVE_MM = 15.0
MAX_PLANES = 2
_MAX_POINTS = 1500          # hand/plane geometry uses at most about this many blob points


@dataclass
class _Blob:
    """A connected blob at full resolution: its box origin, mask, nearest depth, size."""

    y0: int
    x0: int
    mask: np.ndarray        # (h, w) bool, the blob inside its bounding box
    nearest: float          # smallest depth, mm
    size: int               # pixels
    points: tuple = None    # _blob_points' result, computed once

    @property
    def box(self):
        """Return the blob's bounding box (x, y, w, h)."""
        return (self.x0, self.y0, self.mask.shape[1], self.mask.shape[0])


def _check_camera(camera, depth):
    if camera is None:
        return None
    if not isinstance(camera, PinholeCamera):
        raise InputError(f'camera must be a PinholeCamera, got {type(camera).__name__}')
    camera.check_image_size(depth.shape[1], depth.shape[0])
    return camera


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


def _stride(stride, shape):
    """Return the labelling stride: ``stride`` if >= 1, else about 120 rows (480 rows: 4)."""
    return int(stride) if stride >= 1 else max(1, min(shape) // 120)


def _low_percentile(depth, valid, count, q, sample):
    """Return ``np.percentile(depth[valid], q)`` for a low ``q`` without gathering every pixel.

    ``count`` is the number of valid pixels, ``sample`` a subsample of their depths. The
    order statistics the linear percentile needs lie below a bound guessed from the sample;
    only the pixels below it are gathered (exact, and a full gather when the guess fails).
    """
    h = q / 100.0 * (count - 1)
    lo = int(math.floor(h))
    hi = min(lo + 1, count - 1)
    if sample.size >= 64:
        bound = np.percentile(sample, min(100.0, 2.0 * q + 1.0))
        with np.errstate(invalid='ignore'):
            values = depth[valid & (depth <= bound)]
        if values.size > hi:
            part = np.partition(values, sorted({lo, hi}))
            return float(part[lo]) + (h - lo) * (float(part[hi]) - float(part[lo]))
    return percentile(depth[valid], q)


def _refine(depth, band, labels, index, low_slice, stride):
    """Return the full-resolution _Blobs of low-resolution blob ``index``.

    The band is labelled again at full resolution inside the blob's box (grown by one
    stride); every component holding one of its sampled pixels is a blob (a low
    resolution blob may join full resolution blobs that do not touch). When a component
    reaches the window's edge the window grows (at last to the whole image).
    """
    height, width = band.shape
    rs, cs = low_slice
    seed_r, seed_c = np.nonzero(labels[low_slice] == index)
    seed_r = (seed_r + rs.start) * stride
    seed_c = (seed_c + cs.start) * stride
    r0, r1 = (rs.start - 1) * stride, rs.stop * stride + 1
    c0, c1 = (cs.start - 1) * stride, cs.stop * stride + 1
    for attempt in range(3):
        if attempt == 2:
            r0, r1, c0, c1 = 0, height, 0, width
        r0, c0, r1, c1 = max(r0, 0), max(c0, 0), min(r1, height), min(c1, width)
        window, _ = ndimage.label(band[r0:r1, c0:c1], structure=_EIGHT)
        ids = np.unique(window[seed_r - r0, seed_c - c0])
        boxes = ndimage.find_objects(window)
        if not any((b[0].start == 0 < r0) or (b[0].stop == r1 - r0 and r1 < height)
                   or (b[1].start == 0 < c0) or (b[1].stop == c1 - c0 and c1 < width)
                   for b in (boxes[i - 1] for i in ids)):
            break
        grow = max(r1 - r0, c1 - c0)
        r0, r1, c0, c1 = r0 - grow, r1 + grow, c0 - grow, c1 + grow
    blobs = []
    for i in ids:
        brs, bcs = boxes[i - 1]
        mask = window[brs, bcs] == i
        y0, x0 = r0 + brs.start, c0 + bcs.start
        patch = depth[y0:y0 + mask.shape[0], x0:x0 + mask.shape[1]]
        blobs.append(_Blob(y0, x0, mask, float(patch[mask].min()),
                           int(np.count_nonzero(mask))))
    return blobs


def _nearest_blobs(depth, valid, search, stride):
    """Return (the nearest blobs of the band, nearest first; the band's pixel count).

    With ``stride`` 1 the band is labelled at full resolution; otherwise on every
    stride-th pixel, and the candidate blobs (nearest first, a few more than needed) are
    refined at full resolution, so boxes, sizes and nearest depths are exact.
    """
    count = int(np.count_nonzero(valid))
    wanted = max(int(search.max_instances), 0)
    if count < search.min_pixels or wanted == 0:
        return [], 0
    low_valid = valid[::stride, ::stride]
    near = _low_percentile(depth, valid, count, search.near_percentile,
                           depth[::stride, ::stride][low_valid])
    with np.errstate(invalid='ignore'):
        band = valid & (depth <= near + search.hand_band_mm)
    low_band, low_depth = band[::stride, ::stride], depth[::stride, ::stride]
    labels, found = ndimage.label(low_band, structure=_EIGHT)
    if found == 0:
        return [], 0
    sizes = np.bincount(labels.ravel(), minlength=found + 1)[1:] * stride * stride
    minima = _blob_minima(low_depth, labels, low_band, found)
    # low resolution sizes are estimates: keep blobs down to half the minimum, check later
    ids = np.flatnonzero(sizes >= (search.min_pixels if stride == 1
                                   else 0.5 * search.min_pixels)) + 1
    ids = ids[np.argsort(minima[ids - 1], kind='stable')]
    slices = ndimage.find_objects(labels)
    blobs = []
    if stride == 1:
        for i in ids[:wanted]:
            rs, cs = slices[i - 1]
            blobs.append(_Blob(rs.start, cs.start, labels[rs, cs] == i, float(minima[i - 1]),
                               int(sizes[i - 1])))
        return blobs, int(np.count_nonzero(band))
    seen = set()
    for i in ids[:max(4, 3 * wanted)]:
        for blob in _refine(depth, band, labels, i, slices[i - 1], stride):
            key = (blob.y0, blob.x0, blob.mask.shape, blob.size)
            if blob.size >= search.min_pixels and key not in seen:
                seen.add(key)
                blobs.append(blob)
    blobs.sort(key=lambda b: (b.nearest, b.y0, b.x0 + int(np.argmax(b.mask[0]))))  # as label
    return blobs[:wanted], int(np.count_nonzero(band))


def _blob_points(depth, blob, camera):
    """Return (rows, cols, xyz mm) of about _MAX_POINTS pixels of ``blob``, and their step.

    Computed once per blob (the plane test and the hand box share them).
    """
    if blob.points is None:
        step = max(1, int(math.sqrt(blob.size / _MAX_POINTS)))
        rows, cols = np.nonzero(blob.mask[::step, ::step])
        rows = rows * step + blob.y0
        cols = cols * step + blob.x0
        uvd = np.stack([cols, rows, depth[rows, cols]], axis=1).astype(np.float64)
        blob.points = (rows, cols, camera.unproject(uvd), step)
    return blob.points


def _plane_of(depth, blob, camera):
    """Return (point, unit normal) of ``blob`` if it is a large plane (a table), else None."""
    _, _, xyz, _ = _blob_points(depth, blob, camera)
    if len(xyz) < 50:
        return None
    centre = xyz.mean(axis=0)
    _, _, axes = np.linalg.svd(xyz - centre, full_matrices=False)
    local = (xyz - centre) @ axes.T                 # long axis, across, off the plane
    if np.mean(np.abs(local[:, 2]) < PLANE_TOL_MM) < PLANE_INLIERS:
        return None
    low, high = np.percentile(local[:, :2], [3.0, 97.0], axis=0)
    length, width = high - low
    if length >= PLANE_EXTENT_MM and width >= PLANE_WIDTH_MM:
        return centre, axes[2]
    return None


def _remove_plane(depth, valid, camera, point, normal):
    """Clear the pixels of ``valid`` within PLANE_REMOVE_MM of a plane, in place.

    n . xyz = d (n_x (u - cx) / fx + n_y (v - cy) / fy + n_z): one multiply per pixel.
    """
    height, width = depth.shape
    along_u = (normal[0] * (np.arange(width) - camera.cx) / camera.fx).astype(np.float32)
    along_v = (normal[1] * (np.arange(height) - camera.cy) / camera.fy
               + normal[2]).astype(np.float32)
    with np.errstate(invalid='ignore'):
        distance = np.abs(depth * (along_v[:, None] + along_u[None, :])
                          - np.float32(point @ normal))
        valid &= ~(distance < PLANE_REMOVE_MM)


def _mean_shift(xyz, start, radius, iterations=10):
    """Return the mean of the points within ``radius`` of a centre moved there from ``start``.

    A flat-kernel mean shift: at most ``iterations`` steps, until a step is under 1 mm.
    """
    centre = start
    r2 = radius * radius
    for _ in range(iterations):
        offset = xyz - centre
        inside = (np.einsum('ij,ij->i', offset, offset) < r2).astype(np.float64)
        count = inside.sum()
        if count == 0:
            break
        step = inside @ offset / count              # mean of the inside points - centre
        centre = centre + step
        if step @ step < 1.0:
            break
    return centre


def _hand_box(depth, blob, camera, radius):
    """Return the ROI (x, y, w, h) of the hand part of a hand-and-forearm blob.

    The mean shift starts at the blob's distal end: the points farthest from where the
    blob touches the image border (the arm enters the view there), or, for a blob inside
    the view, its nearest points. The box is centred on the mean-shift centre's pixel and
    spans the points within ``radius`` of it (kept symmetric inside the image).
    """
    height, width = depth.shape
    rows, cols, xyz, step = _blob_points(depth, blob, camera)
    if len(xyz) == 0:
        return blob.box
    edge = (rows < step) | (rows >= height - step) | (cols < step) | (cols >= width - step)
    if np.any(edge):
        key = -np.linalg.norm(xyz - xyz[edge].mean(axis=0), axis=1)
    else:
        key = xyz[:, 2]
    end = key <= np.percentile(key, 1.0)
    centre = _mean_shift(xyz, xyz[end].mean(axis=0), radius)
    inside = np.linalg.norm(xyz - centre, axis=1) < radius
    if not np.any(inside):
        return blob.box
    u, v, _ = camera.project(centre)
    u, v = min(max(float(u), 0.0), width - 1.0), min(max(float(v), 0.0), height - 1.0)
    half_u = max(u - cols[inside].min(), cols[inside].max() - u) + step / 2.0
    half_v = max(v - rows[inside].min(), rows[inside].max() - v) + step / 2.0
    half_u = max(min(half_u, u, width - 1.0 - u), 1.0)
    half_v = max(min(half_v, v, height - 1.0 - v), 1.0)
    x0, y0 = int(round(u - half_u)), int(round(v - half_v))
    box = (x0, y0, int(round(u + half_u)) - x0 + 1, int(round(v + half_v)) - y0 + 1)
    return clip_roi(box, width, height) or blob.box


def nearest_hand_rois(depth_mm, search=None, camera=None):
    """Find hands as the nearest blobs: return ``(rois (M, 4), scores (M,))``, M <= max.

    Valid pixels lie in [min_depth_mm, max_depth_mm]; the band runs from the nearest valid
    depth (a low percentile, so single flying pixels do not set it) to ``hand_band_mm``
    behind it. Connected blobs (8-connected) of the band with at least ``min_pixels``
    pixels are hands, nearest first. The score is the blob's share of the band's pixels.

    Without ``camera`` the ROI is the blob's bounding box. With the depth image's
    PinholeCamera, a nearest blob that is a large plane (a table) is skipped, and the ROI
    is the hand part of the blob (``hand_radius_mm`` around a mean-shift centre started
    at the blob's distal end), not the forearm that the band also holds (docs/node.md).
    """
    search = search or RoiSearch()
    depth = check_depth_image(depth_mm)
    camera = _check_camera(camera, depth)
    valid = valid_mask(depth, search.min_depth_mm, search.max_depth_mm)
    stride = _stride(search.stride, depth.shape)
    for _ in range(MAX_PLANES + 1):
        blobs, band_count = _nearest_blobs(depth, valid, search, stride)
        plane = (_plane_of(depth, blobs[0], camera)
                 if camera is not None and search.reject_planes and blobs else None)
        if plane is None:
            break
        _remove_plane(depth, valid, camera, *plane)
    if not blobs:
        return empty_rois()
    if camera is not None and search.hand_radius_mm > 0:
        boxes = [_hand_box(depth, blob, camera, float(search.hand_radius_mm)) for blob in blobs]
    else:
        boxes = [blob.box for blob in blobs]
    scores = np.array([blob.size / float(band_count) for blob in blobs], dtype=np.float32)
    return np.asarray(boxes, dtype=np.int64).reshape(-1, 4), scores


def largest_body_rois(depth_mm, search=None):
    """Find people as the largest foreground blobs: ``(rois (M, 4), scores (M,))``, largest first.

    Foreground = valid pixels in [min_depth_mm, max_depth_mm]. A binary opening first cuts
    one-pixel bridges (noise, a thin cable) between blobs. The score is the blob's share of
    the foreground pixels.
    """
    search = search or RoiSearch()
    depth = check_depth_image(depth_mm)
    foreground = valid_mask(depth, search.min_depth_mm, search.max_depth_mm)
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


def find_rois(depth_mm, source, mode, search=None, camera=None):
    """Return ``(rois, scores)`` of a detector-free ``source`` ('nearest' or 'full_frame').

    ``mode`` is 'hand' (nearest blob in a depth band) or 'body' (largest foreground blob).
    ``camera`` (the depth image's PinholeCamera, optional) lets the hand search skip
    tables and box the hand rather than hand and forearm (``nearest_hand_rois``).
    """
    if source == 'full_frame':
        depth = check_depth_image(depth_mm)
        return full_frame_roi(*depth.shape)
    if source != 'nearest':
        raise InputError(f'ROI source {source!r} does not find ROIs by itself; '
                         "use 'nearest' or 'full_frame'")
    if mode == 'hand':
        return nearest_hand_rois(depth_mm, search, camera)
    if mode == 'body':
        return largest_body_rois(depth_mm, search)
    raise InputError(f"mode must be 'hand' or 'body', got {mode!r}")


__all__ = ['MAX_PLANES', 'ROI_SOURCES', 'RoiSearch', 'find_rois', 'largest_body_rois',
           'nearest_hand_rois']
