"""Augmentation: labels move with the image and stay on the depth surface."""
from dataclasses import replace

import numpy as np
import pytest

from a2j_ros.core.augment import affine_matrix, augment_config_for, AugmentConfig, Augmenter
from a2j_ros.core.camera import PinholeCamera
from a2j_ros.core.config import CropConfig
from a2j_ros.core.cropping import crop_body, crop_hand
from a2j_ros.core.errors import InputError
from a2j_ros.core.losses import LossConfig

CAM = PinholeCamera(fx=241.0, fy=241.0, cx=160.0, cy=120.0, width=320, height=240)
HAND = CropConfig(mode='hand', input_size=64, cube_xy_mm=110.0, depth_thres_mm=150.0,
                  norm_mean=1.0, norm_std=40.0)
BODY = CropConfig(mode='body', input_size=64, norm_mean=3.4, norm_std=0.54, mu=50.0,
                  theta_is_centre=False)
NO_NOISE = dict(noise_mode='none')


def _surface(base):
    """Return a smooth tilted, curved depth surface (mm) on the 320x240 image."""
    v, u = np.mgrid[0:240, 0:320].astype(np.float32)
    return base + 0.4 * (u - 160) + 0.25 * (v - 120) + 20 * np.sin(u / 25.0) * np.cos(v / 30.0)


def _surface_joints(depth, rng, count=14, around=(160, 120), spread=40):
    uv = rng.uniform(np.array(around) - spread, np.array(around) + spread, (count, 2))
    uv = np.rint(uv)
    d = depth[uv[:, 1].astype(int), uv[:, 0].astype(int)]
    return np.concatenate([uv, d[:, None]], axis=1)


def _on_surface_error(crop, target, config):
    raw = crop * config.norm_std + config.norm_mean
    size = crop.shape[0]
    errors = []
    for u, v, d in target:
        ui, vi = int(round(u)), int(round(v))
        if 1 <= ui < size - 1 and 1 <= vi < size - 1:
            errors.append(abs(raw[vi, ui] - d))
    return np.array(errors)


@pytest.mark.parametrize('seed', range(6))
def test_hand_labels_stay_on_the_depth_surface(seed):
    rng = np.random.default_rng(seed)
    depth = _surface(500.0)
    joints = _surface_joints(depth, rng)
    crop, transform = crop_hand(depth, joints.mean(0), CAM, HAND)
    target = transform.to_crop(joints[None])[0]
    assert np.median(_on_surface_error(crop, target, HAND)) < 4.0      # before augmenting
    aug = Augmenter(AugmentConfig(**NO_NOISE), HAND)
    for _ in range(5):
        out, moved = aug(crop, target, rng)
        assert out.shape == crop.shape and out.dtype == np.float32
        assert not np.allclose(moved[:, :2], target[:, :2])
        errors = _on_surface_error(out, moved, HAND)
        assert len(errors) >= 7
        # nearest-pixel sampling at up to 2x zoom-out: a pixel of slope ~1 mm/px of the crop
        assert np.median(errors) < 6.0, errors


def test_body_labels_stay_on_the_depth_surface():
    rng = np.random.default_rng(7)
    depth = _surface(3000.0)
    joints = _surface_joints(depth, rng, 15, spread=60)
    crop, transform = crop_body(depth, [60.0, 40.0, 260.0, 200.0], BODY)
    target = transform.to_crop(joints[None])[0]                # T^d = 50 * Z (m)
    aug = Augmenter(AugmentConfig(**NO_NOISE), BODY)
    scale_m = replace(BODY, norm_std=BODY.norm_std * 50.0, norm_mean=BODY.norm_mean * 50.0)
    for _ in range(5):
        out, moved = aug(crop, target, rng)
        errors = _on_surface_error(out, moved, scale_m)       # compare in T^d units
        assert np.median(errors) / 50.0 * 1000.0 < 8.0          # mm


