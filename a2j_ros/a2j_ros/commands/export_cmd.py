"""``a2j export``: write a checkpoint's network as ONNX, with its metadata, and check it.

The graph includes the fp32 aggregation by default (outputs ``uvd`` and ``confidence``);
``--heads-only`` exports the raw heads instead. After writing, the file is checked with
``onnx.checker`` and run by onnxruntime on rendered crops against the PyTorch model; the
largest joint difference (mm) is printed.
"""
import sys

from a2j_ros.core.errors import A2JError


def add_arguments(parser):
    """Register the options of ``a2j export``."""
    from a2j_ros.core.export import DEFAULT_OPSET
    parser.add_argument('--checkpoint', required=True, metavar='CK',
                        help='the a2j_ros checkpoint to export')
    parser.add_argument('--out', required=True, metavar='PATH', help='the .onnx file to write')
    parser.add_argument('--opset', type=int, default=DEFAULT_OPSET,
                        help=f'ONNX opset, 13..21 (default {DEFAULT_OPSET})')
    parser.add_argument('--dynamic-batch', action='store_true',
                        help='let the batch dimension vary (default: fixed batch of 1)')
    parser.add_argument('--fp16', action='store_true',
                        help='store and compute the network in float16 (GPU runtimes); '
                             'inputs, outputs and the aggregation stay float32')
    parser.add_argument('--heads-only', action='store_true',
                        help='export the raw heads (logits, offsets, depth) without the '
                             'aggregation')
    parser.add_argument('--no-check', action='store_true',
                        help='skip the onnxruntime parity check')


def run(args):
    """Export, check, print a summary; return 0 (2 on a user error, 1 on a failed check)."""
    try:
        return _export(args)
    except A2JError as exc:
        print(f'a2j export: error: {exc}', file=sys.stderr)
        return 2


def _export(args):
    from a2j_ros.core import bench
    from a2j_ros.core.checkpoint import load_checkpoint
    from a2j_ros.core.export import check_onnx_parity, export_onnx
    model = load_checkpoint(args.checkpoint)
    cfg = model.config
    path = export_onnx(model, args.out, opset=args.opset, dynamic_batch=args.dynamic_batch,
                       fp16=args.fp16, heads_only=args.heads_only)
    print(f'wrote {path}: {cfg.backbone}, {cfg.num_joints} joints, input crops (N, 1, '
          f'{cfg.input_size}, {cfg.input_size}), batch {"dynamic" if args.dynamic_batch else 1}, '
          f'opset {args.opset}, {"fp16" if args.fp16 else "fp32"}, outputs '
          f'{"raw heads" if args.heads_only else "uvd + confidence"}; onnx.checker passed')
    if args.no_check:
        return 0
    crop = model.crop_config or bench.bench_crop_config(
        'body' if cfg.input_size >= 256 else 'hand', cfg.input_size)
    crops = bench.bench_crops(crop, count=2 if args.dynamic_batch else 1)
    try:
        result = check_onnx_parity(path, model, crops)
    except Exception as exc:     # onnxruntime errors have no common base class
        if args.fp16:
            print(f'onnxruntime (CPU) cannot run the fp16 graph here ({type(exc).__name__}); '
                  'check it on the GPU runtime it is meant for')
            return 0
        raise
    if args.heads_only:
        print(f'onnxruntime parity: largest output difference {result["max_abs"]:.2e}')
        return 0
    diff = bench.joint_difference_mm(result['uvd'], result['reference_uvd'], crop)
    print(f'onnxruntime parity on {len(crops)} rendered {crop.mode} crop(s): largest joint '
          f'difference {diff:.4f} mm (limit 0.5 mm)')
    return 0 if diff <= 0.5 else 1
