"""Synthetic hands and bodies: exact rendering of primitives, determinism, plausibility."""
import numpy as np
import pytest

from a2j_ros.core.camera import PinholeCamera
from a2j_ros.core.datasets import open_dataset
from a2j_ros.core.errors import InputError
from a2j_ros.core.synthetic import BodyScene, SyntheticBodies, SyntheticHands
from a2j_ros.core.synthetic.renderer import DepthRenderer, finish_depth

CAM = PinholeCamera(fx=241.0, fy=241.0, cx=160.0, cy=120.0, width=320, height=240)


def test_sphere_and_cylinder_depths_are_exact():
    renderer = DepthRenderer(CAM)
    zbuf = renderer.empty()
    renderer.add_sphere(zbuf, (0.0, 0.0, 500.0), 20.0)
    assert zbuf[120, 160] == pytest.approx(480.0, abs=1e-3)
    # the silhouette: radius 20 mm at ~500 mm is ~9.6 px
    assert np.isfinite(zbuf[120, 160 + 9]) and np.isinf(zbuf[120, 160 + 11])
    # a horizontal cylinder (x from -100 to 100 mm) at depth 800, radius 10: front at 790
    renderer.add_capsule(zbuf, (-100.0, 60.0, 800.0), (100.0, 60.0, 800.0), 10.0)
    v = int(round(60.0 * 241.0 / 800.0 + 120))
    u = 160 + 20
    ray = np.array([(u - 160) / 241.0, (v - 120) / 241.0, 1.0])
    # analytic: nearest t with |t*ray_perp - axis point| = r in the y-z plane
    a, b, c = ray[1] ** 2 + 1, ray[1] * 60.0 + 800.0, 60.0 ** 2 + 800.0 ** 2 - 100.0
    expected = (b - np.sqrt(b * b - a * c)) / a
    assert zbuf[v, u] == pytest.approx(expected, abs=1e-2)
    # beyond the capsule's end (x > 100 + 10 mm) nothing is hit
    assert np.isinf(zbuf[v, 160 + int(125 * 241 / 800)])
    assert np.isfinite(zbuf[v, 160 + int(105 * 241 / 800)])           # the end cap


def test_capsule_caps_and_nearest_wins():
    renderer = DepthRenderer(CAM)
    zbuf = renderer.empty()
    renderer.add_capsule(zbuf, (0.0, 0.0, 600.0), (0.0, 0.0, 700.0), 15.0)  # along the ray
    assert zbuf[120, 160] == pytest.approx(585.0, abs=1e-3)
    renderer.add_plane(zbuf, (0.0, 0.0, 1.0), (0.0, 0.0, 900.0))
    assert zbuf[120, 160] == pytest.approx(585.0, abs=1e-3)      # the capsule is in front
    assert zbuf[0, 0] == pytest.approx(900.0, abs=1e-2)


def test_plane_offset_for_depth_keeps_the_plane_beyond_a_depth():
    renderer = DepthRenderer(CAM)
    for normal in ((0.0, 0.985, -0.171), (0.3, -0.2, 0.93), (0.0, 0.0, 1.0)):
        normal = np.asarray(normal) / np.linalg.norm(normal)
        offset = renderer.plane_offset_for_depth(normal, 500.0)
        zbuf = renderer.empty()
        renderer.add_plane(zbuf, normal, normal * offset)
        # the nearest hit is exactly 500 mm, at a corner of the image
        assert zbuf.min() == pytest.approx(500.0, rel=1e-4)
        assert np.unravel_index(np.argmin(zbuf), zbuf.shape) in {(0, 0), (0, 319), (239, 0),
                                                                  (239, 319)}
    # a plane facing away from every ray is never seen: no offset needed
    assert renderer.plane_offset_for_depth((0.0, 0.0, -1.0), 500.0) == 0.0


def test_finish_depth_noise_holes_and_range():
    rng = np.random.default_rng(0)
    zbuf = np.full((240, 320), 500.0, np.float32)
    zbuf[:, :100] = np.inf
    depth = finish_depth(zbuf, rng, noise_mm=2.0, noise_mm_at_1m=0.0, hole_fraction=0.05,
                         max_depth_mm=1000.0)
    assert np.all(depth[:, :99] == 0)                                 # no return = 0
    valid = depth[:, 110:] > 0
    assert 0.9 < valid.mean() < 0.99                                  # ~5 % holes
    assert np.std(depth[:, 110:][valid]) == pytest.approx(2.0, rel=0.1)


def test_frames_are_deterministic_by_seed_and_index():
    a, b = SyntheticHands(num_frames=5, seed=3), SyntheticHands(num_frames=5, seed=3)
    s1, s2 = a[4], b[4]
    assert np.array_equal(s1.depth, s2.depth)
    assert np.array_equal(s1.joints_uvd, s2.joints_uvd)
    a[0]                                                    # order does not matter
    assert np.array_equal(a[4].depth, s1.depth)
    assert not np.array_equal(SyntheticHands(num_frames=5, seed=4)[4].depth, s1.depth)
    assert not np.array_equal(SyntheticHands('val', num_frames=5, seed=3)[4].depth, s1.depth)
    a.set_epoch(1)                                          # fresh frames per epoch
    assert not np.array_equal(a[4].depth, s1.depth)
    a.set_epoch(0)
    assert np.array_equal(a[4].depth, s1.depth)


