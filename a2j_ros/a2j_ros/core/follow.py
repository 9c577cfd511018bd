"""Crops that follow the tracks: where the next frame's crops are placed.

Without tracking every crop comes from a ROI (``core.roi``: the nearest blob, a detector's
box). With it, a *followable* track (confirmed, seen within the prediction horizon, mean
confidence at least ``min_confidence``, and real depth where it is predicted) gets its crop
centred on its constant-velocity prediction to the frame's stamp: hands the mean of the
predicted joints (the centre the network was trained with), bodies the box of the
predicted joints grown by ``body_pad_mm``. The ROI source still runs every frame:

* a ROI that contains no followed track's predicted centre (hands: and whose centre lies
  more than ``cover_mm`` from every followed track's, in 3D) is a new instance (its crop
  comes from the ROI, as without tracking);
* a ROI that covers exactly one followed track re-anchors it when the ROI's centre lies
  more than ``reanchor_mm`` from the prediction (the track drifted off the hand);
* a ROI that covers several followed tracks (two hands merged into one blob as they
  cross) is not used: the tracks keep their own crops.

ROS-free: numpy and the core.
"""
from dataclasses import dataclass, field

import numpy as np

from a2j_ros.core.errors import InputError


@dataclass
class FollowSettings:
    """When and how crops follow tracks (millimetres, 0..1 confidences)."""

    enabled: bool = True
    min_confidence: float = 0.0     # mean joint confidence of the track's last skeleton
    reanchor_mm: float = 50.0       # ROI centre this far from the prediction: re-anchor
    refine_iterations: int = 0      # extra passes centred on the previous pass's joints
    body_pad_mm: float = 120.0      # body box = predicted joints' extent + this, each side
    cover_mm: float = 100.0         # hands: a ROI centre this near a track is that track's
    min_valid_fraction: float = 0.05    # of the crop's pixels within the hand band

    def check(self):
        """Raise InputError naming the first setting out of range."""
        if int(self.refine_iterations) < 0:
            raise InputError(f'refine_iterations must be >= 0, got {self.refine_iterations}')
        if not self.reanchor_mm > 0:
            raise InputError(f'reanchor distance must be > 0 mm, got {self.reanchor_mm}')
        return self


def project_point(camera, xyz):
    """Return (u, v, z) of one point (the per-frame path: no array machinery)."""
    x, y, z = (float(c) for c in xyz)
    return np.array([x * camera.fx / z + camera.cx, y * camera.fy / z + camera.cy, z])


def unproject_point(camera, uvd):
    """Return (x, y, z) mm of one (u, v, depth mm)."""
    u, v, d = (float(c) for c in uvd)
    return np.array([(u - camera.cx) * d / camera.fx, (v - camera.cy) * d / camera.fy, d])


@dataclass
class CropPlan:
    """The crops of one frame: anchors for ``PosePipeline.estimate_anchors`` and their origin."""

    anchors: list = field(default_factory=list)     # hand (3,) u, v, d mm; body (4,) box
    rois: list = field(default_factory=list)        # (x, y, w, h) each crop's region
    scores: list = field(default_factory=list)
    sources: list = field(default_factory=list)     # ('track', id) or ('roi', ROI index)

    def add(self, anchor, roi, score, source):
        """Append one crop."""
        self.anchors.append(np.asarray(anchor, dtype=np.float64))
        self.rois.append(tuple(int(v) for v in roi))
        self.scores.append(float(score))
        self.sources.append(source)

    def __len__(self):
        return len(self.anchors)


def body_anchor(joints, camera, pad_mm, width, height):
    """Return (box (u0, v0, u1, v1), roi (x, y, w, h)) around predicted body joints, or None."""
    joints = np.asarray(joints, dtype=np.float64)
    finite = np.all(np.isfinite(joints), axis=1) & (joints[:, 2] > 0)
    if not finite.any():
        return None
    uvd = camera.project(joints[finite])
    depth = float(np.median(uvd[:, 2]))
    pad_u, pad_v = pad_mm * abs(camera.fx) / depth, pad_mm * abs(camera.fy) / depth
    lo = uvd[:, :2].min(axis=0) - (pad_u, pad_v)
    hi = uvd[:, :2].max(axis=0) + (pad_u, pad_v)
    lo = np.maximum(lo, 0.0)
    hi = np.minimum(hi, (width - 1.0, height - 1.0))
    if np.any(hi - lo < 2):
        return None
    roi = (int(lo[0]), int(lo[1]), int(hi[0] - int(lo[0])), int(hi[1] - int(lo[1])))
    return np.array([lo[0], lo[1], hi[0], hi[1]]), roi


