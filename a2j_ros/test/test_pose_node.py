"""The pose node in-process over the real middleware: inputs in, skeletons and markers out."""
from pathlib import Path

from conftest import spin_until
import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
msgs = pytest.importorskip('a2j_ros_msgs.msg')
from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402
from rosgraph_msgs.msg import Clock  # noqa: E402
from sensor_msgs.msg import CameraInfo, Image, RegionOfInterest  # noqa: E402
from visualization_msgs.msg import Marker, MarkerArray  # noqa: E402

from a2j_ros.core.checkpoint import save_checkpoint  # noqa: E402
from a2j_ros.core.config import CropConfig, ModelConfig  # noqa: E402
from a2j_ros.core.model import A2JNet  # noqa: E402
from a2j_ros.core.synthetic import SyntheticHands  # noqa: E402
from a2j_ros.ros.image_conversion import depth_mm_to_image  # noqa: E402
from a2j_ros.ros.pose_node import PoseNode  # noqa: E402

DEMO_CHECKPOINT = Path(__file__).resolve().parents[1] / 'data' / 'demo_hand_r18.pt'
FRAME = 'camera_depth_optical_frame'


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """Save a randomly initialised ResNet-18 hand model, input 64 (wiring, not accuracy)."""
    import torch
    torch.manual_seed(0)
    model = A2JNet(ModelConfig(backbone='resnet18', input_size=64)).eval()
    return str(save_checkpoint(tmp_path_factory.mktemp('ck') / 'r18_64.pt', model,
                               CropConfig(mode='hand', input_size=64, norm_std=40.0)))


@pytest.fixture(scope='module')
def sample():
    data = SyntheticHands('val', 1)
    return data[0], data.camera


def _box(joints_uvd, pad=10):
    """Return a detector-like box (x, y, w, h) around the joints."""
    lo = np.floor(joints_uvd[:, :2].min(0)) - pad
    hi = np.ceil(joints_uvd[:, :2].max(0)) + pad
    return int(lo[0]), int(lo[1]), int(hi[0] - lo[0]), int(hi[1] - lo[1])


class Harness:
    """The node under test, a peer node with the publishers/subscribers, one executor."""

    def __init__(self, context, checkpoint, **params):
        params.setdefault('diagnostics_period_s', 0.2)
        params.setdefault('log_throttle_s', 0.0)
        overrides = [Parameter('checkpoint', value=checkpoint)]
        overrides += [Parameter(k, value=v) for k, v in params.items()]
        self.node = PoseNode(context=context, parameter_overrides=overrides)
        self.peer = rclpy.create_node('a2j_test_peer', context=context)
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)
        self.executor.add_node(self.peer)
        self.depth_pub = self.peer.create_publisher(Image, 'depth/image', 10)
        self.info_pub = self.peer.create_publisher(CameraInfo, 'depth/camera_info', 10)
        self.roi_pub = self.peer.create_publisher(msgs.RegionOfInterestArray, 'rois', 10)
        self.clock_pub = self.peer.create_publisher(Clock, '/clock', 10)
        self.skeletons, self.markers, self.diagnostics = [], [], []
        self.peer.create_subscription(msgs.SkeletonArray, 'skeletons', self.skeletons.append, 10)
        self.peer.create_subscription(MarkerArray, 'markers', self.markers.append, 10)
        self.peer.create_subscription(DiagnosticArray, '/diagnostics',
                                      self.diagnostics.append, 10)

    def connected(self):
        return spin_until(self.executor, lambda: self.depth_pub.get_subscription_count() > 0
                          and self.peer.count_publishers('skeletons') > 0, 15.0)

    def send(self, depth_msg, info=None, rois=None, stamp_sec=5):
        depth_msg.header.frame_id = FRAME
        depth_msg.header.stamp.sec = stamp_sec
        if info is not None:
            self.info_pub.publish(info)
            spin_until(self.executor, lambda: self.node.cameras.received > 0, 5.0)
        if rois is not None:
            msg = msgs.RegionOfInterestArray()
            msg.header = depth_msg.header
            msg.rois = [RegionOfInterest(x_offset=x, y_offset=y, width=w, height=h)
                        for x, y, w, h in rois]
            self.roi_pub.publish(msg)
        self.depth_pub.publish(depth_msg)

    def wait(self, predicate, timeout=20.0):
        return spin_until(self.executor, predicate, timeout)

    def close(self):
        self.executor.shutdown()
        self.node.destroy_node()
        self.peer.destroy_node()


def _info(camera):
    info = CameraInfo(width=camera.width, height=camera.height)
    info.header.frame_id = FRAME
    info.k = camera.k.reshape(-1).tolist()
    return info


