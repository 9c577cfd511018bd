"""Depth frames over time -> tracked, smoothed skeletons: what the node and both replays call.

``PoseTracker.process(depth_mm, camera, stamp_s, rois, scores)`` runs one frame:

1. tracks whose timeout passed are deleted (core.tracking, stamp time);
2. the crops are planned: followed tracks get a crop from their prediction, the frame's
   ROIs add new instances or re-anchor a drifting track (core.follow);
3. the network runs on all crops in one batch (core.pipeline.PosePipeline.estimate_anchors),
   optionally ``refine_iterations`` more times, each pass centred on the previous joints;
4. the skeletons are associated with the tracks, and each confirmed track's joints are
   smoothed by its One Euro filter.

The result (``TrackedFrame``) holds the confirmed tracks seen in this frame (smoothed joints,
``track_id`` set, sorted by id), the raw per-crop skeletons, the ids lost in this frame and
the stage timings. With ``enabled = False`` (or a 2D layout, whose joints have no reliable
3D position to track by) it is the per-frame pipeline: every ROI's skeleton, no ids.
ROS-free.
"""
from dataclasses import dataclass, field, replace
import time

import numpy as np

from a2j_ros.core.follow import followed_anchors, FollowSettings, plan_crops, refined_anchor
from a2j_ros.core.pipeline import FrameEstimate, RejectedRoi
from a2j_ros.core.tracking import SmoothingSettings, Tracker, TrackerSettings


@dataclass
class TrackingSettings:
    """Tracking on/off, the tracker's and the crop follower's settings."""

    enabled: bool = True
    tracker: TrackerSettings = field(default_factory=TrackerSettings)
    follow: FollowSettings = field(default_factory=FollowSettings)

    @classmethod
    def for_mode(cls, mode, **kwargs):
        """Return the defaults of 'hand' or 'body'.

        Bodies: a wider gate and re-anchor distance (larger, noisier joints). The One Euro
        settings are the node's parameter defaults for both modes (so offline replay, live
        replay and the node agree); config/body_pose.yaml lowers beta to 0.005 for bodies.
        """
        settings = cls(**kwargs)
        if mode == 'body':
            settings.tracker.gate_mm = 250.0
            settings.follow.reanchor_mm = 150.0
        return settings


@dataclass
class TrackedFrame:
    """What ``PoseTracker.process`` found in one frame."""

    results: list = field(default_factory=list)     # PoseResult of confirmed tracks, by id
    raw: list = field(default_factory=list)         # PoseResult per crop, before smoothing
    rejected: list = field(default_factory=list)    # RejectedRoi (ROI index, reason)
    lost_ids: list = field(default_factory=list)    # track ids deleted in this frame
    sources: list = field(default_factory=list)     # per raw result: ('track', id)/('roi', i)
    timings_ms: dict = field(default_factory=dict)  # pipeline stages, 'track', 'total'