def test_rotation_moves_a_marked_pixel_with_its_label():
    crop = np.zeros((32, 32), np.float32)
    crop[8, 20] = 5.0
    target = np.array([[20.0, 8.0, 5.0]])
    cfg = AugmentConfig(rotation_deg=90.0, scale=(1.0, 1.0), shift_px=0.0, noise_mode='none')
    rng = np.random.default_rng(0)
    out, moved = Augmenter(cfg, replace(HAND, input_size=32, norm_mean=0.0, norm_std=1.0))(
        crop, target, rng)
    u, v = np.rint(moved[0, :2]).astype(int)
    assert out[v, u] == pytest.approx(5.0)
    assert np.count_nonzero(out) == 1
    assert moved[0, 2] == pytest.approx(5.0)                     # scale 1: depth unchanged


def test_affine_matrix_matches_opencv_convention():
    m = affine_matrix(np.deg2rad(90), 1.0, (0, 0), 10)
    # OpenCV getRotationMatrix2D((5, 5), 90, 1): [[0, 1, 0], [-1, 0, 10]]
    np.testing.assert_allclose(m, [[0, 1, 0], [-1, 0, 10]], atol=1e-12)


def test_scaling_scales_centred_depth_and_target_alike():
    crop = np.full((16, 16), 2.0, np.float32)                    # raw = 2 * 40 + 1 = 81 mm
    target = np.array([[8.0, 8.0, 81.0]])
    cfg = AugmentConfig(rotation_deg=0.0, scale=(1.5, 1.5), shift_px=0.0, noise_mode='none')
    out, moved = Augmenter(cfg, replace(HAND, input_size=16))(crop, target,
                                                               np.random.default_rng(0))
    assert out[8, 8] * 40.0 + 1.0 == pytest.approx(121.5)
    assert moved[0, 2] == pytest.approx(121.5)


def test_noise_modes_and_probability():
    crop = np.zeros((32, 32), np.float32)
    target = np.array([[16.0, 16.0, 0.0]])
    base = dict(rotation_deg=0.0, scale=(1.0, 1.0), shift_px=0.0, noise_prob=1.0, noise_std=1.0)
    hand = replace(HAND, input_size=32, norm_mean=0.0)
    out, _ = Augmenter(AugmentConfig(noise_mode='image', **base), hand)(
        crop, target, np.random.default_rng(1))
    assert np.std(out) == pytest.approx(1.0, rel=0.15)
    out, _ = Augmenter(AugmentConfig(noise_mode='patch', **base), hand)(
        crop, target, np.random.default_rng(1))
    changed = np.argwhere(out != 0)
    assert 0.02 * 1024 * 0.5 <= len(changed) <= 0.4 * 1024 * 1.2
    (v0, u0), (v1, u1) = changed.min(0), changed.max(0)
    assert len(changed) == (v1 - v0 + 1) * (u1 - u0 + 1)             # one rectangle
    hits = sum(np.any(Augmenter(AugmentConfig(noise_mode='image', **{**base, 'noise_prob': 0.5}),
                                hand)(crop, target, np.random.default_rng(s))[0] != 0)
               for s in range(200))
    assert 70 < hits < 130


def test_config_from_loss_recipe_and_errors():
    cfg = augment_config_for(LossConfig.preset('authors_code'), {'rotation_deg': 45})
    assert cfg.noise_mode == 'patch' and cfg.rotation_deg == 45 and cfg.noise_prob == 0.5
    assert augment_config_for(None, {}).noise_mode == 'image'
    with pytest.raises(InputError, match='unknown augmentation settings'):
        AugmentConfig.from_dict({'rotate': 3})
    with pytest.raises(InputError, match='noise_mode'):
        AugmentConfig.from_dict({'noise_mode': 'salt'})
    off = Augmenter(AugmentConfig(enabled=False), HAND)
    crop = np.ones((8, 8), np.float32)
    out, t = off(crop, np.zeros((2, 3)), np.random.default_rng(0))
    assert np.array_equal(out, crop) and not np.any(t)
