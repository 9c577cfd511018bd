"""Pipeline results -> a2j_ros_msgs/SkeletonArray (metres), and ROI messages -> numpy boxes."""
import math

import numpy as np

from a2j_ros.core.errors import InputError

MM_TO_M = 1e-3


def _point(x, y, z):
    from geometry_msgs.msg import Point
    return Point(x=float(x), y=float(y), z=float(z))


def skeleton_array(results, header, layout):
    """Return a SkeletonArray with one Skeleton per PoseResult, joints in metres.

    ``header`` is the depth image's (same stamp and optical frame); ``layout`` the
    core.layouts JointLayout. ``Skeleton.roi`` is the crop fed to the network.
    """
    from a2j_ros_msgs.msg import Skeleton, SkeletonArray
    out = SkeletonArray(header=header)
    names = list(layout.joint_names)
    for i, result in enumerate(results):
        sk = Skeleton(id=i, layout=layout.name, joint_names=names, score=float(result.score))
        xyz = np.asarray(result.joints_xyz_mm, dtype=np.float64) * MM_TO_M
        uvd = np.asarray(result.joints_uvd, dtype=np.float64)
        sk.joints = [_point(*p) for p in xyz]
        sk.joints_uvd = [_point(u, v, d * MM_TO_M) for u, v, d in uvd]
        sk.confidence = [float(c) for c in np.asarray(result.confidence).reshape(-1)]
        x, y, w, h = (max(int(v), 0) for v in result.crop_box)
        sk.roi.x_offset, sk.roi.y_offset, sk.roi.width, sk.roi.height = x, y, w, h
        out.skeletons.append(sk)
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


__all__ = ['MM_TO_M', 'rois_from_a2j', 'rois_from_detection2d', 'skeleton_array']
