"""Measure what the pose node adds beyond the network, in ms per frame.

    python -m a2j_ros.ros.bench_node [--checkpoint CK] [--frames 30] [--size 640x480]
                                     [--roi-source topic|nearest|both]
                                     [--sequence hand_drift|two_hands] [--json]

Runs the node's own frame path (``PoseNode._process``: sensor_msgs/Image -> millimetres,
ROIs, crop centre, crop, network, decode, tracking (crops that follow, association,
One Euro smoothing), SkeletonArray + MarkerArray build and publish,
diagnostics bookkeeping) on synthetic hand frames, in-process and synchronously (no DDS
delivery, no waiting), and prints the median time of each stage. ``topic`` feeds each
frame a RegionOfInterestArray around the hand, as a detector would; ``nearest`` searches
the depth image itself. The overhead beyond the network is the median over frames of
(total - network), as wall time and as this thread's CPU time (the CPU time is what the
node costs; the wall time also counts waiting for a core on a loaded machine). Without
``--checkpoint`` a randomly initialised ResNet-18 hand model (input 176) is used: the
overhead does not depend on the weights (but tracking's does, a little: with random
weights the skeletons do not follow the hands). ``--sequence two_hands`` feeds frames of
two moving hands 30 Hz apart (from frame SEQUENCE_START, both in view): the 'track' rows
are then the cost of tracking and smoothing two instances.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np

STAGE_ORDER = ('convert', 'roi', 'prepare', 'crop', 'net', 'decode', 'track', 'publish',
               'stats', 'other', 'total')
SEQUENCE_START = 30         # two_hands: both hands are in view from here
SOURCES = ('topic', 'nearest')


def _frames(width, height, count):
    """Return synthetic hand frames (mm) resized to width x height, their camera and hand boxes.

    The boxes (x, y, w, h) are the joints' pixel extent padded by 15 %, like a detector's.
    """
    from a2j_ros.core.synthetic import SyntheticHands
    data = SyntheticHands('val', count)
    camera = data.camera
    fu, fv = width / camera.width, height / camera.height
    rows = np.minimum((np.arange(height) / fv).astype(int), camera.height - 1)
    cols = np.minimum((np.arange(width) / fu).astype(int), camera.width - 1)
    frames, boxes = [], []
    for i in range(count):
        sample = data[i]
        frames.append(np.ascontiguousarray(sample.depth[rows][:, cols]))
        uv = sample.joints_uvd[:, :2] * np.array([fu, fv])
        low, high = uv.min(axis=0), uv.max(axis=0)
        pad = 0.15 * (high - low)
        low, high = np.floor(low - pad), np.ceil(high + pad)
        boxes.append([(int(low[0]), int(low[1]), int(high[0] - low[0]),
                       int(high[1] - low[1]))])
    return frames, camera.scaled(fu, fv), boxes


def _sequence_frames(kind, width, height, count):
    """Return ``count`` frames of a moving sequence (from SEQUENCE_START) like ``_frames``."""
    from a2j_ros.core.synthetic.sequences import open_sequence
    seq = open_sequence(kind, num_frames=SEQUENCE_START + count)
    camera = seq.camera
    fu, fv = width / camera.width, height / camera.height
    rows = np.minimum((np.arange(height) / fv).astype(int), camera.height - 1)
    cols = np.minimum((np.arange(width) / fu).astype(int), camera.width - 1)
    frames, boxes = [], []
    for i in range(SEQUENCE_START, len(seq)):
        frame = seq[i]
        frames.append(np.ascontiguousarray(frame.depth_mm[rows][:, cols]))
        per_frame = []
        for track in frame.visible_tracks():
            uv = track.uvd[:, :2] * np.array([fu, fv])
            low, high = uv.min(axis=0), uv.max(axis=0)
            pad = 0.15 * (high - low)
            low, high = np.floor(low - pad), np.ceil(high + pad)
            per_frame.append((int(low[0]), int(low[1]), int(high[0] - low[0]),
                              int(high[1] - low[1])))
        boxes.append(per_frame)
    return frames, camera.scaled(fu, fv), boxes


def _model_checkpoint(folder, input_size):
    from a2j_ros.core.checkpoint import save_checkpoint
    from a2j_ros.core.config import CropConfig, ModelConfig
    from a2j_ros.core.model import A2JNet
    model = A2JNet(ModelConfig(backbone='resnet18', input_size=input_size)).eval()
    return str(save_checkpoint(os.path.join(folder, 'bench_r18.pt'), model,
                               CropConfig(mode='hand', input_size=input_size, norm_std=40.0)))


def _roi_message(boxes, header):
    from sensor_msgs.msg import RegionOfInterest

    from a2j_ros_msgs.msg import RegionOfInterestArray
    return RegionOfInterestArray(header=header, rois=[RegionOfInterest(
        x_offset=max(x, 0), y_offset=max(y, 0), width=w, height=h) for x, y, w, h in boxes],
        scores=[1.0] * len(boxes))


def _timed_network(pipeline, cpu_samples):
    """Wrap ``pipeline._run_network`` so it records this thread's CPU seconds per call."""
    run = pipeline._run_network

    def timed(crops):
        start = time.thread_time()
        try:
            return run(crops)
        finally:
            cpu_samples.append(time.thread_time() - start)
    pipeline._run_network = timed


