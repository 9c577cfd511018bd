import numpy as np
import pytest

from a2j_ros.core.camera import PinholeCamera
from a2j_ros.core.config import CropConfig
from a2j_ros.core.cropping import (
    crop_bodies,
    crop_body,
    crop_hand,
    crop_hands,
    crop_to_image,
    CropTransform,
    image_to_crop,
)
from a2j_ros.core.errors import InputError

CAM = PinholeCamera(fx=240.99, fy=240.96, cx=160.0, cy=120.0, width=320, height=240)
HAND = CropConfig(mode='hand', input_size=32, cube_xy_mm=95.0, depth_thres_mm=150.0,
                  norm_mean=4.8, norm_std=16.3, mu=1.0)
BODY = CropConfig(mode='body', input_size=48, norm_mean=3.44, norm_std=0.54, mu=50.0,
                  theta_is_centre=False)


def _scene(seed=0):
    rng = np.random.default_rng(seed)
    depth = rng.uniform(300.0, 900.0, (240, 320)).astype(np.float32)
    return depth


def _reference_hand_crop(depth, centre, cam, cfg):
    """Crop one hand pixel by pixel with the authors' corner arithmetic (for comparison)."""
    u, v, d = centre
    x, y = (u - cam.cx) * d / cam.fx, (v - cam.cy) * d / cam.fy
    u0 = max((x - cfg.cube_xy_mm) * cam.fx / d + cam.cx, 0)
    u1 = min((x + cfg.cube_xy_mm) * cam.fx / d + cam.cx, depth.shape[1] - 1)
    v0 = max((y - cfg.cube_xy_mm) * cam.fy / d + cam.cy, 0)
    v1 = min((y + cfg.cube_xy_mm) * cam.fy / d + cam.cy, depth.shape[0] - 1)
    size = cfg.input_size
    out = np.zeros((size, size), np.float64)
    for i in range(size):
        for j in range(size):
            row = int(v0) + (i * (int(v1) - int(v0))) // size
            col = int(u0) + (j * (int(u1) - int(u0))) // size
            z = float(depth[row, col])
            if not (z > 0) or z >= d + cfg.depth_thres_mm or z <= d - cfg.depth_thres_mm:
                z = d
            out[i, j] = (z - d - cfg.norm_mean) / cfg.norm_std
    return out, (u0, v0, u1, v1)


@pytest.mark.parametrize('centre', [(160.0, 120.0, 600.0), (20.5, 230.2, 450.0),
                                    (300.0, 10.0, 800.0)])
def test_hand_crop_matches_pixel_by_pixel_reference(centre):
    depth = _scene()
    depth[::7, ::5] = 0.0                              # invalid pixels
    depth[3::11, ::3] = np.nan
    crop, transform = crop_hand(depth, centre, CAM, HAND)
    expected, box = _reference_hand_crop(depth, centre, CAM, HAND)
    assert crop.shape == (32, 32) and crop.dtype == np.float32
    np.testing.assert_allclose(crop, expected, atol=1e-4)
    np.testing.assert_allclose(transform.boxes[0], box, atol=1e-9)
    assert len(transform) == 1 and transform.params[0, 4] == centre[2]


def test_hand_crop_depth_band_and_invalid_pixels_become_background():
    depth = np.full((240, 320), 600.0, np.float32)
    depth[100:140, 140:180] = 0.0                      # hole
    depth[:, :100] = 2000.0                            # far background
    cfg = CropConfig(mode='hand', input_size=32, cube_xy_mm=95.0, norm_mean=0.0, norm_std=1.0)
    crop, _ = crop_hand(depth, (160.0, 120.0, 650.0), CAM, cfg)
    # Valid depth within +-150 mm is centred on 650, everything else is 0.
    assert set(np.unique(crop).tolist()) <= {-50.0, 0.0}
    assert np.count_nonzero(crop == 0.0) > 0 and np.count_nonzero(crop == -50.0) > 0


def test_crop_then_uncrop_lands_within_resize_quantisation():
    depth = np.full((240, 320), 600.0, np.float32)
    marker = (171, 109)                                # (u, v) of a dip in the depth image
    depth[marker[1], marker[0]] = 500.0
    cfg = CropConfig(mode='hand', input_size=176, cube_xy_mm=95.0, norm_mean=0.0, norm_std=1.0)
    crop, transform = crop_hand(depth, (165.0, 115.0, 600.0), CAM, cfg)
    rows, cols = np.nonzero(crop == -100.0)
    assert len(rows) > 0
    crop_uv = np.stack([cols, rows], axis=-1).astype(np.float64)[None]
    back = transform.to_image(crop_uv)[0]
    step = (transform.boxes[0, 2:] - transform.boxes[0, :2]) / 176.0
    assert np.all(np.abs(back - marker) <= 1.0 + step)


def test_joint_targets_round_trip_exactly():
    rng = np.random.default_rng(3)
    centres = np.array([[160.0, 120.0, 600.0], [60.0, 200.0, 500.0]])
    _, transform = crop_hands(_scene(), centres, CAM, HAND)
    uvd = centres[:, None, :] + rng.uniform(-30, 30, (2, 5, 3))
    crop_uvd = transform.to_crop(uvd)
    np.testing.assert_allclose(crop_uvd[..., 2], uvd[..., 2] - centres[:, None, 2])
    np.testing.assert_allclose(transform.to_image(crop_uvd), uvd, atol=1e-9)
    xyz = transform.to_xyz(crop_uvd, CAM)
    np.testing.assert_allclose(xyz, CAM.unproject(uvd), atol=1e-9)


