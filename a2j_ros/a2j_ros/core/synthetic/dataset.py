"""Synthetic depth datasets: posed hands and bodies rendered into sensor-like depth frames.

Frame ``i`` of a split depends only on (seed, split, i): its random generator is
``numpy.random.default_rng([seed, split_id, i])``, so any frame can be rebuilt alone, in any
order, in any worker process. The 'train' and 'val' (alias 'test') splits use different
streams, so validation frames are never seen in training.

Hands: the ``synthetic_hand`` preset camera (320x240, f = 241 px), nyu_hand_14 joints, a hand
with its forearm 300-650 mm from the camera under a random global rotation, in front of a
tilted wall and, half of the time, above a table. The crop centre is the mean of the 14 joints
plus Gaussian noise (6 mm per axis), like the refined centres of V2V-PoseNet that A2J uses.

Bodies: the ``synthetic_body`` preset camera (320x240, f = 285.71 px), itop_body_15 joints,
a person standing on a floor 2.5-4 m away in front of a wall, seen by a camera 0.8-1.3 m above
the floor; the box is the joints' extent padded by 120 mm.

Every scene is physically sensible: the background planes (wall, table, floor) lie beyond
the subject (the whole hand and forearm, or the whole body) along their normals, so they never
come between the camera and the subject, and no part of them is seen nearer than the nearest
joint plus ``background_behind_mm`` (hands: 15 mm, so the hand stays the nearest thing in the
image, as the nearest-blob ROI source expects). A table is lowered, and a body's camera aimed,
until that holds; all joints project inside the image.
"""
from dataclasses import dataclass, field

import numpy as np

from a2j_ros.core.camera import PinholeCamera
from a2j_ros.core.datasets.base import PoseDataset, Sample, select_split
from a2j_ros.core.errors import InputError
from a2j_ros.core.synthetic.body_model import BodyPoseLimits, pose_body
from a2j_ros.core.synthetic.geometry import rot_x, rot_y, rot_z, uniform_deg
from a2j_ros.core.synthetic.hand_model import HandPoseLimits, NYU_FROM_INTERNAL, pose_hand
from a2j_ros.core.synthetic.renderer import DepthRenderer, finish_depth
from a2j_ros.core.synthetic.sensor import BODY_SENSOR, HAND_SENSOR, SensorModel

SPLIT_IDS = {'train': 0, 'val': 1, 'test': 1}
# hand frame (y fingers, z palm side) -> camera (y down, z forward): fingers up, palm facing
# the camera; body frame (y up, z front) -> camera the same way: standing, facing the camera.
FACING_CAMERA = np.diag([1.0, -1.0, -1.0])
MAX_DRAWS = 32              # tries at a scene that satisfies its constraints (see the classes)
PITCH_LIMIT_DEG, PITCH_STEP_DEG = 30.0, 0.25    # body camera pitches searched when framing


def _preset_camera(name, fallback):
    """Return the camera of preset ``name`` (core.presets), or ``fallback`` if not importable."""
    try:
        from a2j_ros.core.presets import get_preset
    except ImportError:
        return fallback
    return get_preset(name).camera


# The fixed synthetic cameras (also in core.presets; used when that module is absent).
HAND_CAMERA = PinholeCamera(fx=241.0, fy=241.0, cx=160.0, cy=120.0, width=320, height=240)
BODY_CAMERA = PinholeCamera(fx=285.71, fy=285.71, cx=160.0, cy=120.0, width=320, height=240)