def _run_source(path, source, images, boxes, camera, device, frames, warmup):
    """Drive one PoseNode through ``frames`` frames; return its per-frame samples."""
    import rclpy
    from rclpy.parameter import Parameter
    from sensor_msgs.msg import CameraInfo

    from a2j_ros.ros.pose_node import PoseNode
    context = rclpy.context.Context()
    rclpy.init(context=context)
    node = None
    try:
        node = PoseNode(context=context, parameter_overrides=[
            Parameter('checkpoint', value=path), Parameter('device', value=device),
            Parameter('depth_max_m', value=1.5), Parameter('roi_source', value=source),
            Parameter('autostart', value=False),
            Parameter('max_instances', value=max(len(b) for b in boxes))])
        node.trigger_configure()
        if node.configure_error:
            raise RuntimeError(node.configure_error)
        node.trigger_activate()
        node._stop_inputs()             # drive _process directly, no subscriptions
        height, width = camera.height, camera.width
        info = CameraInfo(width=width, height=height)
        info.k = camera.k.reshape(-1).tolist()
        node.cameras.update(info)
        net_cpu = []
        _timed_network(node.pipeline, net_cpu)
        samples = {k: [] for k in STAGE_ORDER + ('cpu_overhead', 'instances')}
        for i in range(frames + warmup):
            image = images[i % len(images)]
            stamp_ns = 10**9 + i * 33_333_333          # 30 Hz: tracks live on
            image.header.stamp.sec, image.header.stamp.nanosec = divmod(stamp_ns, 10**9)
            item = (image, _roi_message(boxes[i % len(boxes)], image.header)
                    if source == 'topic' else None)
            node.last_stages_ms = {}
            del net_cpu[:]
            cpu = time.thread_time()
            node._process(item)
            cpu = time.thread_time() - cpu
            stages = node.last_stages_ms
            if i < warmup or not stages:
                continue
            for key in STAGE_ORDER:
                samples[key].append(stages.get(key, 0.0))
            samples['cpu_overhead'].append((cpu - sum(net_cpu)) * 1e3)
            samples['instances'].append(len(node.tracker.tracker.confirmed))
        errors = dict(node.stats.errors)
        model_input = node.pipeline.crop_config.input_size
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.shutdown(context=context)
    if not samples['total']:
        raise RuntimeError(f'{source}: no frame was processed (errors: {errors})')
    return samples, model_input


