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

SPLIT_IDS = {'train': 0, 'val': 1, 'test': 1}
# hand frame (y fingers, z palm side) -> camera (y down, z forward): fingers up, palm facing
# the camera; body frame (y up, z front) -> camera the same way: standing, facing the camera.
FACING_CAMERA = np.diag([1.0, -1.0, -1.0])


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
    wall_gap: tuple = (250.0, 700.0)         # wall behind the hand
    table_prob: float = 0.5
    noise_mm: float = 1.0
    noise_mm_at_1m: float = 1.5
    hole_fraction: float = 0.01
    limits: HandPoseLimits = field(default_factory=HandPoseLimits)


@dataclass
class BodyScene:
    """How synthetic body frames are drawn (angles in degrees, distances in mm)."""

    depth_range: tuple = (2500.0, 4000.0)
    lateral_mm: float = 500.0
    yaw: tuple = (-70.0, 70.0)               # turn about the vertical (0 = facing the camera)
    camera_height: tuple = (800.0, 1300.0)
    camera_pitch: tuple = (-8.0, 8.0)
    wall_gap: tuple = (600.0, 2000.0)
    box_pad_mm: float = 120.0
    box_jitter_px: float = 4.0
    noise_mm: float = 4.0
    noise_mm_at_1m: float = 2.5
    hole_fraction: float = 0.01
    max_depth_mm: float = 8000.0
    limits: BodyPoseLimits = field(default_factory=BodyPoseLimits)


class _SyntheticDataset(PoseDataset):
    """Shared frame bookkeeping of the synthetic sets."""

    def __init__(self, split='train', num_frames=1000, seed=0, camera=None):
        select_split(split, tuple(SPLIT_IDS))
        if int(num_frames) < 1:
            raise InputError(f'num_frames must be >= 1, got {num_frames}')
        self.split, self.num_frames, self.seed = split, int(num_frames), int(seed)
        self.offset = 0
        self.camera = camera
        self.renderer = DepthRenderer(camera)

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

    def __init__(self, split='train', num_frames=1000, seed=0, camera=None, scene=None):
        camera = camera or _preset_camera('synthetic_hand', HAND_CAMERA)
        super().__init__(split, num_frames, seed, camera)
        self.scene = scene or HandScene()

    def load(self, index):
        """Render frame ``index``."""
        rng, scene, cam = self.rng(index), self.scene, self.camera
        joints, capsules = pose_hand(rng, scene.limits)
        rotation = (rot_z(uniform_deg(rng, *scene.roll)) @ FACING_CAMERA
                    @ rot_y(uniform_deg(rng, *scene.yaw)) @ rot_x(uniform_deg(rng, *scene.pitch)))
        nyu = joints[NYU_FROM_INTERNAL] @ rotation.T
        mean = nyu.mean(axis=0)
        # place the joints' mean so the crop cube stays inside the image
        z = rng.uniform(*scene.depth_range)
        half_u = scene.cube_mm * cam.fx / z + 2
        half_v = scene.cube_mm * cam.fy / z + 2
        u = rng.uniform(min(half_u, cam.cx), max(cam.width - 1 - half_u, cam.cx))
        v = rng.uniform(min(half_v, cam.cy), max(cam.height - 1 - half_v, cam.cy))
        shift = cam.unproject(np.array([u, v, z])) - mean
        nyu += shift
        points = capsules.reshape(-1, 7)
        starts = points[:, 0:3] @ rotation.T + shift
        ends = points[:, 3:6] @ rotation.T + shift
        zbuf = self.renderer.empty()
        self.renderer.add_capsules(zbuf, starts, ends, points[:, 6])
        self._background(zbuf, rng, nyu)
        depth = finish_depth(zbuf, rng, scene.noise_mm, scene.noise_mm_at_1m,
                             scene.hole_fraction)
        centre = cam.project(nyu.mean(axis=0) + rng.normal(0.0, scene.centre_noise_mm, 3))
        return Sample(depth=depth, joints_uvd=cam.project(nyu).astype(np.float32),
                      centre_uvd=centre.astype(np.float32), name=f'{self.split}/{index}')

    def _background(self, zbuf, rng, joints):
        scene = self.scene
        far = joints[:, 2].max() + rng.uniform(*scene.wall_gap)
        normal = rot_x(uniform_deg(rng, -25, 25)) @ rot_y(uniform_deg(rng, -25, 25)) \
            @ np.array([0.0, 0.0, 1.0])
        self.renderer.add_plane(zbuf, normal, (0.0, 0.0, far))
        if rng.random() < scene.table_prob:
            below = joints[:, 1].max() + rng.uniform(60.0, 250.0)
            normal = rot_x(uniform_deg(rng, -10, 10)) @ np.array([0.0, 1.0, 0.0])
            self.renderer.add_plane(zbuf, normal, (0.0, below, joints[:, 2].mean()))


