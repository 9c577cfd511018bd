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


def check_replay_options(max_frames=None, max_instances=1, overlay_count=6):
    """Raise InputError for options that would make a replay do nothing or nonsense."""
    if max_frames is not None and int(max_frames) <= 0:
        raise InputError(f'--frames must be a positive number of frames, got {max_frames}')
    if int(max_instances) <= 0:
        raise InputError(f'--max-instances must be at least 1, got {max_instances}')
    if int(overlay_count) < 0:
        raise InputError(f'--overlays must be >= 0, got {overlay_count}')


def resolve_roi_source(roi_source, bag):
    """Return the ROI source for an open BagReader: ``auto`` = topic if it has ROIs."""
    if roi_source == 'auto':
        return 'topic' if bag.topics.roi else 'nearest'
    if roi_source not in ROI_SOURCES:
        raise InputError(f'unknown ROI source {roi_source!r}; use auto or one of '
                         f'{list(ROI_SOURCES)}')
    if roi_source == 'topic' and not bag.topics.roi:
        raise InputError(f'bag {bag.path} has no ROI topic; use --roi-source nearest or '
                         'full_frame, or name it with --roi-topic')
    return roi_source


def start_record(bag, mode, layout, settings):
    """Return a ReplayRecord carrying what the BagReader chose and noticed."""
    settings = dict(settings, topics=vars(bag.topics).copy(), depth_transport=bag.transport,
                    missing_topics=list(bag.missing_topics))
    return ReplayRecord(bag=str(bag.path), mode=mode, layout=layout, settings=settings,
                        warnings=list(bag.warnings), notes=list(bag.notes))


def finish_record(record, bag, count):
    """Copy the reader's skipped messages and read error; raise when the bag had no frame."""
    record.skipped_messages = list(bag.skipped_messages)
    record.read_error = bag.read_error
    if count == 0:
        why = f' ({bag.read_error})' if bag.read_error else ''
        raise InputError(f'bag {bag.path} has no depth frames on {bag.topics.depth}{why}')


def replay_offline(bag_path, checkpoint, topics=None, roi_source='topic', device='cpu',
                   backend='eager', max_frames=None, overlay_count=6, depth_range_m=None,
                   max_instances=1, pipeline=None, progress=True):
    """Run the pipeline over the bag; return a ReplayRecord (mode 'offline').

    ``pipeline`` may be a ready PosePipeline (then ``checkpoint`` only names it in the
    report). ``depth_range_m`` (near, far) and ``max_instances`` mean what the node's
    depth_min_m, depth_max_m and max_instances parameters mean (defaults: the node's).
    The bag is opened (and its topics chosen) before the model is loaded.
    """
    from tqdm import tqdm

    from a2j_ros.core.pipeline import PosePipeline

    check_replay_options(max_frames, max_instances, overlay_count)
    with BagReader(bag_path, topics) as bag:
        roi_source = resolve_roi_source(roi_source, bag)
        if pipeline is None:
            pipeline = PosePipeline.from_checkpoint(checkpoint, device=device, backend=backend)
        search = configure_depth_range(pipeline, depth_range_m, max_instances)
        if hasattr(pipeline, 'warm_up'):
            pipeline.warm_up()      # as the node does, so frame 0 is not the slow one
        num_joints = pipeline.layout.num_joints
        record = start_record(bag, 'offline', pipeline.layout.name, {
            'checkpoint': str(checkpoint), 'roi_source': roi_source,
            'device': str(pipeline.device), 'backend': backend,
            'depth_range_m': [search.min_depth_mm / 1000.0, search.max_depth_mm / 1000.0],
            'max_instances': search.max_instances})
        total = len(bag) if max_frames is None else min(len(bag), max_frames)
        wanted = overlay_indices(total, overlay_count)
        start = time.perf_counter()
        with tqdm(total=total, desc='offline replay', unit='frame',
                  disable=not progress) as bar:
            for frame in bag.frames(max_frames):
                record.frames.append(_estimate(frame, pipeline, roi_source, search,
                                               num_joints))
                if frame.index in wanted and frame.depth_mm is not None:
                    record.overlay_depth[frame.index] = frame.depth_mm
                bar.update(1)
        record.wall_time_s = time.perf_counter() - start
        finish_record(record, bag, len(record.frames))
    return record


def _estimate(frame, pipeline, roi_source, search, num_joints):
    """Return the FrameOutcome of one BagFrame (skipped frames keep their reason)."""
    if frame.skipped:
        return FrameOutcome.skipped(frame, num_joints)
    t0 = time.perf_counter()
    try:
        rois, scores = frame_rois(frame, roi_source, pipeline.mode, search)
        roi_s = time.perf_counter() - t0
        estimate = pipeline.estimate_frame(frame.depth_mm, frame.camera, rois, scores)
    except InputError as exc:       # what the node logs as a warning and drops
        return FrameOutcome.skipped(frame, num_joints, 'bad_image', str(exc))
    latency = roi_s + estimate.timings_ms['total'] / 1000.0
    return outcome_from_results(frame, estimate.results, num_joints, latency)


__all__ = ['DEFAULT_DEPTH_RANGE_M', 'ROI_SOURCES', 'check_replay_options', 'configure_depth_range',
           'finish_record', 'frame_rois', 'overlay_indices', 'replay_offline',
           'resolve_roi_source', 'start_record']
