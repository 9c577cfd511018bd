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
    received: bool = True               # False: skipped (see skip_kind) or, live, dropped
    skip_kind: str = ''                 # why the frame was not estimated (bag.frames.BagFrame)
    track_ids: Optional[np.ndarray] = None  # (M,) the node's Skeleton.id (live); None = index
    skip_reason: str = ''

    @classmethod
    def empty(cls, index, stamp_ns, num_joints, ground_truth=None, received=False):
        """Return an outcome without skeletons (a dropped frame or nothing detected)."""
        zeros = np.zeros((0, num_joints, 3))
        return cls(index=index, stamp_ns=stamp_ns, pred_xyz_mm=zeros, pred_uvd=zeros.copy(),
                   confidence=np.zeros((0, num_joints)), rois=np.zeros((0, 4), dtype=np.int64),
                   ground_truth=ground_truth, received=received)

    @classmethod
    def skipped(cls, frame, num_joints, kind=None, reason=None):
        """Return the outcome of a bag frame that could not be estimated, and why."""
        outcome = cls.empty(frame.index, frame.stamp_ns, num_joints, frame.ground_truth)
        outcome.skip_kind = kind or frame.skip_kind
        outcome.skip_reason = reason or frame.skip_reason
        return outcome

    @property
    def dropped(self):
        """Return True for a live frame that was played but never answered."""
        return not self.received and not self.skip_kind


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
    skipped_messages: list = field(default_factory=list)    # non-depth messages skipped
    read_error: Optional[str] = None    # the bag's storage broke mid-way (frames kept so far)
    warnings: list = field(default_factory=list)    # said once to the user, kept in the report
    notes: list = field(default_factory=list)       # topic choices made for the user
    extra: dict = field(default_factory=dict)       # more report sections (e.g. live pairing)


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


def matched_pairs(record):
    """Return the prediction / ground-truth pairs of a replay as a dict of arrays.

    Keys: ``pred_xyz``, ``gt_xyz``, ``pred_uvd``, ``gt_uvd`` (N, K, 3), ``frame_ids`` (N,)
    the bag frame of each pair, ``instance_ids`` (N,) the ground-truth instance in that frame,
    ``stamps`` (N,) and ``missed``: ground-truth instances without a prediction (skipped,
    dropped or undetected frames).
    """
    rows = {k: [] for k in ('pred_xyz', 'gt_xyz', 'pred_uvd', 'gt_uvd', 'frame_ids',
                            'instance_ids', 'stamps')}
    missed = 0
    for frame in record.frames:
        gt = frame.ground_truth
        if gt is None or len(gt.xyz_mm) == 0:
            continue
        pairs = match_instances(frame.pred_xyz_mm, gt.xyz_mm)
        missed += len(gt.xyz_mm) - len(pairs)
        for p, g in sorted(pairs, key=lambda pair: pair[1]):
            rows['pred_xyz'].append(frame.pred_xyz_mm[p])
            rows['gt_xyz'].append(gt.xyz_mm[g])
            rows['pred_uvd'].append(frame.pred_uvd[p])
            rows['gt_uvd'].append(gt.uvd[g])
            rows['frame_ids'].append(frame.index)
            rows['instance_ids'].append(g)
            rows['stamps'].append(frame.stamp_ns)
    out = {}
    for key, values in rows.items():
        if key in ('frame_ids', 'instance_ids', 'stamps'):
            out[key] = np.asarray(values, dtype=np.int64)
        else:
            out[key] = np.stack(values) if values else np.zeros((0, 0, 3))
    out['missed'] = missed
    return out


def paired_arrays(record):
    """Return (pred_xyz, gt_xyz, pred_uvd, gt_uvd, frame_index, missed) over matched pairs."""
    pairs = matched_pairs(record)
    return (pairs['pred_xyz'], pairs['gt_xyz'], pairs['pred_uvd'], pairs['gt_uvd'],
            pairs['frame_ids'], pairs['missed'])


def all_predictions(record):
    """Return every skeleton of the replay as a dict of arrays, one row per instance.

    ``stamps``, ``frame_ids`` (bag frame index), ``track_ids`` (the instance's index in its
    frame until a tracker gives ids), ``xyz``/``uvd`` (N, K, 3) mm, ``confidence`` (N, K).
    """
    rows = {k: [] for k in ('stamps', 'frame_ids', 'track_ids', 'xyz', 'uvd', 'confidence')}
    for frame in record.frames:
        track_ids = getattr(frame, 'track_ids', None)
        for i in range(len(frame.pred_xyz_mm)):
            rows['stamps'].append(frame.stamp_ns)
            rows['frame_ids'].append(frame.index)
            rows['track_ids'].append(int(track_ids[i]) if track_ids is not None else i)
            rows['xyz'].append(frame.pred_xyz_mm[i])
            rows['uvd'].append(frame.pred_uvd[i])
            rows['confidence'].append(frame.confidence[i])
    out = {k: np.asarray(rows[k], dtype=np.int64) for k in ('stamps', 'frame_ids', 'track_ids')}
    for key in ('xyz', 'uvd', 'confidence'):
        out[key] = np.stack(rows[key]) if rows[key] else None
    return out


def pair_answers(frames, sent, answers):
    """Pair answers with played frames by stamp and order; return (pairs, unmatched).

    ``pairs`` maps a frame index to its (arrival, msg): the k-th answer stamped s goes to the
    k-th frame played with stamp s, and only if it arrived after that frame was played.
    """
    played = sorted(sent, key=sent.get)
    queue = {}
    for index in played:
        queue.setdefault(frames[index].stamp_ns, []).append(index)
    pairs, unmatched = {}, 0
    for arrival, stamp, msg in answers:
        waiting = queue.get(stamp)
        if waiting and sent[waiting[0]] <= arrival:
            pairs[waiting.pop(0)] = (arrival, msg)
        else:
            unmatched += 1
    return pairs, unmatched


__all__ = ['FrameOutcome', 'ReplayRecord', 'all_predictions', 'match_instances', 'matched_pairs',
           'pair_answers', 'paired_arrays']
