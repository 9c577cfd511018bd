"""One frame in flight: a worker thread that always processes the newest frame.

Subscription callbacks ``submit`` frames; the worker takes the newest one when it is free.
A frame still waiting when a newer one arrives is dropped (and counted through
``on_drop``), so a slow network never builds a queue and latency never grows.
"""
import threading


class LatestFrameWorker:
    """Call ``process(item)`` on a background thread for the newest submitted item."""

    def __init__(self, process, on_drop=None, on_error=None, name='a2j_inference'):
        self._process = process
        self._on_drop = on_drop or (lambda: None)
        self._on_error = on_error
        self._cond = threading.Condition()
        self._item = None
        self._busy = False
        self._stop = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.dropped = 0
        self.done = 0

    def start(self):
        """Start the worker thread."""
        self._thread.start()

    def submit(self, item):
        """Hand ``item`` to the worker; an older item still waiting is dropped."""
        with self._cond:
            if self._stop:
                return
            dropped = self._item is not None
            if dropped:
                self.dropped += 1
            self._item = item
            self._cond.notify()
        if dropped:
            self._on_drop()

    def idle(self):
        """Return True when nothing is waiting and nothing is being processed."""
        with self._cond:
            return self._item is None and not self._busy

    def stop(self, timeout=5.0):
        """Stop after the frame in progress; a waiting frame is discarded. Return True if done."""
        with self._cond:
            self._stop = True
            self._item = None
            self._cond.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self):
        while True:
            with self._cond:
                while self._item is None and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                item, self._item, self._busy = self._item, None, True
            try:
                self._process(item)
            except Exception as exc:        # never let one frame kill the worker
                if self._on_error is None:
                    raise
                self._on_error(exc)
            finally:
                with self._cond:
                    self._busy = False
                    self.done += 1


__all__ = ['LatestFrameWorker']
