"""Approximate-time pairing of depth images and ROI messages.

``message_filters.ApproximateTimeSynchronizer`` where it is installed; otherwise
``ApproximateTimeSync`` below, which follows the same rules (those of message_filters'
Python synchroniser): one queue per input keyed by header stamp, holding at most
``queue_size`` messages (the oldest is dropped); when a message arrives, the other queues
are searched for stamps within ``slop`` of it, the combination closest to it whose stamps
span less than ``slop`` is emitted at once, and the emitted messages leave their queues.
Stamps are compared in integer nanoseconds.
"""
import itertools
import threading


def stamp_ns(msg):
    """Return a message's ``header.stamp`` in integer nanoseconds."""
    stamp = msg.header.stamp
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


class ApproximateTimeSync:
    """Emit one tuple of messages (one per input) whose header stamps lie within ``slop``.

    ``add(index, msg)`` feeds input ``index``; ``callback(*msgs)`` receives the matched
    messages in input order. Thread-safe; the callback runs in the caller of ``add``
    (outside the lock).
    """

    def __init__(self, num_inputs, queue_size, slop_s, callback):
        if num_inputs < 2:
            raise ValueError('ApproximateTimeSync needs at least two inputs')
        if queue_size < 1:
            raise ValueError(f'queue_size must be >= 1, got {queue_size}')
        if not slop_s >= 0:
            raise ValueError(f'slop must be >= 0 s, got {slop_s}')
        self.queue_size = int(queue_size)
        self.slop_ns = int(round(slop_s * 1e9))
        self.callback = callback
        self._queues = [dict() for _ in range(num_inputs)]
        self._lock = threading.Lock()

    def add(self, index, msg):
        """Queue ``msg`` on input ``index`` and emit a match if one is complete."""
        stamp = stamp_ns(msg)
        with self._lock:
            queue = self._queues[index]
            queue[stamp] = msg
            while len(queue) > self.queue_size:
                del queue[min(queue)]
            matched = self._match(index, stamp)
        if matched is not None:
            self.callback(*matched)

    def _match(self, index, stamp):
        """Return the matched messages for a new ``stamp`` on ``index`` (lock held), or None."""
        candidates = []
        for i, queue in enumerate(self._queues):
            if i == index:
                continue
            near = sorted((abs(s - stamp), s) for s in queue if abs(s - stamp) <= self.slop_ns)
            if not near:
                return None
            candidates.append([s for _, s in near])
        for combo in itertools.product(*candidates):
            stamps = list(combo)
            stamps.insert(index, stamp)
            if max(stamps) - min(stamps) <= self.slop_ns:
                return tuple(q.pop(s) for q, s in zip(self._queues, stamps))
        return None

    def pending(self):
        """Return how many messages wait in each input queue."""
        with self._lock:
            return [len(q) for q in self._queues]


def have_message_filters():
    """Return True if ROS 2 message_filters can be imported."""
    try:
        import message_filters  # noqa: F401
    except ImportError:
        return False
    return True


class DepthRoiPairer:
    """Pair depth images and ROI messages: ``add(0, depth)``, ``add(1, rois)``.

    ``callback(depth_msg, roi_msg)`` runs for each pair. Uses message_filters'
    ApproximateTimeSynchronizer (fed through two ``SimpleFilter`` inputs, so the node keeps
    its own subscriptions and their adaptive QoS) when ``use_message_filters`` is True and it
    is installed, else ``ApproximateTimeSync``. ``implementation`` says which.
    """

    def __init__(self, queue_size, slop_s, callback, use_message_filters=True):
        if use_message_filters and have_message_filters():
            import message_filters
            self._inputs = [message_filters.SimpleFilter(), message_filters.SimpleFilter()]
            sync = message_filters.ApproximateTimeSynchronizer(self._inputs, queue_size, slop_s)
            sync.registerCallback(callback)
            self._sync = sync
            self.add = lambda index, msg: self._inputs[index].signalMessage(msg)
            self.implementation = 'message_filters'
        else:
            self._sync = ApproximateTimeSync(2, queue_size, slop_s, callback)
            self.add = self._sync.add
            self.implementation = 'a2j_ros'


__all__ = ['ApproximateTimeSync', 'DepthRoiPairer', 'have_message_filters', 'stamp_ns']
