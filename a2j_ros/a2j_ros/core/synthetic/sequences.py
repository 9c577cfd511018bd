"""Moving synthetic sequences: hands and bodies on smooth paths, ground truth per frame and track.

``open_sequence(kind, seed=0, rate_hz=30, sensor=True)`` returns a ``SyntheticSequence``;
frame ``i`` (``seq[i]``) is the scene at ``t = i / rate_hz`` seconds: a depth image (float32
mm, 0 = invalid) and one ``TrackTruth`` per instance (visible or not), whose ``track_id``
names the physical hand or body for the whole sequence (1, 2, ...; a hand that leaves the
view and comes back keeps its id: telling a new track from an old one is the tracker's job).

Kinds (durations at any rate; ``--frames`` / ``num_frames`` cut them shorter):

- ``hand_drift`` (6 s): one right hand 420-540 mm away drifting on a smooth Lissajous path
  (up to ~110 mm/s), rolling, turning and pitching by up to 15-25 degrees, its fingers flexing
  between two poses every 3 s, the arm running to the image border.
- ``two_hands`` (8 s): a right hand enters from the left and a left hand from the right; they
  cross at ~1.6 s with the right hand ~150 mm in front, occluding the other; the left hand
  leaves the view through the left border at ~4 s and comes back ~1.2 s later.
- ``body_walk`` (6 s): an ITOP-layout body walking across the view 3.1-3.6 m away (0.27 m/s),
  turning by +-20 degrees, legs and arms swinging in a 1.1 s gait cycle, feet on the floor
  (seen in front of them, as in a room).

A track is ``visible`` when at least half of its joints are seen: inside the image and not
behind another instance (the instance's own surface is the nearest at the joint's pixel).
The sensor model (core.synthetic.sensor, the subject's default) is on unless ``sensor=False``,
which gives the perfect depth of the renderer. Everything is a function of (kind, seed, rate,
frame index): frames can be made in any order.
"""
from dataclasses import dataclass, replace
import math

import numpy as np

from a2j_ros.core.errors import InputError
from a2j_ros.core.synthetic.body_model import build_body, draw_body_pose
from a2j_ros.core.synthetic.dataset import _sensor, FACING_CAMERA, SyntheticBodies, SyntheticHands
from a2j_ros.core.synthetic.geometry import deg, rot_x, rot_y, rot_z
from a2j_ros.core.synthetic.hand_model import (
    build_hand,
    draw_hand_pose,
    HandPoseLimits,
    NYU_FROM_INTERNAL,
    PALM,
)
from a2j_ros.core.synthetic.renderer import DepthRenderer

SEQUENCES = ('hand_drift', 'two_hands', 'body_walk')
DURATION_S = {'hand_drift': 6.0, 'two_hands': 8.0, 'body_walk': 6.0}
VISIBLE_FRACTION = 0.5
ARM_MM = 600.0                         # forearm + upper arm seen as one tube to the border
# Sequence hands keep the arm behind the hand (wrist bent back, not toward the camera).
SEQUENCE_HAND_LIMITS = HandPoseLimits(wrist_flex=(5.0, 35.0), wrist_dev=(-10.0, 10.0))
MIRROR_X = np.diag([-1.0, 1.0, 1.0])   # right hand model -> left hand
BODY_CAMERA_HEIGHT_MM = 1100.0
BODY_EDGE_PX = 3.0


@dataclass
class TrackTruth:
    """Ground truth of one instance in one frame."""

    track_id: int
    xyz_mm: np.ndarray                 # (K, 3) camera optical frame, millimetres
    uvd: np.ndarray                    # (K, 3) u, v pixels and depth mm
    joint_visible: np.ndarray          # (K,) bool: inside the image and not occluded
    visible: bool                      # at least VISIBLE_FRACTION of the joints seen

    @property
    def visible_fraction(self):
        """Return the fraction of joints seen."""
        return float(np.mean(self.joint_visible))


@dataclass
class SequenceFrame:
    """One frame of a sequence."""

    index: int
    stamp_s: float
    depth_mm: np.ndarray               # (H, W) float32, 0 = invalid
    tracks: list                       # TrackTruth per instance, in track-id order

    def visible_tracks(self):
        """Return the tracks seen in this frame."""
        return [t for t in self.tracks if t.visible]


class _Path:
    """A smooth function of time: a clamped cubic spline through keys, or a callable."""

    def __init__(self, times=None, values=None, function=None):
        self.function = function
        if function is None:
            from scipy.interpolate import CubicSpline  # scipy's import is slow: when used
            self.spline = CubicSpline(np.asarray(times, float), np.asarray(values, float),
                                      axis=0, bc_type='clamped')

    def __call__(self, t):
        if self.function is not None:
            return np.asarray(self.function(t), dtype=np.float64)
        return self.spline(t)


