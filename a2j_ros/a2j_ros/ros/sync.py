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


class DepthRoiSubscriber:
    """Subscribe to depth and ROI topics and call ``callback(depth_msg, roi_msg)`` per pair.

    Uses message_filters when ``use_message_filters`` is True and it is installed, else
    ``ApproximateTimeSync`` with plain subscriptions. ``implementation`` says which.
    """

    def __init__(self, node, depth_type, depth_topic, depth_qos, roi_type, roi_topic, roi_qos,
                 queue_size, slop_s, callback, use_message_filters=True, callback_group=None):
        self.callback = callback
        if use_message_filters and have_message_filters():
            import message_filters
            self._subs = [
                message_filters.Subscriber(node, depth_type, depth_topic, qos_profile=depth_qos,
                                           callback_group=callback_group),
                message_filters.Subscriber(node, roi_type, roi_topic, qos_profile=roi_qos,
                                           callback_group=callback_group)]
            self._sync = message_filters.ApproximateTimeSynchronizer(
                self._subs, queue_size, slop_s)
            self._sync.registerCallback(callback)
            self.implementation = 'message_filters'
            self._node = node
            return
        self._sync = ApproximateTimeSync(2, queue_size, slop_s, callback)
        self._node = node
        self._subs = [
            node.create_subscription(depth_type, depth_topic, lambda m: self._sync.add(0, m),
                                     depth_qos, callback_group=callback_group),
            node.create_subscription(roi_type, roi_topic, lambda m: self._sync.add(1, m),
                                     roi_qos, callback_group=callback_group)]
        self.implementation = 'a2j_ros'

    def destroy(self):
        """Remove the subscriptions from the node."""
        for sub in self._subs:
            inner = getattr(sub, 'sub', sub)     # message_filters.Subscriber wraps one
            self._node.destroy_subscription(inner)
        self._subs = []


__all__ = ['ApproximateTimeSync', 'DepthRoiSubscriber', 'have_message_filters', 'stamp_ns']
