"""The depth-sensor model: noise growing with z**2, quantisation, holes, flying pixels."""
import numpy as np
import pytest

from a2j_ros.core.camera import PinholeCamera
from a2j_ros.core.errors import InputError
from a2j_ros.core.synthetic import SyntheticBodies, SyntheticHands
from a2j_ros.core.synthetic.hand_model import build_hand, draw_hand_pose, FOREARM_RADIUS
from a2j_ros.core.synthetic.renderer import DepthRenderer
from a2j_ros.core.synthetic.sensor import SensorModel

CAM = PinholeCamera(fx=241.0, fy=241.0, cx=160.0, cy=120.0, width=320, height=240)


def _flat_plane(z_mm):
    renderer = DepthRenderer(CAM)
    zbuf = renderer.empty()
    renderer.add_plane(zbuf, (0.0, 0.0, 1.0), (0.0, 0.0, z_mm))      # every pixel at z_mm
    return zbuf


# 1 mm at 0.5 m growing with z**2: 1 * (z / 0.5 m)**2 by hand.
@pytest.mark.parametrize('z_mm,sigma', [(500.0, 1.0), (750.0, 2.25), (1000.0, 4.0)])
def test_noise_std_on_a_flat_plane(z_mm, sigma):
    model = SensorModel(quantum_mm=0.0, hole_fraction=0.0)
    depth = model.apply(_flat_plane(z_mm), np.random.default_rng(1))
    assert np.all(depth > 0)
    assert np.mean(depth) == pytest.approx(z_mm, abs=0.05)
    assert np.std(depth) == pytest.approx(sigma, rel=0.03)          # 76800 pixels: ~0.3 % se
    # with 1 mm quantisation: whole millimetres, variance + 1/12 mm**2 (Sheppard)
    quantised = SensorModel(hole_fraction=0.0).apply(_flat_plane(z_mm),
                                                     np.random.default_rng(1))
    assert np.array_equal(quantised, np.round(quantised))
    assert np.std(quantised) == pytest.approx(np.sqrt(sigma ** 2 + 1 / 12), rel=0.03)


def test_holes_and_no_return_are_zero():
    zbuf = _flat_plane(600.0)
    zbuf[:, :50] = np.inf                                           # no return
    depth = SensorModel(hole_fraction=0.1).apply(zbuf, np.random.default_rng(2))
    assert np.all(depth[:, :50] == 0)
    assert np.mean(depth[:, 60:] == 0) == pytest.approx(0.1, abs=0.01)
    far = SensorModel(max_depth_mm=550.0).apply(_flat_plane(600.0), np.random.default_rng(2))
    assert np.all(far == 0)


def test_silhouette_pixels_are_invalid_or_flying_between_the_surfaces():
    zbuf = np.full((240, 320), 500.0, np.float32)
    zbuf[:, 160:] = 800.0                  # a 300 mm step between columns 159 and 160
    model = SensorModel(noise_mm_at_half_m=0.0, quantum_mm=0.0, hole_fraction=0.0,
                        edge_invalid_prob=0.3, edge_mixed_prob=0.5)
    depth = model.apply(zbuf, np.random.default_rng(3))
    # |d[i+1] - 2 d[i] + d[i-1]| = 300 at columns 159 and 160 only; elsewhere untouched
    assert np.array_equal(depth[:, :159], zbuf[:, :159])
    assert np.array_equal(depth[:, 161:], zbuf[:, 161:])
    edge = depth[:, 159:161]
    invalid = edge == 0
    mixed = (edge >= 500 + 0.1 * 300 - 1e-3) & (edge <= 500 + 0.9 * 300 + 1e-3)
    kept = (edge == 500) | (edge == 800)
    assert np.all(invalid | mixed | kept)
    assert invalid.mean() == pytest.approx(0.3, abs=0.06)           # 480 pixels
    assert mixed.mean() == pytest.approx(0.5, abs=0.06)
    # a smooth but steep surface (a floor at a grazing angle) is not a silhouette
    ramp = np.tile(np.arange(240, dtype=np.float32)[:, None] * 30.0 + 500.0, (1, 320))
    assert np.array_equal(model.apply(ramp, np.random.default_rng(3)), ramp)


def test_sensor_settings_are_checked():
    with pytest.raises(InputError, match='edge_invalid_prob'):
        SensorModel(edge_invalid_prob=0.7, edge_mixed_prob=0.5)
    with pytest.raises(InputError, match='hole_fraction'):
        SensorModel(hole_fraction=-0.1)
    with pytest.raises(InputError, match='sensor settings'):
        SyntheticHands(num_frames=1, sensor={'nonsense': 1})
    with pytest.raises(InputError, match='sensor must be'):
        SyntheticHands(num_frames=1, sensor='yes')


def test_datasets_switch_the_sensor_model():
    plain, noisy = SyntheticHands('val', 2, seed=0), SyntheticHands('val', 2, seed=0, sensor=True)
    assert plain.sensor is None and noisy.sensor is not None
    depth = noisy[0].depth
    assert np.array_equal(depth, np.round(depth))                  # quantised to 1 mm
    assert not np.array_equal(plain[0].depth, depth)
    custom = SyntheticBodies('val', 1, sensor={'noise_mm_at_half_m': 0.0, 'hole_fraction': 0.0})
    assert custom.sensor.noise_mm_at_half_m == 0.0
    assert custom.sensor.edge_step_mm == 60.0                       # the body default kept
    assert np.array_equal(custom[0].depth, np.round(custom[0].depth))


def test_long_arm_capsule():
    pose = draw_hand_pose(np.random.default_rng(0))
    _, capsules = build_hand(pose, forearm_length=600.0)
    arm = capsules[-1]
    assert np.linalg.norm(arm[3:6] - arm[0:3]) == pytest.approx(600.0)
    assert arm[6] == FOREARM_RADIUS