@dataclass
class _Hand:
    """A hand instance: position of its palm centre, angles and finger poses over time."""

    track_id: int
    position: _Path                    # t -> (x, y, z) mm of the palm centre
    angles: _Path                      # t -> (roll, yaw, pitch) degrees
    poses: tuple                       # two HandPose, blended with a cosine
    flex_period_s: float
    flex_phase: float
    left: bool = False

    def shape(self, t):
        """Return (joints (14, 3) mm, capsules (C, 7)) in the camera frame at time ``t``."""
        weight = 0.5 - 0.5 * math.cos(2.0 * math.pi * t / self.flex_period_s + self.flex_phase)
        joints, capsules = build_hand(self.poses[0].blend(self.poses[1], weight), ARM_MM)
        roll, yaw, pitch = self.angles(t)
        rotation = rot_z(deg(roll)) @ FACING_CAMERA @ rot_y(deg(yaw)) @ rot_x(deg(pitch))
        if self.left:
            rotation = rotation @ MIRROR_X
        shift = self.position(t) - rotation @ joints[PALM]
        return _place(joints[NYU_FROM_INTERNAL], capsules, rotation, shift)


@dataclass
class _Body:
    """A walking body: ground position, heading and gait over time (feet on the floor)."""

    track_id: int
    pose: object                       # BodyPose: size, spine and head of the subject
    position: _Path                    # t -> (x, z) mm on the floor
    yaw: _Path                         # t -> degrees
    gait_period_s: float
    floor_y: float                     # the floor in the unpitched camera frame (y down)
    tilt: np.ndarray                   # camera pitch rotation

    def shape(self, t):
        """Return (joints (15, 3) mm, capsules (C, 7)) in the camera frame at time ``t``."""
        phase = 2.0 * math.pi * t / self.gait_period_s
        swing = math.sin(phase)
        pose = replace(self.pose)
        pose.arms = np.array([[-18.0 * swing, 8.0, 0.0, 20.0 + 12.0 * max(0.0, -swing)],
                              [18.0 * swing, 8.0, 0.0, 20.0 + 12.0 * max(0.0, swing)]])
        pose.legs = np.array([[22.0 * swing, 3.0, 8.0 + 35.0 * max(0.0, math.sin(phase - 1.2))],
                              [-22.0 * swing, 3.0, 8.0 + 35.0 * max(0.0, -math.sin(phase - 1.2))]])
        joints, capsules = build_body(pose)
        rotation = FACING_CAMERA @ rot_y(deg(float(self.yaw(t))))
        x, z = self.position(t)
        starts, ends = capsules[:, 0:3] @ rotation.T, capsules[:, 3:6] @ rotation.T
        lowest = max(np.max(starts[:, 1] + capsules[:, 6]), np.max(ends[:, 1] + capsules[:, 6]))
        shift = np.array([x, self.floor_y - lowest, z])
        joints, capsules = _place(joints, capsules, rotation, shift)
        return _place(joints, capsules, self.tilt, np.zeros(3))


def _place(joints, capsules, rotation, shift):
    """Return joints and capsules rotated then shifted (capsule radii unchanged)."""
    out = capsules.copy()
    out[:, 0:3] = capsules[:, 0:3] @ rotation.T + shift
    out[:, 3:6] = capsules[:, 3:6] @ rotation.T + shift
    return joints @ rotation.T + shift, out