def test_batch_equals_single_crops_and_transforms_concat():
    depth = _scene(5)
    centres = np.array([[160.0, 120.0, 600.0], [80.0, 60.0, 550.0], [250.0, 180.0, 700.0]])
    crops, transform = crop_hands(depth, centres, CAM, HAND)
    singles = [crop_hand(depth, c, CAM, HAND) for c in centres]
    for i, (crop, single) in enumerate(singles):
        np.testing.assert_array_equal(crops[i], crop)
    joined = CropTransform.concat([t for _, t in singles])
    np.testing.assert_array_equal(joined.params, transform.params)
    np.testing.assert_array_equal(transform[1].params, transform.params[1:2])


def test_uncrop_works_on_torch_tensors():
    import torch
    _, transform = crop_hands(_scene(), np.array([[160.0, 120.0, 600.0]] * 2), CAM, HAND)
    crop_uvd = np.random.default_rng(0).uniform(0, 32, (2, 4, 3))
    expected = transform.to_image(crop_uvd)
    got = transform.to_image(torch.as_tensor(crop_uvd, dtype=torch.float64))
    np.testing.assert_allclose(got.numpy(), expected)
    params = torch.as_tensor(transform.params)
    back = image_to_crop(crop_to_image(torch.as_tensor(crop_uvd), params), params)
    np.testing.assert_allclose(back.numpy(), crop_uvd, atol=1e-9)


@pytest.mark.parametrize('centre, match', [
    ((160.0, 120.0, 0.0), 'depth > 0'),
    ((160.0, 120.0, float('nan')), 'depth > 0'),
    ((np.nan, 120.0, 600.0), 'finite'),
    ((-400.0, 120.0, 600.0), 'covers no pixels'),
    ((160.0, 900.0, 600.0), 'covers no pixels'),
])
def test_bad_hand_rois_raise_input_error(centre, match):
    with pytest.raises(InputError, match=match):
        crop_hand(_scene(), centre, CAM, HAND)


def test_roi_partly_outside_is_clamped_to_the_image():
    crop, transform = crop_hand(_scene(), (2.0, 3.0, 400.0), CAM, HAND)
    assert transform.boxes[0, 0] == 0.0 and transform.boxes[0, 1] == 0.0
    assert np.all(np.isfinite(crop))


def test_zero_size_and_bad_inputs_raise_input_error():
    with pytest.raises(InputError, match='covers no pixels'):
        crop_body(_scene(), (10.0, 10.0, 10.5, 50.0), BODY)
    with pytest.raises(InputError, match=r'\(H, W\)'):
        crop_hand(np.zeros((4, 4, 3)), (1.0, 1.0, 500.0), CAM, HAND)
    with pytest.raises(InputError, match='camera is 320x240'):
        crop_hand(np.zeros((120, 160), np.float32), (80.0, 60.0, 500.0), CAM, HAND)
    with pytest.raises(InputError, match=r'\(N, 3\)'):
        crop_hands(_scene(), np.zeros((2, 2)), CAM, HAND)


def test_body_crop_uses_metres_and_depth_target_mu_50():
    depth = np.full((240, 320), 2500.0, np.float32)
    depth[:, :40] = 0.0
    crop, transform = crop_body(depth, (20.0, 30.0, 200.0, 239.9), BODY)
    assert crop.shape == (48, 48)
    np.testing.assert_allclose(np.unique(crop), [(0.0 - 3.44) / 0.54, (2.5 - 3.44) / 0.54],
                               rtol=1e-6)
    np.testing.assert_allclose(transform.boxes[0], [20.0, 30.0, 200.0, 239.0])
    joint = np.array([[[110.0, 100.0, 3000.0]]])
    target = transform.to_crop(joint)
    assert target[0, 0, 2] == pytest.approx(150.0)       # 50 * 3.0 m
    np.testing.assert_allclose(transform.to_image(target), joint)


def test_body_box_pad_widens_and_batch_works():
    cfg = CropConfig(mode='body', input_size=16, mu=50.0, theta_is_centre=False, box_pad=0.1)
    crops, transform = crop_bodies(_scene(), np.array([[100.0, 100.0, 200.0, 200.0]] * 2), cfg)
    assert crops.shape == (2, 16, 16)
    np.testing.assert_allclose(transform.boxes[0], [90.0, 90.0, 210.0, 210.0])


def test_empty_batch_gives_empty_output():
    crops, transform = crop_hands(_scene(), np.zeros((0, 3)), CAM, HAND)
    assert crops.shape == (0, 32, 32) and len(transform) == 0


def test_hand_boxes_equal_the_authors_y_up_arithmetic_on_their_centres(a2j_published):
    import scipy.io

    from a2j_ros.core.cropping import hand_boxes
    from a2j_ros.core.presets import get_preset
    path = a2j_published / 'nyu' / 'nyu_center_test.mat'
    centres = scipy.io.loadmat(path)['centre_pixel'][:, 0, :].astype(np.float64)
    preset = get_preset('nyu')
    params = hand_boxes(centres, preset.camera, preset.crop, (480, 640))
    # A2J's src/nyu.py: fy = -587.07, left-top = world (x - 110, y + 110), right-bottom =
    # (x + 110, y - 110), projected back and clamped to [0, 639] x [0, 479].
    fx, fy, cx, cy = 588.03, -587.07, 320.0, 240.0
    u, v, d = centres.T
    x, y = (u - cx) * d / fx, (v - cy) * d / fy
    expected = np.stack([np.maximum((x - 110) * fx / d + cx, 0),
                         np.maximum((y + 110) * fy / d + cy, 0),
                         np.minimum((x + 110) * fx / d + cx, 639),
                         np.minimum((y - 110) * fy / d + cy, 479)], axis=1)
    np.testing.assert_allclose(params[:, :4], expected, atol=1e-9)
    np.testing.assert_array_equal(params[:, 4], centres[:, 2])
