"""Training augmentation of depth crops and their joint targets (paper section 4.1.3).

The paper: "random in-plane rotation and random scaling for both in-plane and depth
dimension ... random Gaussian noise is also randomly added with the probability of 0.5". The
authors' training code (zhangboshen/A2J ``src_train/nyu.py``) draws a rotation in +-180
degrees, one scale factor in 0.5..1.5 used both for the image (an affine warp about the crop
centre) and for the centred depth and its target, shifts the crop box by up to 5 pixels, and
pastes random-noise rectangles ("random erasing", ``src_train/random_erasing.py``) with
probability 0.5. The noise recipe (whole crop or one patch) comes from core.losses.LossConfig.

Everything here works on the normalised crop the network sees, x = (c - norm_mean) /
norm_std, where c is the centred depth in mm (hands) or the depth in metres (bodies), and on
crop targets (u, v, T^d). Scaling the depth multiplies c - ref by the scale factor, where ref
is 0 for hands (c is already centred) and the mean joint depth for bodies, and applies the
same change to T^d, so a joint on the depth surface stays on it.
"""
from dataclasses import asdict, dataclass, fields

import numpy as np

from a2j_ros.core.errors import InputError


@dataclass
class AugmentConfig:
    """Ranges of the random augmentation; ``enabled=False`` turns it off.

    The noise fields mirror core.losses.LossConfig's recipe (``augment_config_for`` copies
    them): ``noise_mode`` 'image' adds N(0, noise_std) to the whole normalised crop, 'patch'
    fills one random rectangle with N(0, noise_std) (the authors' "random erasing"), 'none'
    adds nothing; either happens with probability ``noise_prob``.
    """

    enabled: bool = True
    rotation_deg: float = 180.0         # uniform in +-rotation_deg
    scale: tuple = (0.5, 1.5)           # one factor for u, v and depth
    scale_depth: bool = True            # False: scale only in-plane
    shift_px: float = 5.0               # translation of the crop, uniform in +-shift_px
    noise_mode: str = 'image'           # image | patch | none
    noise_prob: float = 0.5
    noise_std: float = 1.0              # in normalised crop units
    noise_patch_area: tuple = (0.02, 0.4)   # patch area as a fraction of the crop
    noise_patch_min_aspect: float = 0.3     # patch aspect ratio in [a, 1/a]

    @classmethod
    def from_dict(cls, data):
        """Build from a dict; unknown keys raise InputError naming them."""
        data = dict(data or {})
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise InputError(f'unknown augmentation settings {unknown}; known: {sorted(names)}')
        if data.get('noise_mode', 'image') not in ('image', 'patch', 'none'):
            raise InputError(f'noise_mode must be image, patch or none, got '
                             f'{data["noise_mode"]!r}')
        for key in ('scale', 'noise_patch_area'):
            if key in data:
                data[key] = tuple(float(v) for v in data[key])
        return cls(**data)

    def to_dict(self):
        """Return a plain dict."""
        return asdict(self)


def affine_matrix(angle_rad, scale, shift, size):
    """Return the 2x3 matrix mapping crop (u, v) to augmented (u', v').

    Rotation by ``angle_rad`` (counter-clockwise on screen for positive angles, like
    OpenCV's getRotationMatrix2D) and scaling about the crop centre (size / 2, size / 2),
    then a shift (du, dv).
    """
    c, s = np.cos(angle_rad) * scale, np.sin(angle_rad) * scale
    centre = size / 2.0
    linear = np.array([[c, s], [-s, c]])
    offset = centre - linear @ np.array([centre, centre]) + np.asarray(shift, dtype=np.float64)
    return np.concatenate([linear, offset[:, None]], axis=1)


def warp_nearest(image, matrix, fill):
    """Warp (S, S) ``image`` by the 2x3 ``matrix`` (output = matrix @ input) by nearest pixel.

    Output pixels whose source lies outside the image get ``fill``.
    """
    size_v, size_u = image.shape
    linear, offset = matrix[:, :2], matrix[:, 2]
    inverse = np.linalg.inv(linear)
    vv, uu = np.mgrid[0:size_v, 0:size_u]
    out = np.stack([uu.ravel() - offset[0], vv.ravel() - offset[1]])
    src = inverse @ out
    su = np.rint(src[0]).astype(np.int64)
    sv = np.rint(src[1]).astype(np.int64)
    inside = (su >= 0) & (su < size_u) & (sv >= 0) & (sv < size_v)
    result = np.full(size_u * size_v, fill, dtype=image.dtype)
    result[inside] = image[sv[inside], su[inside]]
    return result.reshape(size_v, size_u)