def hand_anchor(centre_xyz, camera, cube_mm, depth_mm, band_mm, min_valid_fraction):
    """Return (centre (u, v, d), roi) of a hand crop centred on ``centre_xyz``, or None.

    None when the centre projects outside the image or the crop holds too few valid pixels
    within ``band_mm`` of the centre's depth (nothing there any more: the hand left).
    """
    height, width = depth_mm.shape
    centre = np.asarray(centre_xyz, dtype=np.float64)
    if not np.all(np.isfinite(centre)) or centre[2] <= 0:
        return None
    u, v, d = project_point(camera, centre)
    if not (0 <= u < width and 0 <= v < height):
        return None
    half_u, half_v = cube_mm * abs(camera.fx) / d, cube_mm * abs(camera.fy) / d
    x0, y0 = max(int(u - half_u), 0), max(int(v - half_v), 0)
    x1, y1 = min(int(u + half_u) + 1, width), min(int(v + half_v) + 1, height)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    window = depth_mm[y0:y1:4, x0:x1:4]      # every 4th pixel is enough to count
    with np.errstate(invalid='ignore'):
        inside = np.abs(window - d) <= band_mm
    if inside.mean() < min_valid_fraction:
        return None
    return np.array([u, v, d]), (x0, y0, x1 - x0, y1 - y0)


def followed_anchors(predicted, camera, depth_mm, mode, crop_config, stamp_s, settings,
                     max_prediction_s):
    """Return {track id: (anchor, roi, predicted centre)} of the followable tracks."""
    out = {}
    height, width = depth_mm.shape
    for track, joints, centre in predicted:
        if not track.confirmed or stamp_s - track.last_stamp > max_prediction_s:
            continue
        if track.confidence.size and float(np.mean(track.confidence)) < settings.min_confidence:
            continue
        if mode == 'hand':
            placed = hand_anchor(centre, camera, crop_config.cube_xy_mm, depth_mm,
                                 crop_config.depth_thres_mm, settings.min_valid_fraction)
        else:
            placed = body_anchor(joints, camera, settings.body_pad_mm, width, height)
        if placed is not None:
            out[track.id] = (*placed, centre)
    return out


def plan_crops(followed, roi_kept, roi_anchors, roi_scores, mode, camera, depth_mm, settings):
    """Combine followed tracks and the frame's ROIs into a CropPlan (module docstring).

    ``followed`` from ``followed_anchors``; ``roi_kept`` [(ROI index, (x, y, w, h))] and
    ``roi_anchors`` from ``PosePipeline.prepare_rois``; ``roi_scores`` (M,) per ROI index.
    """
    plan = CropPlan()
    anchors = {tid: (a, roi) for tid, (a, roi, _) in followed.items()}
    centres_uv = {tid: project_point(camera, c)[:2] for tid, (_, _, c) in followed.items()}
    fx = abs(camera.fx)
    for (index, roi), anchor in zip(roi_kept, roi_anchors):
        x, y, w, h = roi
        near = unproject_point(camera, anchor) if mode == 'hand' else None
        inside = [tid for tid, (u, v) in centres_uv.items()
                  if (x <= u <= x + w and y <= v <= y + h)
                  or (near is not None and np.linalg.norm(near - followed[tid][2])
                      <= settings.cover_mm)]
        if len(inside) == 0:
            plan.add(anchor, roi, roi_scores[index], ('roi', index))
        elif len(inside) == 1:
            tid = inside[0]
            centre = followed[tid][2]
            if mode == 'hand':
                distance = float(np.linalg.norm(near - centre))
            else:       # bodies: the box centres' pixel distance, in mm at the body's depth
                ours = anchors[tid][0]
                shift = (np.add(anchor[:2], anchor[2:]) - np.add(ours[:2], ours[2:])) / 2.0
                distance = float(np.linalg.norm(shift)) * centre[2] / fx
            if distance > settings.reanchor_mm:
                anchors[tid] = (anchor, roi)
    for tid, (anchor, roi) in anchors.items():
        plan.add(anchor, roi, 1.0, ('track', tid))
    return plan


def refined_anchor(joints_xyz, mode, camera, settings, width, height):
    """Return the anchor of a second pass centred on a first pass's joints, or None."""
    if mode == 'hand':
        centre = np.nanmean(np.asarray(joints_xyz, dtype=np.float64), axis=0)
        if not np.all(np.isfinite(centre)) or centre[2] <= 0:
            return None
        return project_point(camera, centre)
    placed = body_anchor(joints_xyz, camera, settings.body_pad_mm, width, height)
    return None if placed is None else placed[0]


__all__ = ['CropPlan', 'FollowSettings', 'body_anchor', 'followed_anchors', 'hand_anchor',
           'project_point', 'unproject_point',
           'plan_crops', 'refined_anchor']
