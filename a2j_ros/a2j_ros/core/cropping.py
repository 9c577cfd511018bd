"""Cropping depth images for the network and mapping joints between crop and image.

Hands (paper section 3.2; the crop arithmetic of the authors' test code, zhangboshen/A2J
``src/nyu.py`` and ``src/icvl.py``): a cube of +-``cube_xy_mm`` in world x and y around a
centre (u, v, d) is projected to a pixel box, the box is clamped to the image, the pixels
inside are resized to ``input_size`` squared by nearest neighbour, depth outside
centre +-``depth_thres_mm`` (and invalid depth) is set to the centre depth, the centre depth is
subtracted and the result normalised as (x - norm_mean) / norm_std. Depth target
T^d = mu * (Z - theta) with mu = 1 and theta = centre depth, in millimetres.

Bodies (``src/itop_side.py``): a bounding box, clamped and resized the same way, depth in
metres (``input_scale`` = 1e-3), normalised; T^d = mu * Z in metres with mu = 50, theta = 0.

Every crop is described by one row of a ``CropTransform`` (box, theta, depth scale, size), so a
whole batch maps crop predictions back to full-image (u, v, d mm) in one vectorised call
(``crop_to_image``), on numpy arrays or torch tensors.
"""
from dataclasses import dataclass

import numpy as np

from a2j_ros.core.camera import stack_last
from a2j_ros.core.depth_image import check_depth_image
from a2j_ros.core.errors import InputError

# Columns of a crop transform row.
U_MIN, V_MIN, U_MAX, V_MAX, THETA_MM, DEPTH_SCALE, SIZE = range(7)
NUM_PARAMS = 7


def image_to_crop(uvd, params):
    """Map full-image (u, v[, d mm]) of shape (N, J, 2|3) to crop (u', v'[, T^d]).

    ``params`` is (N, 7) (a ``CropTransform.params``); numpy or torch, same library as ``uvd``.
    """
    p = params[:, None, :]
    scale_u = p[..., SIZE] / (p[..., U_MAX] - p[..., U_MIN])
    scale_v = p[..., SIZE] / (p[..., V_MAX] - p[..., V_MIN])
    parts = [(uvd[..., 0] - p[..., U_MIN]) * scale_u, (uvd[..., 1] - p[..., V_MIN]) * scale_v]
    if uvd.shape[-1] == 3:
        parts.append((uvd[..., 2] - p[..., THETA_MM]) * p[..., DEPTH_SCALE])
    return stack_last(parts, uvd)


def crop_to_image(crop_uvd, params):
    """Map crop (u', v'[, T^d]) of shape (N, J, 2|3) back to full-image (u, v[, d mm]).

    The inverse of ``image_to_crop``; works on numpy arrays and torch tensors.
    """
    p = params[:, None, :]
    step_u = (p[..., U_MAX] - p[..., U_MIN]) / p[..., SIZE]
    step_v = (p[..., V_MAX] - p[..., V_MIN]) / p[..., SIZE]
    parts = [crop_uvd[..., 0] * step_u + p[..., U_MIN], crop_uvd[..., 1] * step_v + p[..., V_MIN]]
    if crop_uvd.shape[-1] == 3:
        parts.append(crop_uvd[..., 2] / p[..., DEPTH_SCALE] + p[..., THETA_MM])
    return stack_last(parts, crop_uvd)


@dataclass(frozen=True)
class CropTransform:
    """Where each crop of a batch came from: an (N, 7) float64 array, one row per crop.

    Columns: u_min, v_min, u_max, v_max (the clamped box in full-image pixels, as floats),
    theta_mm (depth subtracted for the target), depth_scale (T^d per millimetre: mu for
    hands, mu / 1000 for bodies), size (crop side in pixels).
    """

    params: np.ndarray

    def __post_init__(self):
        params = np.asarray(self.params, dtype=np.float64)
        if params.ndim != 2 or params.shape[1] != NUM_PARAMS:
            raise InputError(f'crop transform must be (N, {NUM_PARAMS}), got {params.shape}')
        object.__setattr__(self, 'params', params)

    def __len__(self):
        return len(self.params)

    def __getitem__(self, index):
        """Return the transforms of the crops selected by ``index`` (int, slice or array)."""
        return CropTransform(np.atleast_2d(self.params[index]))

    @classmethod
    def concat(cls, transforms):
        """Join several transforms into one, in order."""
        rows = [t.params for t in transforms]
        return cls(np.concatenate(rows) if rows else np.zeros((0, NUM_PARAMS)))

    @property
    def boxes(self):
        """Return the (N, 4) boxes (u_min, v_min, u_max, v_max) in full-image pixels."""
        return self.params[:, U_MIN:V_MAX + 1]

    def to_crop(self, uvd):
        """Map full-image (N, J, 2|3) joints into crop coordinates (training targets)."""
        return image_to_crop(np.asarray(uvd, dtype=np.float64), self.params)

    def to_image(self, crop_uvd):
        """Map crop predictions (N, J, 2|3), numpy or torch, back to full-image (u, v, d mm)."""
        if isinstance(crop_uvd, np.ndarray):
            return crop_to_image(crop_uvd.astype(np.float64, copy=False), self.params)
        import torch
        params = torch.as_tensor(self.params, dtype=crop_uvd.dtype, device=crop_uvd.device)
        return crop_to_image(crop_uvd, params)

    def to_xyz(self, crop_uvd, camera):
        """Map crop predictions (N, J, 3) to xyz mm in the camera's optical frame."""
        return camera.unproject(self.to_image(crop_uvd))


