"""Measure what the pose node adds beyond the network, in ms per frame.

    python -m a2j_ros.ros.bench_node [--checkpoint CK] [--frames 50] [--size 640x480]

Runs the node's own frame path (``PoseNode._process``: sensor_msgs/Image -> millimetres,
ROI search, crop, network, decode, SkeletonArray + MarkerArray build and publish) on
synthetic hand frames, in-process and synchronously (no DDS delivery, no waiting), and
prints the median time of each stage. ``overhead`` = total - network. Without
``--checkpoint`` a randomly initialised ResNet-18 hand model (input 176) is used: the
overhead does not depend on the weights.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile

import numpy as np

STAGE_ORDER = ('convert', 'roi', 'prepare', 'crop', 'net', 'decode', 'publish', 'total')


def _frames(width, height, count):
    """Return ``count`` synthetic hand depth frames (mm) resized to width x height, + camera."""
    from a2j_ros.core.synthetic import SyntheticHands
    data = SyntheticHands('val', count)
    camera = data.camera
    fu, fv = width / camera.width, height / camera.height
    rows = np.minimum((np.arange(height) / fv).astype(int), camera.height - 1)
    cols = np.minimum((np.arange(width) / fu).astype(int), camera.width - 1)
    frames = [data[i].depth[rows][:, cols] for i in range(count)]
    return frames, camera.scaled(fu, fv)


def _model_checkpoint(folder, input_size):
    from a2j_ros.core.checkpoint import save_checkpoint
    from a2j_ros.core.config import CropConfig, ModelConfig
    from a2j_ros.core.model import A2JNet
    model = A2JNet(ModelConfig(backbone='resnet18', input_size=input_size)).eval()
    return str(save_checkpoint(os.path.join(folder, 'bench_r18.pt'), model,
                               CropConfig(mode='hand', input_size=input_size, norm_std=40.0)))


def run_benchmark(checkpoint=None, frames=50, width=320, height=240, device='cpu',
                  input_size=176, warmup=3):
    """Return {stage: median ms} of the node's frame path, plus 'overhead' and settings."""
    import rclpy
    from rclpy.parameter import Parameter
    from sensor_msgs.msg import CameraInfo

    from a2j_ros.ros.image_conversion import depth_mm_to_image
    from a2j_ros.ros.pose_node import PoseNode

    depth_frames, camera = _frames(width, height, max(min(frames, 20), 1))
    with tempfile.TemporaryDirectory() as folder:
        path = checkpoint or _model_checkpoint(folder, input_size)
        context = rclpy.context.Context()
        rclpy.init(context=context)
        node = None
        try:
            node = PoseNode(context=context, parameter_overrides=[
                Parameter('checkpoint', value=path), Parameter('device', value=device),
                Parameter('depth_max_m', value=1.5)])
            if node.configure_error:
                raise RuntimeError(node.configure_error)
            node._stop_inputs()             # drive _process directly, no subscriptions
            info = CameraInfo(width=width, height=height)
            info.k = camera.k.reshape(-1).tolist()
            node.cameras.update(info)
            images = [depth_mm_to_image(d) for d in depth_frames]
            for i, image in enumerate(images):
                image.header.frame_id = 'bench_depth_optical_frame'
                image.header.stamp.sec = i + 1
            samples = {k: [] for k in STAGE_ORDER}
            for i in range(frames + warmup):
                node.last_stages_ms = {}
                node._process((images[i % len(images)], None))
                if i >= warmup and node.last_stages_ms:
                    for key in STAGE_ORDER:
                        samples[key].append(node.last_stages_ms.get(key, 0.0))
            model_input = node.pipeline.crop_config.input_size
        finally:
            if node is not None:
                node.destroy_node()
            rclpy.shutdown(context=context)
    if not samples['total']:
        raise RuntimeError('no frame was processed (see the warnings above)')
    result = {k: statistics.median(v) for k, v in samples.items()}
    result['overhead'] = statistics.median(
        t - n for t, n in zip(samples['total'], samples['net']))
    result.update(frames=len(samples['total']), image=f'{width}x{height}',
                  input_size=model_input, device=device)
    return result


def main(argv=None):
    """Run the benchmark and print one line per stage (or JSON)."""
    parser = argparse.ArgumentParser(prog='python -m a2j_ros.ros.bench_node',
                                     description=__doc__.splitlines()[0])
    parser.add_argument('--checkpoint', default=None, help='a2j_ros hand checkpoint')
    parser.add_argument('--frames', type=int, default=50)
    parser.add_argument('--size', default='320x240', help='depth image WxH (default 320x240)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--input-size', type=int, default=176,
                        help='input of the random model when no checkpoint is given')
    parser.add_argument('--json', action='store_true', help='print JSON')
    args = parser.parse_args(argv)
    try:
        width, height = (int(v) for v in args.size.lower().split('x'))
    except ValueError:
        parser.error(f'--size must look like 640x480, got {args.size!r}')
    result = run_benchmark(args.checkpoint, args.frames, width, height, args.device,
                           args.input_size)
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print(f'pose node frame path, {result["image"]} depth, input {result["input_size"]}, '
          f'{result["device"]}, median of {result["frames"]} frames (ms):')
    for key in STAGE_ORDER + ('overhead',):
        print(f'  {key:9s} {result[key]:8.2f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
