"""Pipeline results -> a2j_ros_msgs/SkeletonArray (metres), and ROI messages -> numpy boxes.

Built for a per-frame budget: the points come from one ``tolist()`` of a float64 array and
are created without rclpy's per-field type assertions (``check_fields=False``, where this
ROS distribution's generated messages support it: the values are Python floats already),
float32[] fields are filled from an ``array.array``, and joint-name lists are cached.
"""
import array
import functools
import math

import numpy as np

from a2j_ros.core.errors import InputError

MM_TO_M = 1e-3


@functools.lru_cache(maxsize=None)
def unchecked(message_type):
    """Return the constructor keywords that skip ``message_type``'s field checks, or {}.

    ROS 2 Jazzy and later generate ``check_fields``; older messages assert on it.
    """
    return {'check_fields': False} if '_check_fields' in message_type.__slots__ else {}


def points(rows):
    """Return a list of geometry_msgs/Point, one per (x, y, z) row of an (N, 3) array."""
    from geometry_msgs.msg import Point
    kw = unchecked(Point)
    return [Point(x=x, y=y, z=z, **kw) for x, y, z in np.asarray(rows, np.float64).tolist()]


@functools.lru_cache(maxsize=16)
def _joint_names(layout):
    return tuple(layout.joint_names)


def skeleton_array(results, header, layout):
    """Return a SkeletonArray with one Skeleton per PoseResult, joints in metres.

    ``header`` is the depth image's (same stamp and optical frame); ``layout`` the
    core.layouts JointLayout. ``Skeleton.roi`` is the crop fed to the network.
    ``Skeleton.id`` is the result's track id (core.tracking: stable while the instance is
    seen, never reused), or its index in the frame when the result is untracked.
    """
    from sensor_msgs.msg import RegionOfInterest

    from a2j_ros_msgs.msg import Skeleton, SkeletonArray
    out = SkeletonArray(header=header)
    names = list(_joint_names(layout))
    kw, roi_kw = unchecked(Skeleton), unchecked(RegionOfInterest)
    skeletons = []
    for i, result in enumerate(results):
        xyz = np.asarray(result.joints_xyz_mm, dtype=np.float64) * MM_TO_M
        uvd = np.array(result.joints_uvd, dtype=np.float64)
        uvd[:, 2] *= MM_TO_M
        x, y, w, h = (max(int(v), 0) for v in result.crop_box)
        confidence = np.asarray(result.confidence, dtype=np.float32).reshape(-1)
        skeletons.append(Skeleton(
            id=i if getattr(result, 'track_id', None) is None else int(result.track_id),
            layout=layout.name, joint_names=names, score=float(result.score),
            joints=points(xyz), joints_uvd=points(uvd),
            confidence=array.array('f', confidence.tobytes()),
            roi=RegionOfInterest(x_offset=x, y_offset=y, width=w, height=h, **roi_kw), **kw))
    out.skeletons = skeletons
    return out


def rois_from_a2j(msg):
    """Return ``(rois (M, 4) int64 x, y, w, h, scores (M,))`` of a RegionOfInterestArray."""
    rois = np.array([(r.x_offset, r.y_offset, r.width, r.height) for r in msg.rois],
                    dtype=np.int64).reshape(-1, 4)
    scores = np.asarray(msg.scores, dtype=np.float32).reshape(-1)
    if len(scores) == 0:
        scores = np.ones(len(rois), np.float32)
    elif len(scores) != len(rois):
        raise InputError(f'RegionOfInterestArray has {len(rois)} rois but {len(scores)} scores')
    return rois, scores


def rois_from_detection2d(msg):
    """Return ``(rois, scores)`` of a vision_msgs/Detection2DArray (centre + size boxes).

    The score is the best hypothesis' score (1.0 without results).
    """
    rows, scores = [], []
    for det in msg.detections:
        box = det.bbox
        centre = box.center.position if hasattr(box.center, 'position') else box.center
        cx, cy, w, h = float(centre.x), float(centre.y), float(box.size_x), float(box.size_y)
        if not all(math.isfinite(v) for v in (cx, cy, w, h)):
            raise InputError('Detection2D box has non-finite values')
        rows.append((round(cx - w / 2.0), round(cy - h / 2.0), round(w), round(h)))
        best = [float(r.hypothesis.score) for r in det.results] if det.results else [1.0]
        scores.append(max(best))
    return (np.array(rows, dtype=np.int64).reshape(-1, 4),
            np.array(scores, dtype=np.float32))


__all__ = ['MM_TO_M', 'points', 'rois_from_a2j', 'rois_from_detection2d', 'skeleton_array',
           'unchecked']