def _clamp_boxes(boxes, height, width, what):
    """Clamp (N, 4) float boxes to the image like the authors' code; reject empty ones."""
    out = boxes.copy()
    out[:, 0] = np.maximum(boxes[:, 0], 0.0)
    out[:, 1] = np.maximum(boxes[:, 1], 0.0)
    out[:, 2] = np.minimum(boxes[:, 2], width - 1.0)
    out[:, 3] = np.minimum(boxes[:, 3], height - 1.0)
    # Pixels are taken from the integer part of the box (the authors' int() slicing).
    cols = np.floor(out[:, 2]) - np.floor(out[:, 0])
    rows = np.floor(out[:, 3]) - np.floor(out[:, 1])
    bad = ~((cols >= 1) & (rows >= 1) & (out[:, 2] > out[:, 0]) & (out[:, 3] > out[:, 1]))
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f'{what} {i} covers no pixels of the {width}x{height} image '
                         f'(box u {boxes[i, 0]:.1f}..{boxes[i, 2]:.1f}, '
                         f'v {boxes[i, 1]:.1f}..{boxes[i, 3]:.1f}): outside or zero size')
    return out


def _sample_nearest(depth, boxes, size):
    """Resize the integer part of each box to size x size by nearest neighbour: (N, S, S).

    Source index = box start + floor(i * box side / S), the rule of OpenCV's INTER_NEAREST
    that the authors used. Returns a new float32 array the caller may modify.
    """
    start = np.floor(boxes[:, :2]).astype(np.int64)              # (N, 2) u0, v0
    side = np.floor(boxes[:, 2:]).astype(np.int64) - start        # (N, 2) w, h
    steps = np.arange(size, dtype=np.int64)
    cols = start[:, 0:1] + (steps[None, :] * side[:, 0:1]) // size   # (N, S)
    rows = start[:, 1:2] + (steps[None, :] * side[:, 1:2]) // size   # (N, S)
    out = np.empty((len(boxes), size, size), dtype=np.float32)
    for i in range(len(boxes)):
        # rows first (contiguous copies), then columns: faster than one 2D fancy index
        np.take(depth.take(rows[i], axis=0), cols[i], axis=1, out=out[i])
    return out


def _check_size(config):
    size = int(config.input_size)
    if size < 8:
        raise InputError(f'crop input_size must be >= 8, got {config.input_size}')
    if not config.norm_std > 0:
        raise InputError(f'crop norm_std must be > 0, got {config.norm_std}')
    return size


def hand_boxes(centres_uvd, camera, config, image_size):
    """Return the crop transform rows (N, 7) of hand cubes around ``centres_uvd`` (N, 3).

    ``image_size`` is (height, width). Centres with depth <= 0 or non-finite values, and
    cubes that fall outside the image, raise InputError naming the ROI.
    """
    centres = np.asarray(centres_uvd, dtype=np.float64)
    if centres.ndim != 2 or centres.shape[1] != 3:
        raise InputError(f'hand centres must have shape (N, 3), got {centres.shape}')
    bad = ~np.all(np.isfinite(centres), axis=1) | ~(centres[:, 2] > 0)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f'hand ROI {i}: centre (u, v, d) = {centres[i].tolist()} needs a '
                         f'finite depth > 0 mm')
    size = _check_size(config)
    # The cube's x/y extent at the centre depth, in pixels (same as projecting its corners).
    half_u = config.cube_xy_mm * abs(camera.fx) / centres[:, 2]
    half_v = config.cube_xy_mm * abs(camera.fy) / centres[:, 2]
    boxes = np.stack([centres[:, 0] - half_u, centres[:, 1] - half_v,
                      centres[:, 0] + half_u, centres[:, 1] + half_v], axis=1)
    boxes = _clamp_boxes(boxes, image_size[0], image_size[1], 'hand ROI')
    theta = centres[:, 2] if config.theta_is_centre else np.zeros(len(centres))
    params = np.empty((len(centres), NUM_PARAMS))
    params[:, :4] = boxes
    params[:, THETA_MM] = theta
    params[:, DEPTH_SCALE] = config.mu
    params[:, SIZE] = size
    return params


