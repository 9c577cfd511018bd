"""One frame in flight: stale frames are dropped and counted, never queued."""
import threading
import time

from a2j_ros.ros.latest_frame import LatestFrameWorker


def _wait(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.001)
    return predicate()


def test_newest_frame_wins_while_busy():
    gate = threading.Event()
    seen, drops = [], []

    def process(item):
        seen.append(item)
        gate.wait(5.0)

    worker = LatestFrameWorker(process, on_drop=lambda: drops.append(1))
    worker.start()
    worker.submit(0)
    assert _wait(lambda: seen == [0])
    for i in range(1, 6):                   # arrive while frame 0 is being processed
        worker.submit(i)
    gate.set()
    assert _wait(worker.idle)
    assert seen == [0, 5]                   # 1..4 were stale, never processed
    assert worker.dropped == 4 and len(drops) == 4
    assert worker.stop()


def test_errors_are_reported_and_the_worker_goes_on():
    errors, seen = [], []

    def process(item):
        if item == 'bad':
            raise RuntimeError('boom')
        seen.append(item)

    worker = LatestFrameWorker(process, on_error=errors.append)
    worker.start()
    worker.submit('bad')
    assert _wait(lambda: errors)
    worker.submit('good')
    assert _wait(lambda: seen == ['good'])
    assert str(errors[0]) == 'boom'
    assert worker.stop()
    worker.submit('late')                   # ignored after stop
    assert worker.idle()
