"""What a replay produced, frame by frame, and how predictions are paired with ground truth.

Both replay modes fill a ReplayRecord: offline from ``core.pipeline.PosePipeline`` results,
live from the SkeletonArray messages the pose node published. The report reads only this.
"""
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from scipy.optimize import linear_sum_assignment

from a2j_ros.bag.frames import GroundTruth


@dataclass
class FrameOutcome:
    """The skeletons estimated for one depth frame of the bag (M instances, K joints)."""

    index: int
    stamp_ns: int
    pred_xyz_mm: np.ndarray             # (M, K, 3)
    pred_uvd: np.ndarray                # (M, K, 3) u, v pixels, depth mm
    confidence: np.ndarray              # (M, K)
    rois: np.ndarray                    # (M, 4) x, y, w, h: the crop fed to the network
    ground_truth: Optional[GroundTruth] = None
    latency_s: Optional[float] = None   # offline: pipeline time; live: publish -> received
    received: bool = True               # live: False when no SkeletonArray came back (dropped)

    @classmethod
    def empty(cls, index, stamp_ns, num_joints, ground_truth=None, received=False):
        """Return an outcome without skeletons (a dropped frame or nothing detected)."""
        zeros = np.zeros((0, num_joints, 3))
        return cls(index=index, stamp_ns=stamp_ns, pred_xyz_mm=zeros, pred_uvd=zeros.copy(),
                   confidence=np.zeros((0, num_joints)), rois=np.zeros((0, 4), dtype=np.int64),
                   ground_truth=ground_truth, received=received)


@dataclass
class ReplayRecord:
    """Everything one replay measured; ``overlay_depth`` keeps a few frames for pictures."""

    bag: str
    mode: str                           # offline | live
    layout: str
    frames: list = field(default_factory=list)      # FrameOutcome per depth frame, in order
    wall_time_s: float = 0.0            # from the first frame in to the last result out
    overlay_depth: dict = field(default_factory=dict)   # frame index -> depth mm (H, W)
    settings: dict = field(default_factory=dict)    # checkpoint, roi_source, topics, device...


def match_instances(pred_xyz_mm, gt_xyz_mm):
    """Pair predictions with ground-truth instances; return a list of (pred_i, gt_j).

    One-to-one, minimising the summed mean joint distance (Hungarian algorithm); with one
    of each this is the single pair. Ground truth left without a partner counts as missed.
    """
    pred = np.asarray(pred_xyz_mm, dtype=np.float64)
    gt = np.asarray(gt_xyz_mm, dtype=np.float64)
    if len(pred) == 0 or len(gt) == 0:
        return []
    dist = np.linalg.norm(pred[:, None] - gt[None], axis=-1)        # (P, G, K)
    cost = np.nan_to_num(np.nanmean(dist, axis=-1), nan=1e12)
    rows, cols = linear_sum_assignment(cost)
    return [(int(r), int(c)) for r, c in zip(rows, cols)]


def paired_arrays(record):
    """Return (pred_xyz, gt_xyz, pred_uvd, gt_uvd, frame_index, missed) over matched pairs.

    Arrays are (N, K, 3); ``frame_index`` (N,) names the bag frame of each pair; ``missed``
    counts ground-truth instances without a prediction (dropped or undetected frames).
    """
    pred_xyz, gt_xyz, pred_uvd, gt_uvd, index = [], [], [], [], []
    missed = 0
    for frame in record.frames:
        gt = frame.ground_truth
        if gt is None or len(gt.xyz_mm) == 0:
            continue
        pairs = match_instances(frame.pred_xyz_mm, gt.xyz_mm)
        missed += len(gt.xyz_mm) - len(pairs)
        for p, g in pairs:
            pred_xyz.append(frame.pred_xyz_mm[p])
            gt_xyz.append(gt.xyz_mm[g])
            pred_uvd.append(frame.pred_uvd[p])
            gt_uvd.append(gt.uvd[g])
            index.append(frame.index)
    if not pred_xyz:
        empty = np.zeros((0, 0, 3))
        return empty, empty, empty, empty, np.zeros(0, dtype=np.int64), missed
    return (np.stack(pred_xyz), np.stack(gt_xyz), np.stack(pred_uvd), np.stack(gt_uvd),
            np.asarray(index, dtype=np.int64), missed)


__all__ = ['FrameOutcome', 'ReplayRecord', 'match_instances', 'paired_arrays']
