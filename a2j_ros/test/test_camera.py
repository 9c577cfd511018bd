import numpy as np
import pytest

from a2j_ros.core.camera import PinholeCamera
from a2j_ros.core.errors import InputError

NYU = PinholeCamera(fx=588.03, fy=587.07, cx=320.0, cy=240.0, width=640, height=480)


def test_unproject_matches_hand_computation():
    xyz = NYU.unproject(np.array([420.0, 140.0, 800.0]))
    assert xyz == pytest.approx([100.0 * 800.0 / 588.03, -100.0 * 800.0 / 587.07, 800.0])


def test_project_unproject_round_trip_any_leading_shape():
    rng = np.random.default_rng(1)
    uvd = np.stack([rng.uniform(0, 640, (5, 7)), rng.uniform(0, 480, (5, 7)),
                    rng.uniform(300, 3000, (5, 7))], axis=-1)
    back = NYU.project(NYU.unproject(uvd))
    assert back.shape == (5, 7, 3)
    np.testing.assert_allclose(back, uvd, rtol=0, atol=1e-9)
    xyz = rng.uniform(-500, 500, (11, 3)) + [0, 0, 1500]
    np.testing.assert_allclose(NYU.unproject(NYU.project(xyz)), xyz, atol=1e-9)


def test_y_up_camera_gives_the_same_distances():
    # A2J's NYU code uses fy = -587.07 (y up): the geometry only mirrors, distances agree.
    y_up = PinholeCamera(fx=588.03, fy=-587.07, cx=320.0, cy=240.0)
    a, b = np.array([[300.0, 200.0, 700.0]]), np.array([[330.0, 260.0, 760.0]])
    d_down = np.linalg.norm(NYU.unproject(a) - NYU.unproject(b))
    d_up = np.linalg.norm(y_up.unproject(a) - y_up.unproject(b))
    assert d_down == pytest.approx(d_up)
    assert NYU.unproject(a)[0, 1] == pytest.approx(-y_up.unproject(a)[0, 1])


def test_project_of_zero_depth_is_not_finite_without_raising():
    uvd = NYU.project(np.array([[10.0, 10.0, 0.0]]))
    assert not np.all(np.isfinite(uvd[0, :2]))


def test_integer_input_is_converted_to_float():
    assert NYU.unproject(np.array([320, 240, 1000])).tolist() == [0.0, 0.0, 1000.0]


def test_from_camera_info_reads_row_major_k():
    cam = PinholeCamera.from_camera_info([525.0, 0, 319.5, 0, 524.0, 239.5, 0, 0, 1], 640, 480)
    assert (cam.fx, cam.fy, cam.cx, cam.cy, cam.width, cam.height) == \
        (525.0, 524.0, 319.5, 239.5, 640, 480)
    np.testing.assert_array_equal(cam.k, [[525.0, 0, 319.5], [0, 524.0, 239.5], [0, 0, 1]])
    assert PinholeCamera.from_dict(cam.to_dict()) == cam


@pytest.mark.parametrize('k', [[0.0] * 9, [1.0] * 8, [500, 0, 320, 0, 500, 240, 0, 0, np.nan],
                               [500, 2.0, 320, 0, 500, 240, 0, 0, 1]])
def test_from_camera_info_rejects_bad_k(k):
    with pytest.raises(InputError):
        PinholeCamera.from_camera_info(k, 640, 480)


def test_bad_intrinsics_and_points_raise_input_error():
    with pytest.raises(InputError):
        PinholeCamera(fx=0.0, fy=1.0, cx=0.0, cy=0.0)
    with pytest.raises(InputError):
        PinholeCamera(fx=float('inf'), fy=1.0, cx=0.0, cy=0.0)
    with pytest.raises(InputError, match=r'\(\.\.\., 3\)'):
        NYU.unproject(np.zeros((4, 2)))


def test_scaled_camera_projects_to_scaled_pixels():
    half = NYU.scaled(0.5)
    assert (half.width, half.height) == (320, 240)
    xyz = np.array([[50.0, -30.0, 900.0]])
    full_uv = NYU.project(xyz)[0, :2]
    half_uv = half.project(xyz)[0, :2]
    np.testing.assert_allclose(half_uv, (full_uv + 0.5) * 0.5 - 0.5)


def test_torch_tensors_round_trip_on_their_device():
    import torch
    uvd = torch.tensor([[[100.0, 50.0, 600.0], [500.0, 400.0, 1200.0]]], dtype=torch.float64)
    xyz = NYU.unproject(uvd)
    assert isinstance(xyz, torch.Tensor) and xyz.shape == (1, 2, 3)
    np.testing.assert_allclose(NYU.unproject(uvd.numpy()), xyz.numpy())
    torch.testing.assert_close(NYU.project(xyz), uvd)