class PoseTracker:
    """Per-frame pipeline + tracker + smoothing + crops that follow (module docstring)."""

    def __init__(self, pipeline, settings=None):
        self.pipeline = pipeline
        self.settings = settings or TrackingSettings.for_mode(pipeline.mode)
        self.settings.tracker.check()
        self.settings.follow.check()
        self.tracker = Tracker(self.settings.tracker)

    @property
    def tracking(self):
        """Whether frames are tracked (enabled and a 3D layout)."""
        return self.settings.enabled and self.pipeline.layout.dims == 3

    def set_smoothing(self, smoothing: SmoothingSettings):
        """Change the One Euro parameters at run time (all tracks, and new ones)."""
        self.tracker.set_smoothing(smoothing)

    def reset(self):
        """End every track; return their ids (ids are never reused)."""
        return self.tracker.reset()

    def process(self, depth_mm, camera, stamp_s, rois, scores=None):
        """Run one frame stamped ``stamp_s`` (seconds); return a TrackedFrame."""
        start = time.perf_counter()
        pipeline = self.pipeline
        if not self.tracking:
            estimate = pipeline.estimate_frame(depth_mm, camera, rois, scores)
            return TrackedFrame(results=estimate.results, raw=estimate.results,
                                rejected=estimate.rejected,
                                timings_ms=dict(estimate.timings_ms, track=0.0))
        s = self.settings
        stamp_s = float(stamp_s)
        lost = self.tracker.expire(stamp_s)
        rejected = []
        kept, roi_anchors = pipeline.prepare_rois(depth_mm, camera, rois, rejected)
        t_rois = time.perf_counter()
        depth = np.asarray(depth_mm, dtype=np.float32)
        predicted = self.tracker.predicted(stamp_s)
        followed = (followed_anchors(predicted, camera, depth, pipeline.mode,
                                     pipeline.crop_config, stamp_s, s.follow,
                                     s.tracker.max_prediction_s) if s.follow.enabled else {})
        n_rois = len(np.asarray(rois).reshape(-1, 4)) if rois is not None else 0
        roi_scores = (np.ones(n_rois) if scores is None or len(scores) == 0
                      else np.asarray(scores, dtype=np.float64).reshape(-1))
        plan = plan_crops(followed, kept, roi_anchors, roi_scores, pipeline.mode, camera,
                          depth, s.follow)
        t_plan = time.perf_counter()
        estimate, sources = self._estimate(depth, camera, plan, rejected)
        for _ in range(int(s.follow.refine_iterations)):
            estimate, sources = self._refine(depth, camera, estimate, sources, rejected)
        t_net = time.perf_counter()
        update = self.tracker.update([r.joints_xyz_mm for r in estimate.results],
                                     [r.confidence for r in estimate.results], stamp_s)
        raw, results = [], []
        for index, result in enumerate(estimate.results):
            track = update.assigned.get(index) or update.tentative.get(index)
            raw.append(replace(result, track_id=None if track is None else track.id))
        for index, track in update.assigned.items():
            smoothed = track.smoothed
            uvd = camera.project(smoothed)
            results.append(replace(estimate.results[index], joints_xyz_mm=smoothed,
                                   joints_uvd=uvd, track_id=track.id))
        results.sort(key=lambda r: r.track_id)
        end = time.perf_counter()
        timings = {k: v for k, v in estimate.timings_ms.items() if k != 'total'}
        timings['prepare'] = timings.get('prepare', 0.0) + (t_rois - start) * 1e3
        timings['track'] = ((t_plan - t_rois) + (end - t_net)) * 1e3
        timings['total'] = (end - start) * 1e3
        return TrackedFrame(results=results, raw=raw, rejected=sorted(rejected,
                            key=lambda r: r.index), lost_ids=lost + update.lost,
                            sources=sources, timings_ms=timings)

    def _estimate(self, depth, camera, plan, rejected):
        """Run the planned crops; crops that do not fit are reported under their ROI index."""
        pipeline = self.pipeline
        width = 3 if pipeline.mode == 'hand' else 4
        if len(plan) == 0:
            return FrameEstimate(timings_ms={'net': 0.0}), []
        estimate = pipeline.estimate_anchors(depth, camera, np.stack(plan.anchors).reshape(
            -1, width), plan.rois, plan.scores)
        for bad in estimate.rejected:
            kind, key = plan.sources[bad.index]
            if kind == 'roi':
                rejected.append(RejectedRoi(key, bad.roi, bad.reason))
        done = {bad.index for bad in estimate.rejected}
        sources = [src for i, src in enumerate(plan.sources) if i not in done]
        return estimate, sources

    def _refine(self, depth, camera, estimate, sources, rejected):
        """One more pass, each crop centred on the previous pass's joints.

        A crop whose new centre is unusable (no finite joints, outside the image) keeps its
        previous pass's skeleton.
        """
        height, width = depth.shape
        anchors, rois, scores, which = [], [], [], []
        for n, result in enumerate(estimate.results):
            anchor = refined_anchor(result.joints_xyz_mm, self.pipeline.mode, camera,
                                    self.settings.follow, width, height)
            if anchor is not None:
                anchors.append(anchor)
                rois.append(result.roi)
                scores.append(result.score)
                which.append(n)
        if not anchors:
            return estimate, sources
        again = self.pipeline.estimate_anchors(depth, camera, np.stack(anchors), rois, scores)
        done = {bad.index for bad in again.rejected}
        results = list(estimate.results)
        for result, n in zip(again.results, [n for i, n in enumerate(which) if i not in done]):
            results[n] = result
        timings = {key: again.timings_ms.get(key, 0.0) + estimate.timings_ms.get(key, 0.0)
                   for key in ('prepare', 'crop', 'net', 'decode')}
        return FrameEstimate(results=results, rejected=estimate.rejected,
                             timings_ms=timings), sources


__all__ = ['PoseTracker', 'TrackedFrame', 'TrackingSettings']