class Augmenter:
    """Draw and apply random augmentations to (crop, target) pairs.

    ``crop_config`` (core.config.CropConfig) tells how depth was normalised.
    """

    def __init__(self, config, crop_config):
        self.config = config if isinstance(config, AugmentConfig) else \
            AugmentConfig.from_dict(config)
        self.crop = crop_config

    def __call__(self, crop, target, rng):
        """Return augmented copies of ``crop`` (S, S) float32 and ``target`` (K, 3)."""
        cfg = self.config
        crop = np.asarray(crop, dtype=np.float32)
        target = np.array(target, dtype=np.float64, copy=True)
        if not cfg.enabled:
            return crop.copy(), target
        if crop.ndim != 2 or crop.shape[0] != crop.shape[1]:
            raise InputError(f'augmentation expects a square (S, S) crop, got {crop.shape}')
        size = crop.shape[0]
        mean, std = np.float32(self.crop.norm_mean), np.float32(self.crop.norm_std)
        raw = crop * std + mean                                     # centred mm or metres
        angle = np.deg2rad(rng.uniform(-cfg.rotation_deg, cfg.rotation_deg))
        scale = rng.uniform(*cfg.scale)
        shift = rng.uniform(-cfg.shift_px, cfg.shift_px, 2)
        if cfg.scale_depth and scale != 1.0:
            raw, target = self._scale_depth(raw, target, scale)
        matrix = affine_matrix(angle, scale, shift, size)
        raw = warp_nearest(raw, matrix, np.float32(0.0))
        target[:, :2] = target[:, :2] @ matrix[:, :2].T + matrix[:, 2]
        out = (raw - mean) / std
        if cfg.noise_mode != 'none' and cfg.noise_std > 0 and rng.random() < cfg.noise_prob:
            if cfg.noise_mode == 'image':
                out = out + (rng.standard_normal(out.shape) * cfg.noise_std).astype(np.float32)
            else:
                self._noise_patch(out, rng)
        return out.astype(np.float32, copy=False), target

    def _scale_depth(self, raw, target, scale):
        """Scale depth about the reference (0 for hands, mean joint depth for bodies)."""
        if self.crop.mode == 'hand':
            return raw * np.float32(scale), _scale_target_depth(target, scale, 0.0)
        # bodies: raw holds metres (0 = no return); T^d = mu * Z (m)
        mu = float(self.crop.mu)
        ref = float(np.nanmean(target[:, 2])) / mu if np.isfinite(target[:, 2]).any() else 0.0
        valid = raw > 0
        raw = np.where(valid, ref + (raw - ref) * np.float32(scale), raw).astype(np.float32)
        return raw, _scale_target_depth(target, scale, ref * mu)

    def _noise_patch(self, out, rng):
        """Overwrite one random rectangle with N(0, noise_std) noise, in place."""
        cfg = self.config
        size = out.shape[0]
        for _ in range(20):                      # retry like random erasing until it fits
            area = rng.uniform(*cfg.noise_patch_area) * size * size
            aspect = rng.uniform(cfg.noise_patch_min_aspect, 1.0 / cfg.noise_patch_min_aspect)
            h, w = int(round(np.sqrt(area * aspect))), int(round(np.sqrt(area / aspect)))
            if 0 < h < size and 0 < w < size:
                v, u = rng.integers(0, size - h), rng.integers(0, size - w)
                out[v:v + h, u:u + w] = (rng.standard_normal((h, w)) * cfg.noise_std)
                return


def augment_config_for(loss_config, overrides=None):
    """Return an AugmentConfig with the noise recipe of ``loss_config`` and ``overrides``."""
    base = {} if loss_config is None else {
        'noise_mode': loss_config.noise_mode, 'noise_prob': loss_config.noise_prob,
        'noise_std': loss_config.noise_std,
        'noise_patch_area': tuple(loss_config.noise_patch_area),
        'noise_patch_min_aspect': loss_config.noise_patch_min_aspect}
    base.update(overrides or {})
    return AugmentConfig.from_dict(base)


def _scale_target_depth(target, scale, ref):
    target[:, 2] = ref + (target[:, 2] - ref) * scale
    return target


__all__ = ['AugmentConfig', 'Augmenter', 'affine_matrix', 'augment_config_for', 'warp_nearest']