@dataclass
class HandScene:
    """How synthetic hand frames are drawn (angles in degrees, distances in mm)."""

    depth_range: tuple = (300.0, 650.0)      # depth of the joints' mean
    roll: tuple = (-70.0, 70.0)              # in-plane rotation (0 = fingers up)
    yaw: tuple = (-90.0, 90.0)               # about the fingers' axis (0 = palm to camera)
    pitch: tuple = (-35.0, 35.0)             # fingers toward (+) / away from the camera
    centre_noise_mm: float = 6.0
    cube_mm: float = 110.0                   # keep this cube around the centre in the image
    wall_gap: tuple = (250.0, 700.0)         # wall behind the hand's (and forearm's) far end
    table_prob: float = 0.5
    noise_mm: float = 1.0
    noise_mm_at_1m: float = 1.5
    hole_fraction: float = 0.01
    limits: HandPoseLimits = field(default_factory=HandPoseLimits)
    arm_mm: tuple = (450.0, 700.0)           # with the sensor model: the arm to the border
    table_gap: tuple = (0.0, 150.0)          # table below the lowest point of hand and forearm
    front_margin_mm: float = 45.0            # hand, forearm: never nearer than nearest joint - it
    background_behind_mm: float = 15.0       # background: never nearer than nearest joint + it


@dataclass
class BodyScene:
    """How synthetic body frames are drawn (angles in degrees, distances in mm)."""

    depth_range: tuple = (2500.0, 4000.0)
    lateral_mm: float = 500.0
    yaw: tuple = (-70.0, 70.0)               # turn about the vertical (0 = facing the camera)
    camera_height: tuple = (800.0, 1300.0)
    camera_pitch: tuple = (-8.0, 8.0)        # preferred; widened when needed (module docstring)
    wall_gap: tuple = (600.0, 2000.0)        # wall behind the body's far end
    box_pad_mm: float = 120.0
    box_jitter_px: float = 4.0
    noise_mm: float = 4.0
    noise_mm_at_1m: float = 2.5
    hole_fraction: float = 0.01
    max_depth_mm: float = 8000.0
    limits: BodyPoseLimits = field(default_factory=BodyPoseLimits)
    # the floor is seen no nearer than the nearest joint (the feet, when no hand reaches
    # forward): with depth noise of 25-45 mm at 3-4 m, only a few floor pixels come out nearer
    background_behind_mm: float = 0.0
    edge_px: float = 2.0                     # joints at least this far inside the image


def _sensor(sensor, default):
    """Return the SensorModel for a dataset's ``sensor`` option, or None (the simple noise).

    ``sensor`` is None/False (off: the plain noise of ``finish_depth``), True (the subject's
    default model of core.synthetic.sensor), a dict of SensorModel fields (YAML) or a model.
    """
    if sensor is None or sensor is False:
        return None
    if sensor is True:
        return default
    if isinstance(sensor, SensorModel):
        return sensor
    if isinstance(sensor, dict):
        try:
            return SensorModel(**{**default.__dict__, **sensor})
        except TypeError as exc:
            raise InputError(f'sensor settings: {exc}') from None
    raise InputError(f'sensor must be true, false or a dict of SensorModel fields, got {sensor!r}')


class _SyntheticDataset(PoseDataset):
    """Shared frame bookkeeping of the synthetic sets."""

    def __init__(self, split='train', num_frames=1000, seed=0, camera=None, sensor=None):
        select_split(split, tuple(SPLIT_IDS))
        if int(num_frames) < 1:
            raise InputError(f'num_frames must be >= 1, got {num_frames}')
        self.split, self.num_frames, self.seed = split, int(num_frames), int(seed)
        self.offset = 0
        self.camera = camera
        self.renderer = DepthRenderer(camera)
        self.sensor = _sensor(sensor, self.default_sensor)

    def __len__(self):
        return self.num_frames

    def set_epoch(self, epoch):
        """Draw fresh frames in each epoch: frame i of epoch e is stream index e * N + i."""
        self.offset = int(epoch) * self.num_frames

    def rng(self, index):
        """Return the random generator of frame ``index`` (see the module docstring)."""
        return np.random.default_rng([self.seed, SPLIT_IDS[self.split], self.offset + index])