class SyntheticBodies(_SyntheticDataset):
    """Synthetic full-body frames in the itop_body_15 layout (a ``PoseDataset``)."""

    layout = 'itop_body_15'
    mode = 'body'
    input_scale = 1e-3

    def __init__(self, split='train', num_frames=1000, seed=0, camera=None, scene=None):
        camera = camera or _preset_camera('synthetic_body', BODY_CAMERA)
        super().__init__(split, num_frames, seed, camera)
        self.scene = scene or BodyScene()

    def load(self, index):
        """Render frame ``index``."""
        rng, scene, cam = self.rng(index), self.scene, self.camera
        joints, capsules = pose_body(rng, scene.limits)
        rotation = FACING_CAMERA @ rot_y(uniform_deg(rng, *scene.yaw))
        height = rng.uniform(*scene.camera_height)
        z = rng.uniform(*scene.depth_range)
        world = joints @ rotation.T
        points = capsules.reshape(-1, 7)
        starts, ends = points[:, 0:3] @ rotation.T, points[:, 3:6] @ rotation.T
        lowest = max(np.max(starts[:, 1] + points[:, 6]), np.max(ends[:, 1] + points[:, 6]))
        shift = np.array([rng.uniform(-scene.lateral_mm, scene.lateral_mm),
                          height - lowest, z])
        tilt = rot_x(uniform_deg(rng, *scene.camera_pitch))
        world = (world + shift) @ tilt.T
        starts, ends = (starts + shift) @ tilt.T, (ends + shift) @ tilt.T
        zbuf = self.renderer.empty()
        self.renderer.add_capsules(zbuf, starts, ends, points[:, 6])
        self.renderer.add_plane(zbuf, tilt @ np.array([0.0, 1.0, 0.0]),
                                tilt @ np.array([0.0, height, z]))
        wall = z + rng.uniform(*scene.wall_gap)
        self.renderer.add_plane(zbuf, tilt @ rot_y(uniform_deg(rng, -20, 20))
                                @ np.array([0.0, 0.0, 1.0]), tilt @ np.array([0.0, 0.0, wall]))
        depth = finish_depth(zbuf, rng, scene.noise_mm, scene.noise_mm_at_1m,
                             scene.hole_fraction, edge_hole_mm=80.0,
                             max_depth_mm=scene.max_depth_mm)
        uvd = cam.project(world)
        pad_u = scene.box_pad_mm * cam.fx / uvd[:, 2].mean()
        pad_v = scene.box_pad_mm * cam.fy / uvd[:, 2].mean()
        box = np.array([uvd[:, 0].min() - pad_u, uvd[:, 1].min() - pad_v,
                        uvd[:, 0].max() + pad_u, uvd[:, 1].max() + pad_v])
        box += rng.uniform(-scene.box_jitter_px, scene.box_jitter_px, 4)
        box = np.clip(box, 0, [cam.width - 1, cam.height - 1, cam.width - 1, cam.height - 1])
        return Sample(depth=depth, joints_uvd=uvd.astype(np.float32),
                      box=box.astype(np.float32), name=f'{self.split}/{index}')


__all__ = ['BodyScene', 'HandScene', 'SyntheticBodies', 'SyntheticHands']