@pytest.fixture
def harness_factory(ros_context, checkpoint):
    made = []

    def make(**params):
        made.append(Harness(ros_context, params.pop('checkpoint', checkpoint), **params))
        assert made[-1].connected(), 'node did not come up'
        return made[-1]

    yield make
    for h in made:
        h.close()


def test_topic_rois_give_skeletons_markers_and_diagnostics(harness_factory, sample):
    frame, camera = sample
    h = harness_factory(roi_source='topic')
    h.send(depth_mm_to_image(frame.depth), _info(camera), rois=[_box(frame.joints_uvd)])
    assert h.wait(lambda: h.skeletons and h.markers), 'no skeletons/markers'
    out = h.skeletons[0]
    assert out.header.frame_id == FRAME and out.header.stamp.sec == 5
    assert len(out.skeletons) == 1
    sk = out.skeletons[0]
    assert sk.layout == 'nyu_hand_14' and len(sk.joints) == 14 and len(sk.confidence) == 14
    z = np.array([p.z for p in sk.joints])
    assert np.all(np.isfinite(z)) and np.all((z > 0.1) & (z < 1.5))      # metres
    kinds = [m.type for m in h.markers[0].markers]
    assert kinds == [Marker.SPHERE_LIST, Marker.LINE_LIST]
    assert h.node.sync_implementation in ('a2j_ros', 'message_filters')
    assert h.wait(lambda: any(kv.key == 'frames_processed' and kv.value == '1'
                              for d in h.diagnostics for s in d.status for kv in s.values))


@pytest.mark.parametrize('source', ['nearest', 'full_frame'])
def test_detector_free_roi_sources(harness_factory, sample, source):
    frame, camera = sample
    h = harness_factory(roi_source=source)
    h.send(depth_mm_to_image(frame.depth, '32FC1'), _info(camera))
    assert h.wait(lambda: h.skeletons), f'no skeletons with roi_source {source}'
    sk = h.skeletons[0].skeletons
    assert len(sk) == 1
    if source == 'full_frame':
        assert (sk[0].roi.width, sk[0].roi.height) != (0, 0)


def test_no_camera_info_then_recovery(harness_factory, sample):
    frame, camera = sample
    h = harness_factory()
    h.send(depth_mm_to_image(frame.depth))
    assert h.wait(lambda: h.node.stats.errors['no_camera_info'] >= 1)
    assert h.skeletons == []
    h.send(depth_mm_to_image(frame.depth), _info(camera))
    assert h.wait(lambda: h.skeletons), 'node did not recover once camera_info arrived'


def test_bad_images_are_counted_and_the_node_goes_on(harness_factory, sample):
    frame, camera = sample
    h = harness_factory()
    wrong = depth_mm_to_image(frame.depth)
    wrong.encoding = 'rgb8'
    h.send(wrong, _info(camera))
    assert h.wait(lambda: h.node.stats.errors['bad_image'] >= 1)
    short = depth_mm_to_image(frame.depth)
    short.step = short.width                      # shorter than a row of 16-bit pixels
    h.send(short)
    assert h.wait(lambda: h.node.stats.errors['bad_image'] >= 2)
    assert 'step' in h.node.stats.last_error
    nan_frame = frame.depth.copy()
    nan_frame[::3] = np.nan                       # NaN rows are invalid pixels, not a failure
    h.send(depth_mm_to_image(nan_frame, '32FC1'))
    assert h.wait(lambda: h.skeletons), 'a frame with NaNs was not processed'
    assert h.node.stats.errors['inference_failed'] == 0


def test_bad_rois(harness_factory, sample):
    frame, camera = sample
    h = harness_factory(roi_source='topic', max_instances=3)
    h.send(depth_mm_to_image(frame.depth), _info(camera), rois=[(400, 300, 20, 20)],
           stamp_sec=1)
    assert h.wait(lambda: len(h.skeletons) >= 1)
    assert h.skeletons[-1].skeletons == [] and h.node.stats.errors['rejected_rois'] == 1
    assert h.wait(lambda: h.markers)
    assert [m.action for m in h.markers[-1].markers] == [Marker.DELETEALL]
    h.send(depth_mm_to_image(frame.depth), rois=[], stamp_sec=2)
    assert h.wait(lambda: len(h.skeletons) >= 2)
    assert h.node.stats.errors['bad_rois'] == 1                # empty ROI list
    h.send(depth_mm_to_image(frame.depth), rois=[(10, 10, 0, 30), _box(frame.joints_uvd)],
           stamp_sec=3)
    assert h.wait(lambda: len(h.skeletons) >= 3)
    assert len(h.skeletons[-1].skeletons) == 1                 # the zero-size one is skipped
    assert h.node.stats.errors['rejected_rois'] == 2