class SyntheticHands(_SyntheticDataset):
    """Synthetic hand frames in the nyu_hand_14 layout (a ``PoseDataset``)."""

    layout = 'nyu_hand_14'
    mode = 'hand'
    default_sensor = HAND_SENSOR

    def __init__(self, split='train', num_frames=1000, seed=0, camera=None, scene=None,
                 sensor=None):
        camera = camera or _preset_camera('synthetic_hand', HAND_CAMERA)
        super().__init__(split, num_frames, seed, camera, sensor)
        self.scene = scene or HandScene()

    def load(self, index):
        """Render frame ``index``."""
        rng, scene, cam = self.rng(index), self.scene, self.camera
        if self.sensor is None:
            joints, capsules = pose_hand(rng, scene.limits)
        else:
            joints, capsules = pose_hand(rng, scene.limits, rng.uniform(*scene.arm_mm))
        rotation = self._rotation(rng, joints[NYU_FROM_INTERNAL], capsules)
        nyu = joints[NYU_FROM_INTERNAL] @ rotation.T
        shift = self._placement(rng, nyu)
        nyu += shift
        points = capsules.reshape(-1, 7)
        starts = points[:, 0:3] @ rotation.T + shift
        ends = points[:, 3:6] @ rotation.T + shift
        zbuf = self.renderer.empty()
        self.renderer.add_capsules(zbuf, starts, ends, points[:, 6])
        self._background(zbuf, rng, nyu, _Shape(starts, ends, points[:, 6]))
        if self.sensor is None:
            depth = finish_depth(zbuf, rng, scene.noise_mm, scene.noise_mm_at_1m,
                                 scene.hole_fraction)
        else:
            depth = self.sensor.apply(zbuf, rng)
        centre = cam.project(nyu.mean(axis=0) + rng.normal(0.0, scene.centre_noise_mm, 3))
        return Sample(depth=depth, joints_uvd=cam.project(nyu).astype(np.float32),
                      centre_uvd=centre.astype(np.float32), name=f'{self.split}/{index}')

    def _placement(self, rng, joints):
        """Draw the translation that puts the hand's joints (K, 3) in view.

        The joints' mean goes to a random depth and a pixel that keeps the crop cube inside
        the image; placements that leave a joint (a wrist joint far from the mean) outside
        the image are drawn again, and after ``MAX_DRAWS`` the mean goes to the image centre.
        """
        scene, cam = self.scene, self.camera
        mean = joints.mean(axis=0)
        for _ in range(MAX_DRAWS):
            z = rng.uniform(*scene.depth_range)
            half_u = scene.cube_mm * cam.fx / z + 2
            half_v = scene.cube_mm * cam.fy / z + 2
            u = rng.uniform(min(half_u, cam.cx), max(cam.width - 1 - half_u, cam.cx))
            v = rng.uniform(min(half_v, cam.cy), max(cam.height - 1 - half_v, cam.cy))
            shift = cam.unproject(np.array([u, v, z])) - mean
            uv = cam.project(joints + shift)[:, :2]
            if np.all((uv >= 0) & (uv <= (cam.width - 1, cam.height - 1))):
                return shift
        return cam.unproject(np.array([cam.cx, cam.cy, z])) - mean

    def _rotation(self, rng, joints, capsules):
        """Draw the hand's global rotation (roll, yaw, pitch) with the hand in front.

        A person holds the hand toward the camera, the forearm behind it: rotations that bring
        any part of the hand or forearm more than ``front_margin_mm`` nearer than the nearest
        joint (a forearm pointing at the camera) are drawn again; after ``MAX_DRAWS`` the one
        with the least excess is kept.
        """
        scene = self.scene
        shape = _Shape(capsules[:, 0:3], capsules[:, 3:6], capsules[:, 6])
        best, best_excess = None, np.inf
        for _ in range(MAX_DRAWS):
            rotation = (rot_z(uniform_deg(rng, *scene.roll)) @ FACING_CAMERA
                        @ rot_y(uniform_deg(rng, *scene.yaw))
                        @ rot_x(uniform_deg(rng, *scene.pitch)))
            toward = -rotation[2]                   # the camera's -z axis in the hand frame
            excess = shape.extent(toward) + (joints @ rotation[2]).min() - scene.front_margin_mm
            if excess <= 0.0:
                return rotation
            if excess < best_excess:
                best, best_excess = rotation, excess
        return best

    def _background(self, zbuf, rng, joints, shape):
        """Z-buffer a tilted wall behind the hand and, sometimes, a table below it.

        Each plane ``n . p = d`` has its normal pointing away from the camera (origin) and
        lies ``gap`` beyond the hand and forearm along it, or farther if needed so that the
        image sees it nowhere nearer than the nearest joint plus ``background_behind_mm``
        (a table far below the camera's eye line is met only by distant rays; near rays pass
        above it).
        """
        scene, renderer = self.scene, self.renderer
        nearest = joints[:, 2].min() + scene.background_behind_mm
        normal = rot_x(uniform_deg(rng, -25, 25)) @ rot_y(uniform_deg(rng, -25, 25)) \
            @ np.array([0.0, 0.0, 1.0])
        offset = max(shape.extent(normal) + rng.uniform(*scene.wall_gap),
                     renderer.plane_offset_for_depth(normal, nearest))
        renderer.add_plane(zbuf, normal, normal * offset)
        if rng.random() < scene.table_prob:
            normal = rot_x(uniform_deg(rng, -10, 10)) @ np.array([0.0, 1.0, 0.0])
            offset = max(shape.extent(normal) + rng.uniform(*scene.table_gap),
                         renderer.plane_offset_for_depth(normal, nearest))
            renderer.add_plane(zbuf, normal, normal * offset)