def crop_hands(depth, centres_uvd, camera, config):
    """Crop N hands from one depth image (mm) around centres (N, 3) = (u, v, d mm).

    Returns ``(crops, transform)``: crops float32 (N, S, S), normalised network input, and
    the CropTransform that maps predictions back. Invalid depth (0 or NaN) and depth outside
    the centre +-``depth_thres_mm`` band become 0 after centring, like background.
    """
    depth = check_depth_image(depth)
    camera.check_image_size(depth.shape[1], depth.shape[0])
    params = hand_boxes(centres_uvd, camera, config, depth.shape)
    size = int(params[0, SIZE]) if len(params) else _check_size(config)
    if not len(params):
        return np.zeros((0, size, size), np.float32), CropTransform(params)
    crops = _sample_nearest(depth, params[:, :4], size)                 # (N, S, S) mm
    centre_depth = np.asarray(centres_uvd, dtype=np.float32)[:, 2][:, None, None]
    crops -= centre_depth                                               # in place: fast
    # Keep depth within the band (centre +-depth_thres) that is also valid (> 0, not NaN):
    # after centring, depth 0 sits at exactly -centre, excluded by the strict lower bound.
    thres = np.float32(config.depth_thres_mm)
    lower = np.maximum(-centre_depth, -thres)
    with np.errstate(invalid='ignore'):
        drop = ~((crops > lower) & (crops < thres))
    # Pixels outside the band are set to the centre depth (the authors' rule), i.e. 0 here.
    np.copyto(crops, np.float32(0.0), where=drop)
    crops -= np.float32(config.norm_mean)
    crops /= np.float32(config.norm_std)
    return crops, CropTransform(params)


def crop_hand(depth, centre_uvd, camera, config):
    """Crop one hand: ``(crop (S, S) float32, CropTransform of length 1)``."""
    crops, transform = crop_hands(depth, np.asarray(centre_uvd, np.float64)[None], camera, config)
    return crops[0], transform


def body_boxes(boxes, config, image_size):
    """Return the crop transform rows (N, 7) of body boxes (N, 4) = (u_min, v_min, u_max, v_max).

    ``config.box_pad`` widens each box by that fraction of its side on every side first.
    """
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise InputError(f'body boxes must have shape (N, 4), got {boxes.shape}')
    bad = ~np.all(np.isfinite(boxes), axis=1)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f'body ROI {i}: box {boxes[i].tolist()} has non-finite values')
    size = _check_size(config)
    if config.box_pad:
        pad = np.stack([boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]], 1) * config.box_pad
        boxes = np.concatenate([boxes[:, :2] - pad, boxes[:, 2:] + pad], axis=1)
    boxes = _clamp_boxes(boxes, image_size[0], image_size[1], 'body ROI')
    params = np.empty((len(boxes), NUM_PARAMS))
    params[:, :4] = boxes
    params[:, THETA_MM] = 0.0
    params[:, DEPTH_SCALE] = config.mu / 1000.0          # T^d = mu * Z in metres
    params[:, SIZE] = size
    return params


def crop_bodies(depth, boxes, config, input_scale=1e-3):
    """Crop N bodies from one depth image (mm) by boxes (N, 4).

    Depth is multiplied by ``input_scale`` (1e-3: millimetres to the metres A2J's body models
    take; 1.0 for K2HPD's 8-bit images) and normalised. Invalid pixels (0, NaN) and pixels
    beyond ``config.depth_max_m`` become 0 before scaling, as a sensor reports no return.
    Returns ``(crops (N, S, S) float32, CropTransform)``.
    """
    depth = check_depth_image(depth)
    params = body_boxes(boxes, config, depth.shape)
    size = int(params[0, SIZE]) if len(params) else _check_size(config)
    if not len(params):
        return np.zeros((0, size, size), np.float32), CropTransform(params)
    crops = _sample_nearest(depth, params[:, :4], size)
    with np.errstate(invalid='ignore'):
        drop = ~((crops > 0) & (crops <= np.float32(config.depth_max_m * 1000.0)))
    np.copyto(crops, np.float32(0.0), where=drop)
    crops *= np.float32(input_scale)
    crops -= np.float32(config.norm_mean)
    crops /= np.float32(config.norm_std)
    return crops, CropTransform(params)


def crop_body(depth, box, config, input_scale=1e-3):
    """Crop one body: ``(crop (S, S) float32, CropTransform of length 1)``."""
    crops, transform = crop_bodies(depth, np.asarray(box, np.float64)[None], config, input_scale)
    return crops[0], transform


__all__ = ['CropTransform', 'image_to_crop', 'crop_to_image', 'hand_boxes', 'body_boxes',
           'crop_hands', 'crop_hand', 'crop_bodies', 'crop_body']