class SyntheticSequence:
    """A rendered moving scene (see the module docstring); index it for SequenceFrames."""

    def __init__(self, kind, seed=0, rate_hz=30.0, sensor=True, num_frames=None):
        if kind not in SEQUENCES:
            raise InputError(f'unknown sequence {kind!r}; known: {", ".join(SEQUENCES)}')
        if not rate_hz > 0:
            raise InputError(f'rate must be > 0 Hz, got {rate_hz}')
        self.kind, self.seed, self.rate_hz = kind, int(seed), float(rate_hz)
        self.mode = 'body' if kind == 'body_walk' else 'hand'
        base = SyntheticBodies if self.mode == 'body' else SyntheticHands
        reference = base('val', 1, seed=seed)
        self.dataset = 'synthetic_' + self.mode
        self.layout, self.camera = reference.layout, reference.camera
        self.renderer = DepthRenderer(self.camera)
        self.sensor = _sensor(sensor, base.default_sensor)
        total = int(math.floor(DURATION_S[kind] * self.rate_hz + 1e-9))
        self.num_frames = total if num_frames is None else min(int(num_frames), total)
        if self.num_frames < 1:
            raise InputError(f'a {kind} sequence at {rate_hz:g} Hz has no frame')
        rng = np.random.default_rng([self.seed, 7 + SEQUENCES.index(kind)])
        self.instances = getattr(self, '_' + kind)(rng)
        self.planes = self._background(rng)

    def __len__(self):
        return self.num_frames

    def __iter__(self):
        for i in range(self.num_frames):
            yield self[i]

    def _time(self, index):
        index = int(index)
        if not 0 <= index < self.num_frames:
            raise IndexError(f'frame {index} of a {self.num_frames}-frame sequence')
        return index / self.rate_hz

    def joints_at(self, index):
        """Return {track id: joints (K, 3) mm} of frame ``index`` without rendering it."""
        t = self._time(index)
        return {instance.track_id: instance.shape(t)[0] for instance in self.instances}

    def __getitem__(self, index):
        t = self._time(index)
        index = int(index)
        zbufs, shapes = [], []
        for instance in self.instances:
            joints, capsules = instance.shape(t)
            zbuf = self.renderer.empty()
            self.renderer.add_capsules(zbuf, capsules[:, 0:3], capsules[:, 3:6], capsules[:, 6])
            zbufs.append(zbuf)
            shapes.append(joints)
        subjects = np.minimum.reduce(zbufs)
        scene = subjects.copy()
        for normal, offset in self.planes:
            self.renderer.add_plane(scene, normal, normal * offset)
        tracks = [self._truth(instance.track_id, joints, zbuf, subjects)
                  for instance, joints, zbuf in zip(self.instances, shapes, zbufs)]
        if self.sensor is None:
            depth = np.where(np.isfinite(scene), scene, 0.0).astype(np.float32)
        else:
            rng = np.random.default_rng([self.seed, 100 + SEQUENCES.index(self.kind), index])
            depth = self.sensor.apply(scene, rng)
        return SequenceFrame(index=index, stamp_s=t, depth_mm=depth, tracks=tracks)

    def _truth(self, track_id, joints, own, subjects):
        cam = self.camera
        uvd = cam.project(joints)
        u, v = np.round(uvd[:, 0]), np.round(uvd[:, 1])
        inside = (u >= 0) & (u <= cam.width - 1) & (v >= 0) & (v <= cam.height - 1)
        seen = np.zeros(len(joints), dtype=bool)
        ui, vi = u[inside].astype(int), v[inside].astype(int)
        mine = own[vi, ui]
        seen[inside] = np.isfinite(mine) & (subjects[vi, ui] >= mine - 1.0)
        return TrackTruth(track_id=track_id, xyz_mm=joints, uvd=uvd, joint_visible=seen,
                          visible=bool(seen.mean() >= VISIBLE_FRACTION))

    # --- the scenes -------------------------------------------------------------------------

    def _hand(self, rng, track_id, position, angles, left=False):
        poses = (draw_hand_pose(rng, SEQUENCE_HAND_LIMITS),
                 draw_hand_pose(rng, SEQUENCE_HAND_LIMITS))
        return _Hand(track_id, position, angles, poses, flex_period_s=3.0,
                     flex_phase=rng.uniform(0, 2 * math.pi), left=left)

    def _hand_drift(self, rng):
        centre = np.array([rng.uniform(-20, 20), rng.uniform(-10, 10), rng.uniform(470, 490)])
        ph = rng.uniform(0, 2 * math.pi, 6)

        def position(t):
            w = 2 * math.pi * t
            return centre + (70 * math.sin(w / 6 + ph[0]), 40 * math.sin(w / 4 + ph[1]),
                             60 * math.sin(w / 5 + ph[2]))

        def angles(t):
            w = 2 * math.pi * t
            return (15 * math.sin(w / 7 + ph[3]), 25 * math.sin(w / 6 + ph[4]),
                    12 + 8 * math.sin(w / 5 + ph[5]))

        return [self._hand(rng, 1, _Path(function=position), _Path(function=angles))]

    def _two_hands(self, rng):
        j = rng.uniform(-15, 15, 4)
        right = self._hand(rng, 1, _Path(
            [0.0, 1.0, 2.2, 3.4, 5.0, 6.5, 8.0],
            [(-480, 20, 430), (-160, 10 + j[0], 420), (60, 0, 400), (150 + j[1], -10, 420),
             (120, 0, 430), (100, 20, 440), (140, 10, 450)]),
            _Path([0.0, 4.0, 8.0], [(10, 0, 15), (-10, 15, 10), (5, -10, 15)]))
        left = self._hand(rng, 2, _Path(
            [0.0, 1.0, 2.2, 3.2, 4.0, 4.3, 4.6, 5.4, 6.6, 8.0],
            [(480, -20, 560), (150, -10 + j[2], 555), (-60, -20, 560), (-180 + j[3], 0, 550),
             (-430, -10, 545), (-460, -10, 545), (-430, -10, 545), (-200, 0, 540),
             (-120, -10, 535), (-50, -10, 530)]),
            _Path([0.0, 4.0, 8.0], [(-10, 0, 15), (10, -15, 10), (-5, 10, 15)]), left=True)
        return [right, left]

    def _body_walk(self, rng):
        pose = draw_body_pose(rng)
        pose.spine = np.array([0.0, 0.0, rng.uniform(0, 6)])
        pose.head_tilt = rng.uniform(-8, 8)
        x0 = rng.uniform(-50, 50)
        position = _Path([0.0, 3.0, 6.0], [(x0 - 800, 3300), (x0, 3600), (x0 + 800, 3100)])
        yaw = _Path(function=lambda t: 20.0 * math.sin(2 * math.pi * t / 6.0))
        body = _Body(1, pose, position, yaw, gait_period_s=1.1, floor_y=BODY_CAMERA_HEIGHT_MM,
                     tilt=np.eye(3))
        body.tilt = rot_x(self._body_pitch(body))
        return [body]

    def _body_pitch(self, body):
        """Return the camera pitch (radians) centring the walk's joints vertically in view.

        Every joint stays ``BODY_EDGE_PX`` inside the image at every time; the floor is seen
        in front of the feet, as in a real room (the body's ROI comes from its box).
        """
        cam = self.camera
        grid = np.deg2rad(np.arange(-20.0, 20.0 + 1e-9, 0.25))
        c, s = np.cos(grid)[:, None], np.sin(grid)[:, None]
        ok = np.ones(len(grid), dtype=bool)
        for t in np.arange(0.0, DURATION_S['body_walk'] + 1e-9, 0.1):
            joints, _ = body.shape(t)
            y = c * joints[:, 1] - s * joints[:, 2]
            z = s * joints[:, 1] + c * joints[:, 2]
            v = cam.cy + cam.fy * y / z
            u = cam.cx + cam.fx * joints[:, 0] / z
            ok &= ((v >= BODY_EDGE_PX) & (v <= cam.height - 1 - BODY_EDGE_PX)
                   & (u >= BODY_EDGE_PX) & (u <= cam.width - 1 - BODY_EDGE_PX)).all(axis=1)
        if not ok.any():
            raise InputError('body_walk: no camera pitch keeps the whole walk in view')
        return float(np.median(grid[ok]))

    def _background(self, rng):
        """Return planes (normal, offset) behind every instance at every time: wall (+floor)."""
        times = np.arange(0.0, DURATION_S[self.kind] + 1e-9, 0.1)
        normal = rot_x(deg(rng.uniform(-10, 10))) @ rot_y(deg(rng.uniform(-15, 15))) \
            @ np.array([0.0, 0.0, 1.0])
        if self.mode == 'body':
            tilt = self.instances[0].tilt
            normal = tilt @ normal
        far, nearest = -np.inf, np.inf
        for t in times:
            for instance in self.instances:
                joints, capsules = instance.shape(t)
                ends = np.concatenate([capsules[:, 0:3], capsules[:, 3:6]])
                radii = np.concatenate([capsules[:, 6], capsules[:, 6]])
                far = max(far, float(np.max(ends @ normal + radii)))
                nearest = min(nearest, float(joints[:, 2].min()))
        gap = 600.0 if self.mode == 'body' else 250.0
        offset = max(far + gap, self.renderer.plane_offset_for_depth(normal, nearest + 15.0))
        planes = [(normal, offset)]
        if self.mode == 'body':
            tilt = self.instances[0].tilt
            planes.append((tilt @ np.array([0.0, 1.0, 0.0]), BODY_CAMERA_HEIGHT_MM))
        return planes


def open_sequence(kind, seed=0, rate_hz=30.0, sensor=True, num_frames=None):
    """Return the SyntheticSequence ``kind`` (see the module docstring)."""
    return SyntheticSequence(kind, seed=seed, rate_hz=rate_hz, sensor=sensor,
                             num_frames=num_frames)


__all__ = ['DURATION_S', 'SEQUENCES', 'SequenceFrame', 'SyntheticSequence', 'TrackTruth',
           'open_sequence']