def test_hand_frames_are_plausible():
    hands = SyntheticHands(num_frames=12, seed=0)
    assert hands.layout == 'nyu_hand_14' and hands.camera == CAM
    behind = []
    for sample in hands:
        depth, uvd = sample.depth, sample.joints_uvd.astype(np.float64)
        assert depth.shape == (240, 320) and depth.dtype == np.float32
        assert (depth == 0).mean() > 0.001 and depth.min() >= 0       # holes, no negatives
        assert np.all((uvd[:, 0] >= 0) & (uvd[:, 0] < 320) & (uvd[:, 1] >= 0) & (uvd[:, 1] < 240))
        assert np.all((uvd[:, 2] > 200) & (uvd[:, 2] < 800))
        assert np.linalg.norm(CAM.unproject(uvd).mean(0)
                              - CAM.unproject(sample.centre_uvd.astype(np.float64))) < 40
        # joints lie inside the capsules: the visible surface is in front of each joint
        seen = depth[np.rint(uvd[:, 1]).astype(int), np.rint(uvd[:, 0]).astype(int)]
        ok = seen > 0
        assert np.all(seen[ok] <= uvd[ok, 2] + 6.0)
        behind.extend(uvd[ok, 2] - seen[ok])
    assert np.median(behind) < 15.0                              # most joints are not occluded
    # the 14 joints keep the NYU bone lengths of the model (tip to mid of the middle finger)
    xyz = CAM.unproject(hands[0].joints_uvd.astype(np.float64))
    assert np.linalg.norm(xyz[4] - xyz[5]) == pytest.approx(50.0, abs=1.0)


def test_body_frames_and_boxes():
    bodies = open_dataset('synthetic_body', split='val', num_frames=6, seed=1)
    assert isinstance(bodies, SyntheticBodies) and bodies.mode == 'body'
    for sample in bodies:
        uvd = sample.joints_uvd
        assert np.all((uvd[:, 2] > 1500) & (uvd[:, 2] < 5000))
        u0, v0, u1, v1 = sample.box
        inside = (uvd[:, 0] >= 0) & (uvd[:, 0] < 320) & (uvd[:, 1] >= 0) & (uvd[:, 1] < 240)
        assert np.all(uvd[inside, 0] >= u0 - 1) and np.all(uvd[inside, 0] <= u1 + 1)
        assert np.all(uvd[inside, 1] >= v0 - 1) and np.all(uvd[inside, 1] <= v1 + 1)
        assert 0 <= u0 < u1 <= 319 and 0 <= v0 < v1 <= 239
        # the head is above the feet
        assert uvd[0, 1] < uvd[13, 1] and uvd[0, 1] < uvd[14, 1]



def _scene_problems(sample, camera, visible_mm):
    """Return what is physically wrong with one frame (an empty list when nothing is).

    The joints must project inside the image; under 1 % of the valid pixels may lie more than
    60 mm nearer than the nearest joint (a table, floor or wall between the camera and the
    subject, frame 'test'/24 of seed 0 before the fix); and at least half of the joints must
    be seen: a valid pixel within ``visible_mm`` of the joint's depth in its 3x3 window.
    """
    uvd, depth = sample.joints_uvd.astype(np.float64), sample.depth
    problems = []
    inside = ((uvd[:, 0] >= 0) & (uvd[:, 0] <= camera.width - 1)
              & (uvd[:, 1] >= 0) & (uvd[:, 1] <= camera.height - 1))
    if not inside.all():
        problems.append(f'joints {np.flatnonzero(~inside).tolist()} outside the image')
    valid = depth[depth > 0]
    near = float(np.mean(valid < uvd[:, 2].min() - 60.0))
    if near >= 0.01:
        problems.append(f'{near:.1%} of the pixels in front of the subject')
    cols = np.clip(np.rint(uvd[:, 0]).astype(int)[:, None] + np.arange(-1, 2), 0,
                   camera.width - 1)
    rows = np.clip(np.rint(uvd[:, 1]).astype(int)[:, None] + np.arange(-1, 2), 0,
                   camera.height - 1)
    windows = depth[rows[:, :, None], cols[:, None, :]].reshape(len(uvd), 9)   # (K, 9)
    gap = np.where(windows > 0, np.abs(windows - uvd[:, 2:3]), np.inf).min(axis=1)
    seen = float(np.mean(gap <= visible_mm))
    if seen < 0.5:
        problems.append(f'only {seen:.0%} of the joints visible')
    return problems


@pytest.mark.parametrize('split', ['train', 'test'])
def test_hand_scenes_are_physically_sensible(split):
    hands = SyntheticHands(split, num_frames=300, seed=0)
    bad = {i: p for i in range(len(hands))
           if (p := _scene_problems(hands[i], hands.camera, visible_mm=40.0))}
    assert not bad, f'{len(bad)} bad frames, e.g. {dict(list(bad.items())[:3])}'


@pytest.mark.parametrize('split', ['train', 'test'])
def test_body_scenes_are_physically_sensible(split):
    bodies = SyntheticBodies(split, num_frames=100, seed=0)
    bad = {i: p for i in range(len(bodies))
           if (p := _scene_problems(bodies[i], bodies.camera, visible_mm=200.0))}
    assert not bad, f'{len(bad)} bad frames, e.g. {dict(list(bad.items())[:3])}'


def test_body_scene_that_cannot_be_framed_is_an_input_error():
    # a body 0.3-0.4 m from the camera never fits in the image
    bodies = SyntheticBodies(num_frames=2, scene=BodyScene(depth_range=(300.0, 400.0)))
    with pytest.raises(InputError, match='cannot frame the body'):
        bodies[0]


def test_bad_arguments():
    with pytest.raises(InputError, match='num_frames'):
        SyntheticHands(num_frames=0)
    with pytest.raises(Exception, match='unknown split'):
        SyntheticHands(split='bogus')
    with pytest.raises(InputError, match='width and height'):
        DepthRenderer(PinholeCamera(1.0, 1.0, 0.0, 0.0))
