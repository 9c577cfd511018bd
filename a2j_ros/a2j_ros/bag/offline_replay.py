"""Offline replay: read a bag and run ``core.pipeline.PosePipeline`` on every depth frame.

The same pipeline code as the pose node, without ROS: deterministic for a given checkpoint,
bag and device. ROIs come from the bag's ROI topic (``topic``), from the detector-free
sources of ``core.roi_search`` (``nearest``, ``full_frame``), as the node's ``roi_source``.
The latency of a frame is the time to find its ROIs (detector-free sources) plus the
pipeline's own time (prepare + crop + network + decode); bag reading is not included.
"""
import time

import numpy as np

from a2j_ros.bag.reader import BagReader
from a2j_ros.bag.replay_record import FrameOutcome, ReplayRecord
from a2j_ros.core.errors import InputError

ROI_SOURCES = ('topic', 'nearest', 'full_frame')
# Depth range (m) of the ROI search and the hand centre, as the pose node's depth_min_m /
# depth_max_m: the node's defaults for hands (config/hand_pose.yaml); bodies stand farther.
DEFAULT_DEPTH_RANGE_M = {'hand': (0.1, 1.5), 'body': (0.1, 6.0)}


def overlay_indices(total, count):
    """Return ``count`` frame indices spread evenly over ``total`` frames."""
    if total <= 0 or count <= 0:
        return set()
    return set(np.linspace(0, total - 1, num=min(count, total)).round().astype(int).tolist())


def frame_rois(frame, roi_source, mode, search):
    """Return ``(rois (M, 4), scores (M,))`` of a BagFrame for ``roi_source``.

    Topic ROIs beyond ``search.max_instances`` are dropped, highest scores kept (as the node).
    """
    if roi_source == 'topic':
        if frame.rois is None:
            raise InputError('the bag has no ROI topic; use --roi-source nearest or full_frame '
                             '(or name the topic with --roi-topic)')
        rois, scores = frame.rois, frame.roi_scores
        if len(scores) == len(rois) and len(rois) > search.max_instances:
            keep = np.sort(np.argsort(-scores, kind='stable')[:search.max_instances])
            rois, scores = rois[keep], scores[keep]
        return rois, scores
    from a2j_ros.core.roi_search import find_rois
    return find_rois(frame.depth_mm, roi_source, mode, search, frame.camera)


def configure_depth_range(pipeline, depth_range_m=None, max_instances=1):
    """Set the pipeline's depth range like the node's; return the matching RoiSearch."""
    from a2j_ros.core.roi_search import RoiSearch
    near_m, far_m = depth_range_m or DEFAULT_DEPTH_RANGE_M[pipeline.mode]
    if not 0 <= near_m < far_m:
        raise InputError(f'depth range must satisfy 0 <= near < far, got {near_m}, {far_m} m')
    pipeline.min_depth_mm, pipeline.max_depth_mm = near_m * 1000.0, far_m * 1000.0
    return RoiSearch(min_depth_mm=near_m * 1000.0, max_depth_mm=far_m * 1000.0,
                     max_instances=int(max_instances))


def outcome_from_results(frame, results, num_joints, latency_s):
    """Return the FrameOutcome of a frame from PosePipeline results."""
    if not results:
        outcome = FrameOutcome.empty(frame.index, frame.stamp_ns, num_joints,
                                     frame.ground_truth, received=True)
        outcome.latency_s = latency_s
        return outcome
    return FrameOutcome(
        index=frame.index, stamp_ns=frame.stamp_ns,
        pred_xyz_mm=np.stack([r.joints_xyz_mm for r in results]).astype(np.float64),
        pred_uvd=np.stack([r.joints_uvd for r in results]).astype(np.float64),
        confidence=np.stack([r.confidence for r in results]).astype(np.float64),
        rois=np.asarray([r.crop_box for r in results], dtype=np.int64).reshape(-1, 4),
        ground_truth=frame.ground_truth, latency_s=latency_s)


def replay_offline(bag_path, checkpoint, topics=None, roi_source='topic', device='cpu',
                   backend='eager', max_frames=None, overlay_count=6, depth_range_m=None,
                   max_instances=1, pipeline=None, progress=True):
    """Run the pipeline over the bag; return a ReplayRecord (mode 'offline').

    ``pipeline`` may be a ready PosePipeline (then ``checkpoint`` only names it in the
    report). ``depth_range_m`` (near, far) and ``max_instances`` mean what the node's
    depth_min_m, depth_max_m and max_instances parameters mean (defaults: the node's).
    """
    from tqdm import tqdm

    from a2j_ros.core.pipeline import PosePipeline

    if roi_source not in ROI_SOURCES:
        raise InputError(f'unknown ROI source {roi_source!r}; use one of {list(ROI_SOURCES)}')
    if pipeline is None:
        pipeline = PosePipeline.from_checkpoint(checkpoint, device=device, backend=backend)
    search = configure_depth_range(pipeline, depth_range_m, max_instances)
    if hasattr(pipeline, 'warm_up'):
        pipeline.warm_up()          # as the node does, so frame 0 is not the slow one
    num_joints = pipeline.layout.num_joints
    record = ReplayRecord(bag=str(bag_path), mode='offline', layout=pipeline.layout.name,
                          settings={'checkpoint': str(checkpoint), 'roi_source': roi_source,
                                    'device': str(pipeline.device), 'backend': backend,
                                    'depth_range_m': [search.min_depth_mm / 1000.0,
                                                      search.max_depth_mm / 1000.0],
                                    'max_instances': search.max_instances})
    with BagReader(bag_path, topics) as bag:
        record.settings['topics'] = vars(bag.topics).copy()
        record.settings['missing_topics'] = list(bag.missing_topics)
        total = len(bag) if max_frames is None else min(len(bag), max_frames)
        wanted = overlay_indices(total, overlay_count)
        start = time.perf_counter()
        with tqdm(total=total, desc='offline replay', unit='frame',
                  disable=not progress) as bar:
            for frame in bag.frames(max_frames):
                t0 = time.perf_counter()
                rois, scores = frame_rois(frame, roi_source, pipeline.mode, search)
                roi_s = time.perf_counter() - t0
                estimate = pipeline.estimate_frame(frame.depth_mm, frame.camera, rois, scores)
                latency = roi_s + estimate.timings_ms['total'] / 1000.0
                record.frames.append(outcome_from_results(frame, estimate.results, num_joints,
                                                          latency))
                if frame.index in wanted:
                    record.overlay_depth[frame.index] = frame.depth_mm
                bar.update(1)
        record.wall_time_s = time.perf_counter() - start
    return record


__all__ = ['DEFAULT_DEPTH_RANGE_M', 'ROI_SOURCES', 'configure_depth_range', 'frame_rois',
           'overlay_indices', 'replay_offline']