@dataclass
class _Shape:
    """A subject as capsules in camera coordinates: starts (C, 3), ends (C, 3), radii (C,)."""

    starts: np.ndarray
    ends: np.ndarray
    radii: np.ndarray

    def extent(self, direction):
        """Return the largest ``direction . p`` over the subject's points (a unit direction).

        A capsule is the convex hull of its two end spheres, so the maximum is reached on one
        of them: ``direction . centre + radius``.
        """
        return float(max(np.max(self.starts @ direction + self.radii),
                         np.max(self.ends @ direction + self.radii)))


class SyntheticBodies(_SyntheticDataset):
    """Synthetic full-body frames in the itop_body_15 layout (a ``PoseDataset``)."""

    layout = 'itop_body_15'
    mode = 'body'
    input_scale = 1e-3
    default_sensor = BODY_SENSOR

    def __init__(self, split='train', num_frames=1000, seed=0, camera=None, scene=None,
                 sensor=None):
        camera = camera or _preset_camera('synthetic_body', BODY_CAMERA)
        super().__init__(split, num_frames, seed, camera, sensor)
        self.scene = scene or BodyScene()

    def load(self, index):
        """Render frame ``index``."""
        rng, scene, cam = self.rng(index), self.scene, self.camera
        joints, capsules = pose_body(rng, scene.limits)
        rotation = FACING_CAMERA @ rot_y(uniform_deg(rng, *scene.yaw))
        points = capsules.reshape(-1, 7)
        body = _Shape(points[:, 0:3] @ rotation.T, points[:, 3:6] @ rotation.T, points[:, 6])
        world = joints @ rotation.T
        lowest = body.extent(np.array([0.0, 1.0, 0.0]))          # the soles, y down
        for attempt in range(MAX_DRAWS):
            height = rng.uniform(*scene.camera_height)
            shift = np.array([rng.uniform(-scene.lateral_mm, scene.lateral_mm),
                              height - lowest, rng.uniform(*scene.depth_range)])
            pitch = self._camera_pitch(rng, world + shift, height,
                                       widen=attempt >= MAX_DRAWS // 2)
            if pitch is not None:
                break
        else:
            raise InputError(f'BodyScene cannot frame the body: depth_range {scene.depth_range}'
                             f' and camera_height {scene.camera_height} leave no camera pitch '
                             'that shows every joint without the floor in front of the body')
        tilt = rot_x(pitch)
        world = (world + shift) @ tilt.T
        body = _Shape((body.starts + shift) @ tilt.T, (body.ends + shift) @ tilt.T, body.radii)
        zbuf = self.renderer.empty()
        self.renderer.add_capsules(zbuf, body.starts, body.ends, body.radii)
        self.renderer.add_plane(zbuf, tilt @ np.array([0.0, 1.0, 0.0]),
                                tilt @ np.array([0.0, height, 0.0]))
        normal = tilt @ rot_y(uniform_deg(rng, -20, 20)) @ np.array([0.0, 0.0, 1.0])
        nearest = world[:, 2].min() + scene.background_behind_mm
        offset = max(body.extent(normal) + rng.uniform(*scene.wall_gap),
                     self.renderer.plane_offset_for_depth(normal, nearest))
        self.renderer.add_plane(zbuf, normal, normal * offset)
        if self.sensor is None:
            depth = finish_depth(zbuf, rng, scene.noise_mm, scene.noise_mm_at_1m,
                                 scene.hole_fraction, edge_hole_mm=80.0,
                                 max_depth_mm=scene.max_depth_mm)
        else:
            depth = self.sensor.apply(zbuf, rng)
        uvd = cam.project(world)
        pad_u = scene.box_pad_mm * cam.fx / uvd[:, 2].mean()
        pad_v = scene.box_pad_mm * cam.fy / uvd[:, 2].mean()
        box = np.array([uvd[:, 0].min() - pad_u, uvd[:, 1].min() - pad_v,
                        uvd[:, 0].max() + pad_u, uvd[:, 1].max() + pad_v])
        box += rng.uniform(-scene.box_jitter_px, scene.box_jitter_px, 4)
        box = np.clip(box, 0, [cam.width - 1, cam.height - 1, cam.width - 1, cam.height - 1])
        return Sample(depth=depth, joints_uvd=uvd.astype(np.float32),
                      box=box.astype(np.float32), name=f'{self.split}/{index}')

    def _camera_pitch(self, rng, joints, height, widen=False):
        """Return a camera pitch (radians, + looks down) that frames the body, or None.

        ``joints`` (K, 3) are in the unpitched camera frame, the floor ``height`` mm below the
        camera. A pitch frames the body when every joint projects ``edge_px`` inside the image
        and the floor is nowhere seen nearer than the nearest joint plus
        ``background_behind_mm`` (the camera looks up enough that the floor enters the image
        behind the body's front). The pitch is drawn in ``camera_pitch`` among the framing
        ones; with ``widen`` the framing pitch nearest to the drawn one is taken when none in
        the range frames the body.
        """
        low, high = np.deg2rad(self.scene.camera_pitch)
        grid = np.deg2rad(np.arange(-PITCH_LIMIT_DEG, PITCH_LIMIT_DEG + 1e-9, PITCH_STEP_DEG))
        framing = grid[self._frames_body(grid, joints, height)]
        preferred = rng.uniform(low, high)
        inside = framing[(framing >= low) & (framing <= high)]
        if len(inside):
            pitch = rng.uniform(inside.min(), inside.max())
            if self._frames_body(np.array([pitch]), joints, height)[0]:
                return pitch
            return inside[np.argmin(np.abs(inside - pitch))]
        if widen and len(framing):
            return framing[np.argmin(np.abs(framing - preferred))]
        return None

    def _frames_body(self, pitches, joints, height):
        """Return, per pitch (P,), whether it frames the body (see ``_camera_pitch``)."""
        cam, scene, edge = self.camera, self.scene, self.scene.edge_px
        c, s = np.cos(pitches)[:, None], np.sin(pitches)[:, None]          # (P, 1)
        y = c * joints[:, 1] - s * joints[:, 2]                              # (P, K)
        z = s * joints[:, 1] + c * joints[:, 2]
        with np.errstate(divide='ignore', invalid='ignore'):
            u = cam.cx + cam.fx * joints[:, 0] / z
            v = cam.cy + cam.fy * y / z
        inside = ((z > 0) & (u >= edge) & (u <= cam.width - 1 - edge)
                  & (v >= edge) & (v <= cam.height - 1 - edge)).all(axis=1)
        # the floor n . p = height, n = (0, cos, sin): nearest seen at height / max(n . ray)
        ray_v = self.renderer.ray_v[[0, -1]].astype(np.float64)
        facing = np.max(c * ray_v + s, axis=1)
        nearest = z.min(axis=1) + scene.background_behind_mm
        return inside & (height >= nearest * facing)


__all__ = ['BodyScene', 'HandScene', 'SyntheticBodies', 'SyntheticHands']