def test_sim_time_latency_comes_from_the_clock(harness_factory, sample):
    from builtin_interfaces.msg import Time
    frame, camera = sample
    h = harness_factory(use_sim_time=True)
    h.clock_pub.publish(Clock(clock=Time(sec=5, nanosec=250_000_000)))
    assert h.wait(lambda: h.node.get_clock().now().nanoseconds == 5_250_000_000)
    h.send(depth_mm_to_image(frame.depth), _info(camera), stamp_sec=5)
    assert h.wait(lambda: h.skeletons and h.node.stats.processed >= 1)
    assert h.node.stats.snapshot()['latency_ms'] == pytest.approx(250.0)


def test_lifecycle_and_configure_errors(ros_context, checkpoint, tmp_path):
    from lifecycle_msgs.msg import State
    bad = PoseNode(context=ros_context, parameter_overrides=[
        Parameter('checkpoint', value=str(tmp_path / 'missing.pt'))])
    assert 'not found' in bad.configure_error
    assert bad._state_machine.current_state[0] == State.PRIMARY_STATE_UNCONFIGURED
    bad.destroy_node()
    wrong = PoseNode(context=ros_context, parameter_overrides=[
        Parameter('checkpoint', value=checkpoint), Parameter('roi_source', value='radar')])
    assert 'roi_source' in wrong.configure_error
    wrong.destroy_node()
    body = PoseNode(context=ros_context, parameter_overrides=[
        Parameter('checkpoint', value=checkpoint), Parameter('mode', value='body')])
    assert 'hand model' in body.configure_error
    body.destroy_node()
    node = PoseNode(context=ros_context, parameter_overrides=[
        Parameter('checkpoint', value=checkpoint), Parameter('autostart', value=False)])
    assert node._state_machine.current_state[0] == State.PRIMARY_STATE_UNCONFIGURED
    node.trigger_configure()
    node.trigger_activate()
    assert node._state_machine.current_state[0] == State.PRIMARY_STATE_ACTIVE
    assert node._worker is not None and node._inputs
    node.trigger_deactivate()
    assert node._worker is None and not node._inputs
    node.trigger_cleanup()
    assert node.pipeline is None
    node.destroy_node()


@pytest.mark.skipif(not DEMO_CHECKPOINT.is_file(), reason='demo checkpoint not present')
def test_demo_checkpoint_joints_near_ground_truth(harness_factory):
    data = SyntheticHands('val', 8, seed=123)
    h = harness_factory(checkpoint=str(DEMO_CHECKPOINT), roi_source='topic')
    errors = []
    for i in range(len(data)):
        frame = data[i]
        count = len(h.skeletons)
        h.send(depth_mm_to_image(frame.depth), _info(data.camera) if i == 0 else None,
               rois=[_box(frame.joints_uvd)], stamp_sec=10 + i)
        assert h.wait(lambda: len(h.skeletons) > count, 60.0)
        sk = h.skeletons[-1].skeletons[0]
        pred = np.array([(p.x, p.y, p.z) for p in sk.joints]) * 1000.0
        errors.append(np.linalg.norm(pred - data.camera.unproject(frame.joints_uvd), axis=1))
    assert float(np.mean(errors)) < 35.0, f'mean joint error {np.mean(errors):.1f} mm'


def test_bench_node_breaks_the_frame_down_by_stage(checkpoint):
    from a2j_ros.ros.bench_node import format_table, run_benchmark, STAGE_ORDER
    result = run_benchmark(checkpoint, frames=2, width=160, height=120, warmup=1)
    for source in ('topic', 'nearest'):
        row = result[source]
        assert row['frames'] == 2 and set(STAGE_ORDER) <= set(row)
        assert row['net'] > 0 and row['publish'] > 0 and row['convert'] > 0
        assert row['overhead'] == pytest.approx(row['total'] - row['net'], rel=0.5)
        assert sum(row[k] for k in STAGE_ORDER[:-1]) == pytest.approx(row['total'], rel=0.2)
    assert result['nearest']['roi'] > result['topic']['roi'] >= 0
    table = format_table(result)
    assert 'overhead beyond network (wall)' in table and '160x120' in table


def test_hand_radius_parameter_is_checked(ros_context, checkpoint):
    node = PoseNode(context=ros_context, parameter_overrides=[
        Parameter('checkpoint', value=checkpoint), Parameter('hand_radius_m', value=-0.1)])
    try:
        assert 'hand_radius_m' in node.configure_error
    finally:
        node.destroy_node()
