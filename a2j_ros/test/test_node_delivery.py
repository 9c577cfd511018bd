"""VGA depth from a camera-like publisher in another process reaches the node (QoS auto).

The publisher runs in its own process started with a plain environment (no Fast DDS
variable, as a camera driver is started), on this test's private domain with localhost
discovery (scripts/run_tests.sh), and publishes 90 640x480 16UC1 frames at 30 Hz once it
sees the node's subscription. The node runs in the test process over DDS. Reliable: at least
99 % of the frames must reach the node. Best effort: the node must match the publisher and
log the best-effort subscription (the share that arrives is reported, not asserted).
"""
import os
import subprocess
import sys
import textwrap
import time

from conftest import save_random_hand_checkpoint, spin_until
import pytest

rclpy = pytest.importorskip('rclpy')
pytest.importorskip('a2j_ros_msgs.msg')
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402

from a2j_ros.ros.pose_node import PoseNode  # noqa: E402

FRAMES, RATE_HZ, WIDTH, HEIGHT = 90, 30.0, 640, 480

PUBLISHER = textwrap.dedent("""
    import sys, time
    import numpy as np
    import rclpy
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import CameraInfo, Image
    topic, reliability, frames, rate, width, height = sys.argv[1:7]
    rclpy.init()
    node = rclpy.create_node('camera_like_publisher')
    qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE if reliability == 'reliable'
                     else ReliabilityPolicy.BEST_EFFORT)
    pub = node.create_publisher(Image, topic, qos)
    info_pub = node.create_publisher(CameraInfo, topic.rsplit('/', 1)[0] + '/camera_info', 10)
    deadline = time.monotonic() + 30.0
    while pub.get_subscription_count() == 0 and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.05)
    if pub.get_subscription_count() == 0:
        print('no subscriber', flush=True)
        sys.exit(3)
    time.sleep(0.5)
    width, height = int(width), int(height)
    depth = np.full((height, width), 800, np.uint16)
    depth[height // 3: 2 * height // 3, width // 3: 2 * width // 3] = 500
    info = CameraInfo(width=width, height=height, k=[570.0, 0.0, width / 2, 0.0, 570.0,
                                                     height / 2, 0.0, 0.0, 1.0])
    info.header.frame_id = 'camera_depth_optical_frame'
    start = time.perf_counter()
    for i in range(int(frames)):
        msg = Image(height=height, width=width, encoding='16UC1', step=2 * width)
        msg.header.frame_id = 'camera_depth_optical_frame'
        msg.header.stamp.sec = i + 1
        msg.data = depth.tobytes()
        info.header.stamp = msg.header.stamp
        info_pub.publish(info)
        pub.publish(msg)
        due = start + (i + 1) / float(rate)
        time.sleep(max(0.0, due - time.perf_counter()))
    time.sleep(1.0)
    print('sent', frames, flush=True)
    node.destroy_node()
    rclpy.shutdown()
""")


def plain_environment():
    """Return this test's environment without any Fast DDS / rmw variable (a camera driver's)."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(('FASTDDS_', 'FASTRTPS_', 'RMW_')) and k != 'ROS_LOCALHOST_ONLY'}


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    return str(save_random_hand_checkpoint(tmp_path_factory.mktemp('ck') / 'r18.pt'))


def deliver(context, checkpoint, reliability, topic, size=(WIDTH, HEIGHT), **params):
    """Run the publisher process against an in-process node; return (stamps seen, node)."""
    params = dict({'roi_source': 'full_frame', 'log_throttle_s': 60.0}, **params)
    node = PoseNode(f'delivery_{reliability}', context=context, parameter_overrides=[
        Parameter('checkpoint', value=checkpoint)] + [
        Parameter(k, value=v) for k, v in params.items()],
        cli_args=['--ros-args', '-r', f'depth/image:={topic}', '-r',
                  f'depth/camera_info:={topic.rsplit("/", 1)[0]}/camera_info'])
    seen = set()
    on_frame = node._on_frame

    def record(depth_msg, roi_msg):
        seen.add(depth_msg.header.stamp.sec)
        on_frame(depth_msg, roi_msg)
    node._on_frame = record
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    proc = None
    try:
        assert spin_until(executor, lambda: node.pipeline is not None, 60.0), 'no configure'
        proc = subprocess.Popen(
            [sys.executable, '-c', PUBLISHER, topic, reliability, str(FRAMES), str(RATE_HZ),
             str(size[0]), str(size[1])], env=plain_environment(), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 90.0
        while proc.poll() is None and time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.01)
        spin_until(executor, lambda: len(seen) >= FRAMES, 2.0)
        output = proc.communicate(timeout=30)[0] if proc.poll() is not None else ''
        assert proc.returncode == 0, f'publisher failed ({proc.returncode}): {output}'
        return seen, node
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        executor.shutdown()
        node.destroy_node()


def test_reliable_vga_publisher_delivers_every_frame(ros_context, checkpoint, record_property):
    seen, node = deliver(ros_context, checkpoint, 'reliable', '/delivery_test/reliable')
    record_property('frames_received', len(seen))
    print(f'reliable VGA 16UC1, {RATE_HZ:g} Hz: {len(seen)} / {FRAMES} frames reached the node '
          f'({node.stats.processed} processed, {node.stats.dropped} dropped as stale)')
    assert len(seen) >= 0.99 * FRAMES, f'only {len(seen)} of {FRAMES} frames arrived'


def test_best_effort_publisher_is_matched_and_logged(ros_context, checkpoint, capfd):
    seen, _node = deliver(ros_context, checkpoint, 'best_effort', '/delivery_test/best_effort')
    log = capfd.readouterr().err
    assert '/delivery_test/best_effort: subscribed best_effort/volatile' in log
    # matched: the publisher only publishes (and exits 0) once it sees the node's subscription;
    # how many best-effort VGA frames survive Fast DDS's UDP fragments varies (docs/transport.md)
    print(f'best-effort VGA 16UC1, {RATE_HZ:g} Hz: {len(seen)} / {FRAMES} frames reached the '
          'node')