def run_benchmark(checkpoint=None, frames=30, width=640, height=480, device='cpu',
                  input_size=176, warmup=3, sources=SOURCES, sequence=None):
    """Return {source: {stage: median ms, 'overhead', 'overhead_cpu'}} and the settings.

    ``overhead`` is the median over frames of total - network (wall clock),
    ``overhead_cpu`` the same in this thread's CPU time.
    """
    from a2j_ros.ros.image_conversion import depth_mm_to_image
    if sequence:
        depth_frames, camera, boxes = _sequence_frames(sequence, width, height,
                                                       frames + warmup)
    else:
        depth_frames, camera, boxes = _frames(width, height, max(min(frames, 20), 1))
    images = [depth_mm_to_image(d) for d in depth_frames]
    for image in images:
        image.header.frame_id = 'bench_depth_optical_frame'
    result = {'image': f'{width}x{height}', 'device': device, 'sources': list(sources),
              'sequence': sequence,
              'load_average': _load_average()}
    with tempfile.TemporaryDirectory() as folder:
        path = checkpoint or _model_checkpoint(folder, input_size)
        for source in sources:
            samples, result['input_size'] = _run_source(path, source, images, boxes, camera,
                                                        device, frames, warmup)
            row = {k: statistics.median(v) for k, v in samples.items() if k != 'cpu_overhead'}
            row['instances'] = float(np.mean(samples['instances']))
            row['overhead'] = statistics.median(
                t - n for t, n in zip(samples['total'], samples['net']))
            row['overhead_cpu'] = statistics.median(samples['cpu_overhead'])
            row['frames'] = len(samples['total'])
            result[source] = row
    return result


def _load_average():
    """Return the 1-minute load average (other work on the CPU inflates wall times), or None."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def format_result(result):
    """Return the benchmark result as a printable table, one column per ROI source."""
    from a2j_ros.core.text_table import format_table
    sources = result['sources']
    lines = [f'pose node frame path: {result["image"]} 16UC1 depth, hand model input '
             f'{result["input_size"]}, {result["device"]}, median of '
             f'{result[sources[0]]["frames"]} frames, ms per frame (load average '
             f'{result.get("load_average")} on {os.cpu_count()} CPUs)']
    labels = {'convert': 'convert (Image -> mm)', 'roi': 'roi (read / nearest search)',
              'prepare': 'prepare (hand centre)', 'crop': 'crop', 'net': 'network',
              'decode': 'decode (uncrop, unproject)',
              'track': 'track (follow, associate, smooth)',
              'publish': 'publish (SkeletonArray, MarkerArray)',
              'stats': 'diagnostics bookkeeping', 'other': 'other (total - stages)',
              'total': 'total'}
    labels.update(overhead='overhead beyond network (wall)',
                  overhead_cpu='overhead beyond network (CPU)',
                  instances='tracks per frame (mean)')
    rows = [dict({'stage': labels[key]}, **{s: result[s][key] for s in sources})
            for key in STAGE_ORDER + ('overhead', 'overhead_cpu', 'instances')]
    lines.append(format_table(rows, [('stage', 'stage', None)]
                              + [(s, s, '{:.2f}') for s in sources]))
    return '\n'.join(lines)


def main(argv=None):
    """Run the benchmark and print the table (or JSON)."""
    parser = argparse.ArgumentParser(prog='python -m a2j_ros.ros.bench_node',
                                     description=__doc__.splitlines()[0])
    parser.add_argument('--checkpoint', default=None, help='a2j_ros hand checkpoint')
    parser.add_argument('--frames', type=int, default=30)
    parser.add_argument('--size', default='640x480', help='depth image WxH (default 640x480)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--roi-source', default='both', choices=SOURCES + ('both',),
                        help='ROIs from a detector topic, the nearest search, or both')
    parser.add_argument('--input-size', type=int, default=176,
                        help='input of the random model when no checkpoint is given')
    parser.add_argument('--sequence', default=None, choices=('hand_drift', 'two_hands'),
                        help='moving frames of a synthetic sequence (stamps 30 Hz apart) '
                             'instead of unrelated hands; two_hands measures tracking of two')
    parser.add_argument('--json', action='store_true', help='print JSON')
    args = parser.parse_args(argv)
    try:
        width, height = (int(v) for v in args.size.lower().split('x'))
    except ValueError:
        parser.error(f'--size must look like 640x480, got {args.size!r}')
    if args.frames < 1:
        parser.error('--frames must be >= 1')
    sources = SOURCES if args.roi_source == 'both' else (args.roi_source,)
    result = run_benchmark(args.checkpoint, args.frames, width, height, args.device,
                           args.input_size, sources=sources, sequence=args.sequence)
    print(json.dumps(result, indent=1) if args.json else format_result(result))
    return 0


if __name__ == '__main__':
    sys.exit(main())
