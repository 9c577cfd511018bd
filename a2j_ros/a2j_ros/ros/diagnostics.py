"""Counters and timings of the pose node, and their diagnostic_msgs/DiagnosticArray.

``NodeStats`` is ROS-free and thread-safe (the subscription callbacks and the inference
worker both write to it). ``diagnostic_array`` turns one snapshot into the message the node
publishes on ``/diagnostics`` (rqt_runtime_monitor, diagnostic_aggregator read it).
"""
from collections import deque
import threading
import time

# Error counters, one per kind of bad input or failure; each has a warning in the log.
ERROR_KINDS = ('bad_image', 'no_camera_info', 'bad_rois', 'rejected_rois', 'inference_failed')
WINDOW_S = 5.0          # rate and mean latency are over this many seconds


class NodeStats:
    """Frame counters, error counters, rate and latency of the node."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self.received = 0           # depth frames (or depth+ROI pairs) that reached the node
        self.processed = 0          # frames whose skeletons were published
        self.dropped = 0            # stale frames replaced by a newer one before inference
        self.errors = dict.fromkeys(ERROR_KINDS, 0)
        self.last_error = ''
        self._done = deque()        # (wall time, latency s, processing ms) of recent frames
        self._stage_ms = {}
        self._last_received = None

    def frame_received(self):
        """Count a frame that arrived."""
        with self._lock:
            self.received += 1
            self._last_received = self._clock()

    def frame_dropped(self, count=1):
        """Count frames dropped because a newer one arrived while the network was busy."""
        with self._lock:
            self.dropped += count

    def error(self, kind, message):
        """Count an error of ``kind`` (one of ERROR_KINDS) and remember its message."""
        with self._lock:
            self.errors[kind] = self.errors.get(kind, 0) + 1
            self.last_error = f'{kind}: {message}'

    def frame_done(self, latency_s, processing_ms, stage_ms=None):
        """Record a published frame: stamp-to-publish latency and the node's processing time."""
        now = self._clock()
        with self._lock:
            self.processed += 1
            self._done.append((now, float(latency_s), float(processing_ms)))
            self._trim(now)
            for key, value in (stage_ms or {}).items():
                old = self._stage_ms.get(key)
                self._stage_ms[key] = value if old is None else 0.8 * old + 0.2 * value

    def _trim(self, now):
        while self._done and now - self._done[0][0] > WINDOW_S:
            self._done.popleft()

    def snapshot(self):
        """Return a dict of every counter and the windowed rate and latencies."""
        now = self._clock()
        with self._lock:
            self._trim(now)
            done = list(self._done)
            span = (now - done[0][0]) if len(done) > 1 else 0.0
            rate = (len(done) - 1) / span if span > 0 else 0.0
            return {
                'received': self.received, 'processed': self.processed,
                'dropped': self.dropped, 'errors': dict(self.errors),
                'last_error': self.last_error, 'rate_hz': rate,
                'latency_ms': 1e3 * sum(d[1] for d in done) / len(done) if done else None,
                'processing_ms': sum(d[2] for d in done) / len(done) if done else None,
                'stage_ms': dict(self._stage_ms),
                'since_last_frame_s': None if self._last_received is None
                else now - self._last_received,
            }


def diagnostic_level(snap, previous=None, stale_s=5.0):
    """Return (level byte, message) for a snapshot; ``previous`` is the last one reported."""
    from diagnostic_msgs.msg import DiagnosticStatus
    since = snap['since_last_frame_s']
    if since is None or since > stale_s:
        return DiagnosticStatus.STALE, 'no depth images received' if since is None else \
            f'no depth image for {since:.1f} s'
    new_errors = sum(snap['errors'].values()) - (sum(previous['errors'].values())
                                                  if previous else 0)
    if new_errors > 0 and snap['processed'] == (previous or {}).get('processed', 0):
        return DiagnosticStatus.ERROR, f'every recent frame failed: {snap["last_error"]}'
    if new_errors > 0:
        return DiagnosticStatus.WARN, f'{new_errors} errors since last report: ' \
            f'{snap["last_error"]}'
    return DiagnosticStatus.OK, f'{snap["rate_hz"]:.1f} Hz'


def diagnostic_array(snap, name, hardware_id, stamp, extra=None, previous=None):
    """Return a DiagnosticArray with one DiagnosticStatus describing ``snap``."""
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

    def fmt(value):
        return 'n/a' if value is None else (f'{value:.2f}' if isinstance(value, float)
                                             else str(value))

    level, message = diagnostic_level(snap, previous)
    values = [('rate_hz', snap['rate_hz']), ('latency_ms', snap['latency_ms']),
              ('processing_ms', snap['processing_ms']), ('frames_received', snap['received']),
              ('frames_processed', snap['processed']), ('frames_dropped', snap['dropped'])]
    values += [(f'errors_{k}', v) for k, v in snap['errors'].items()]
    values += [(f'stage_{k}_ms', v) for k, v in sorted(snap['stage_ms'].items())]
    values += list((extra or {}).items())
    values.append(('last_error', snap['last_error']))
    status = DiagnosticStatus(level=level, name=name, message=message, hardware_id=hardware_id,
                              values=[KeyValue(key=k, value=fmt(v)) for k, v in values])
    array = DiagnosticArray(status=[status])
    array.header.stamp = stamp
    return array


__all__ = ['ERROR_KINDS', 'NodeStats', 'WINDOW_S', 'diagnostic_array', 'diagnostic_level']
