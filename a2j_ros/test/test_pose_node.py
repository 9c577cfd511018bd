"""The pose node in-process over the real middleware: inputs in, skeletons and markers out."""
from pathlib import Path
import time

from node_harness import box_around as _box
from node_harness import camera_info, FRAME, Harness
import numpy as np
import pytest
from rosgraph_msgs.msg import Clock
from visualization_msgs.msg import Marker

from a2j_ros.core.checkpoint import save_checkpoint
from a2j_ros.core.config import CropConfig, ModelConfig
from a2j_ros.core.model import A2JNet
from a2j_ros.core.synthetic import SyntheticHands
from a2j_ros.ros.image_conversion import depth_mm_to_image

DEMO_CHECKPOINT = Path(__file__).resolve().parents[1] / 'data' / 'demo_hand_r18.pt'


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


def _info(camera):
    return camera_info(camera)


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


def test_nearest_roi_source_finds_the_hand(harness_factory, sample):
    # The trained demo model on the nearest-blob ROI: the crop holds the ground-truth joints
    # and the joints land near them (the same bound as with detector ROIs below).
    frame, camera = sample
    h = harness_factory(checkpoint=str(DEMO_CHECKPOINT), roi_source='nearest')
    h.send(depth_mm_to_image(frame.depth, '32FC1'), _info(camera))
    assert h.wait(lambda: h.skeletons, 60.0), 'no skeletons with roi_source nearest'
    (sk,) = h.skeletons[0].skeletons
    u, v = frame.joints_uvd[:, 0], frame.joints_uvd[:, 1]
    roi = sk.roi
    inside = ((u >= roi.x_offset) & (u < roi.x_offset + roi.width)
              & (v >= roi.y_offset) & (v < roi.y_offset + roi.height))
    assert inside.mean() >= 0.9, f'ROI {roi} misses the hand'
    pred = np.array([(p.x, p.y, p.z) for p in sk.joints]) * 1000.0
    error = np.linalg.norm(pred - camera.unproject(frame.joints_uvd), axis=1).mean()
    assert error < 40.0, f'mean joint error {error:.1f} mm'


def test_full_frame_roi_source_crops_around_the_image_centre(harness_factory, sample):
    frame, camera = sample
    h = harness_factory(roi_source='full_frame')
    h.send(depth_mm_to_image(frame.depth, '32FC1'), _info(camera))
    assert h.wait(lambda: h.skeletons), 'no skeletons with roi_source full_frame'
    (sk,) = h.skeletons[0].skeletons
    # the ROI is the whole image, so the hand crop (Skeleton.roi) is centred on its centre
    assert sk.roi.x_offset + sk.roi.width / 2.0 == pytest.approx(camera.width / 2.0, abs=1.0)
    assert sk.roi.y_offset + sk.roi.height / 2.0 == pytest.approx(camera.height / 2.0, abs=1.0)


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
    from a2j_ros.ros.bench_node import format_result, run_benchmark, STAGE_ORDER
    start = time.perf_counter()
    result = run_benchmark(checkpoint, frames=2, width=160, height=120, warmup=1)
    elapsed_ms = (time.perf_counter() - start) * 1e3
    measured = [k for k in STAGE_ORDER if k not in ('other', 'total')]
    for source in ('topic', 'nearest'):
        row = result[source]
        assert row['frames'] == 2 and set(STAGE_ORDER) <= set(row)
        assert row['net'] > 0 and row['publish'] > 0 and row['convert'] > 0
        # stages are timed one after the other inside the frame: they cannot add up to more
        # than the frame's total (two frames: the median is the mean, which adds up)
        assert sum(row[k] for k in measured) <= row['total'] * 1.001
    # the node's own totals fit inside this test's clock around the whole run
    assert sum(2 * result[s]['total'] for s in ('topic', 'nearest')) < elapsed_ms
    # the nearest search reads the depth image, the topic source only copies the boxes
    assert result['nearest']['roi'] > result['topic']['roi'] >= 0
    table = format_result(result)
    assert 'overhead beyond network (wall)' in table and '160x120' in table


def test_every_detector_roi_is_used_and_scores_pass_through(harness_factory, sample):
    """Two boxes from a detector give two skeletons (max_instances caps only the search)."""
    frame, camera = sample
    h = harness_factory(roi_source='topic', max_instances=1)
    box = _box(frame.joints_uvd)
    shifted = (box[0] + 4, box[1] + 4, box[2], box[3])
    h.send(depth_mm_to_image(frame.depth), _info(camera), rois=[box, shifted])
    assert h.wait(lambda: h.skeletons), 'no skeletons'
    skeletons = h.skeletons[-1].skeletons
    assert len(skeletons) == 2
    assert [sk.id for sk in skeletons] == [0, 1]
    assert [sk.score for sk in skeletons] == [1.0, 1.0]      # no scores sent: 1.0 each


def test_detector_free_skeleton_score_is_one(harness_factory, sample):
    frame, camera = sample
    h = harness_factory(roi_source='nearest')
    h.send(depth_mm_to_image(frame.depth), _info(camera))
    assert h.wait(lambda: h.skeletons and h.skeletons[-1].skeletons)
    assert h.skeletons[-1].skeletons[0].score == 1.0


