"""The pose node's tracking settings: node parameters -> core.pose_tracker.TrackingSettings.

The node builds one ``PoseTracker`` on configure (``make_tracker``) and, when a runtime
parameter changes, ``update_tracker`` applies the new values from the next frame: the tracks
(and their ids) survive a change; smoothing parameters reach every track's filter.
"""
from a2j_ros.core.pose_tracker import PoseTracker, TrackingSettings
from a2j_ros.core.tracking import SmoothingSettings


def smoothing_settings(settings):
    """Return the One Euro settings of NodeSettings (min_cutoff 0 = off)."""
    return SmoothingSettings(enabled=settings.smoothing_enabled,
                             min_cutoff=settings.smoothing_min_cutoff,
                             beta=settings.smoothing_beta,
                             d_cutoff=settings.smoothing_d_cutoff)


def tracking_settings(settings, mode):
    """Return the TrackingSettings of NodeSettings for a 'hand' or 'body' model."""
    out = TrackingSettings.for_mode(mode)
    out.enabled = settings.tracking_enabled
    t = out.tracker
    if settings.track_gate_m > 0:
        t.gate_mm = 1e3 * settings.track_gate_m
    t.min_hits = settings.track_min_hits
    t.timeout_s = settings.track_timeout_s
    t.min_confidence = settings.track_min_confidence
    t.smoothing = smoothing_settings(settings)
    out.follow.enabled = settings.follow_enabled
    out.follow.min_confidence = settings.track_min_confidence
    out.follow.refine_iterations = settings.refine_iterations
    return out


def make_tracker(pipeline, settings):
    """Return the node's PoseTracker."""
    return PoseTracker(pipeline, tracking_settings(settings, pipeline.mode))


def update_tracker(tracker, settings):
    """Apply changed runtime parameters to ``tracker`` (tracks and ids are kept)."""
    new = tracking_settings(settings, tracker.pipeline.mode)
    old = tracker.settings
    old.enabled, old.follow = new.enabled, new.follow.check()
    for name in ('gate_mm', 'min_hits', 'timeout_s', 'min_confidence'):
        setattr(old.tracker, name, getattr(new.tracker, name))
    old.tracker.check()
    tracker.set_smoothing(new.tracker.smoothing)
    if not new.enabled:
        tracker.reset()


__all__ = ['make_tracker', 'smoothing_settings', 'tracking_settings', 'update_tracker']
