"""Shared fixtures. ROS fixtures skip cleanly where rclpy or our messages are missing."""
import pytest


@pytest.fixture
def ros_context():
    """Yield a private rclpy Context, initialised for one test and shut down after it."""
    rclpy = pytest.importorskip('rclpy')
    context = rclpy.context.Context()
    rclpy.init(context=context)
    try:
        yield context
    finally:
        rclpy.shutdown(context=context)


def spin_until(executor, predicate, timeout_s=10.0):
    """Spin ``executor`` until ``predicate()`` is true or ``timeout_s`` passes; return it."""
    import time
    deadline = time.monotonic() + timeout_s
    while not predicate() and time.monotonic() < deadline:
        executor.spin_once(timeout_sec=0.05)
    return predicate()