def test_p_is_used_when_k_is_missing_and_distortion_warns_once(harness_factory, sample):
    frame, camera = sample
    h = harness_factory(roi_source='topic')
    info = camera_info(camera, k=False, p=True, d=(0.1, -0.05, 0.0, 0.0, 0.0))
    h.send(depth_mm_to_image(frame.depth), info, rois=[_box(frame.joints_uvd)], stamp_sec=1)
    assert h.wait(lambda: h.skeletons and h.skeletons[-1].skeletons), 'P was not used'
    assert h.node.stats.errors['no_camera_info'] == 0
    h.send(depth_mm_to_image(frame.depth), info, rois=[_box(frame.joints_uvd)], stamp_sec=2)
    assert h.wait(lambda: len(h.skeletons) >= 2)
    assert h.logged('non-zero distortion')
    assert sum('non-zero distortion' in line for line in h.logs) == 1


def test_p_wins_over_k(sample):
    """A rectified image's P differs from the raw K: the joints follow P."""
    from a2j_ros.ros.camera_info import camera_from_info
    _frame, camera = sample
    info = camera_info(camera, k=True, p=True)
    info.k = [2 * v if i in (0, 4) else v for i, v in enumerate(info.k)]   # raw K: other fx
    used = camera_from_info(info)
    assert (used.fx, used.fy, used.cx, used.cy) == (camera.fx, camera.fy, camera.cx, camera.cy)
    info.p = [0.0] * 12
    assert camera_from_info(info).fx == 2 * camera.fx


def test_debug_image_shows_depth_crop_and_skeleton(harness_factory, sample):
    frame, camera = sample
    h = harness_factory(roi_source='topic', debug_image_enabled=True)
    assert h.wait(lambda: h.node._outputs.debug_image.get_subscription_count() > 0)
    h.send(depth_mm_to_image(frame.depth), _info(camera), rois=[_box(frame.joints_uvd)])
    assert h.wait(lambda: h.debug_images), 'no debug image'
    img = h.debug_images[-1]
    assert (img.encoding, img.width, img.height) == ('rgb8', camera.width, camera.height)
    assert img.header.stamp.sec == 5 and img.header.frame_id == FRAME
    rgb = np.frombuffer(bytes(img.data), np.uint8).reshape(img.height, img.width, 3)
    crop = h.skeletons[-1].skeletons[0].roi
    assert tuple(rgb[crop.y_offset + crop.height // 2, crop.x_offset]) == (0, 255, 255)
    assert (rgb == (255, 0, 255)).all(axis=2).sum() >= 14       # joints drawn
    assert rgb[frame.depth == 0].max() <= 255 and rgb[frame.depth > 0].any()


def test_debug_image_is_off_by_default(harness_factory, sample):
    frame, camera = sample
    h = harness_factory(roi_source='topic')
    h.send(depth_mm_to_image(frame.depth), _info(camera), rois=[_box(frame.joints_uvd)])
    assert h.wait(lambda: h.skeletons)
    h.wait(lambda: False, 0.5)
    assert h.debug_images == []


def _compressed_png(depth_mm):
    """Build a compressedDepth message by hand: 12-byte header + a 16-bit PNG (PIL)."""
    import io
    import struct

    from PIL import Image as PILImage
    from sensor_msgs.msg import CompressedImage
    buffer = io.BytesIO()
    PILImage.fromarray(np.round(depth_mm).astype(np.uint16)).save(buffer, format='PNG')
    msg = CompressedImage(format='16UC1; compressedDepth png')
    msg.data = struct.pack('<iff', 0, 0.0, 0.0) + buffer.getvalue()
    return msg


def test_compressed_depth_input(harness_factory, sample):
    frame, camera = sample
    h = harness_factory(roi_source='topic', depth_transport='compressedDepth')
    h.send(_compressed_png(frame.depth), _info(camera), rois=[_box(frame.joints_uvd)])
    assert h.wait(lambda: h.skeletons and h.skeletons[-1].skeletons), 'no skeleton'
    z = np.array([p.z for p in h.skeletons[-1].skeletons[0].joints])
    assert np.all((z > 0.1) & (z < 1.5))
    bad = _compressed_png(frame.depth)
    bad.data = bytes(bad.data)[:40]
    h.send(bad, rois=[_box(frame.joints_uvd)], stamp_sec=6)
    assert h.wait(lambda: h.node.stats.errors['bad_image'] >= 1)


@pytest.fixture(scope='module')
def body_checkpoint(tmp_path_factory):
    """Save a random ResNet-18 body model named like the bundled demo (wiring, not accuracy)."""
    import dataclasses

    import torch

    from a2j_ros.core.presets import get_preset
    torch.manual_seed(0)
    crop = dataclasses.replace(get_preset('synthetic_body').crop, input_size=64)
    model = A2JNet(ModelConfig(backbone='resnet18', num_joints=15, layout='itop_body_15',
                               input_size=64))
    return str(save_checkpoint(tmp_path_factory.mktemp('body') / 'demo_body_r18.pt', model,
                               crop))


def test_body_model_with_the_nearest_source(ros_context, body_checkpoint):
    from a2j_ros.core.synthetic import SyntheticBodies
    data = SyntheticBodies('val', 1)
    frame = data[0]
    h = Harness(ros_context, body_checkpoint, mode='body', depth_max_m=6.0,
                min_blob_pixels=500)
    try:
        assert h.connected()
        assert h.logged('DEMO MODEL')              # the demo's file name, no trained_on
        h.send(depth_mm_to_image(frame.depth), _info(data.camera))
        assert h.wait(lambda: h.skeletons and h.skeletons[-1].skeletons), 'no body skeleton'
        sk = h.skeletons[-1].skeletons[0]
        assert sk.layout == 'itop_body_15' and len(sk.joints) == 15 and sk.score == 1.0
    finally:
        h.close()
