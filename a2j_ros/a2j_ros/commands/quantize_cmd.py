"""``a2j quantize``: find and judge the int8 plan of a checkpoint (``core.quantize``).

Calibrates on rendered frames of the checkpoint's own crop settings, measures each conv's
sensitivity, keeps the most sensitive ones fp32 until the joints hold, and judges the result
on held-out frames against the same model in fp32. The plan is stored in the backend cache
(``core.auto_backend``), where ``backend: auto`` and ``onnx_int8`` find it; ``--out`` also
writes it as JSON. Exit 0 when the plan passes (mean 3D error within 0.5 mm of fp32 and int8
faster), 1 when it does not (``auto`` then never picks int8), 2 on bad input.
"""
import json
import sys

from a2j_ros.core.errors import A2JError, InputError


def add_arguments(parser):
    """Register the options of ``a2j quantize``."""
    parser.add_argument('--checkpoint', metavar='CK', required=True,
                        help='a2j_ros checkpoint (.pt) with crop settings')
    parser.add_argument('--calibration-frames', type=int, default=32,
                        help='training-split synthetic frames to calibrate on (default 32)')
    parser.add_argument('--tuning-frames', type=int, default=24,
                        help='validation frames for sensitivity and the fp32-layer search '
                             '(default 24)')
    parser.add_argument('--frames', type=int, default=100,
                        help='held-out validation frames the plan is judged on (default 100; '
                             'other frames than the tuning ones)')
    parser.add_argument('--methods', default='minmax,percentile,entropy',
                        help='calibration methods to try (default minmax,percentile,entropy)')
    parser.add_argument('--threads', type=int, default=1,
                        help='onnxruntime threads for the timings (default 1)')
    parser.add_argument('--out', metavar='JSON', default=None,
                        help='also write the plan as JSON here')
    parser.add_argument('--cache', metavar='DIR', default=None,
                        help='backend cache folder (default $XDG_CACHE_HOME/a2j_ros or '
                             '~/.cache/a2j_ros)')
    parser.add_argument('--quiet', action='store_true', help='no per-layer progress lines')


def run(args):
    """Search the plan; print it; return 0 (passes), 1 (fails the bound) or 2 (bad input)."""
    try:
        return _quantize(args)
    except A2JError as exc:
        print(f'a2j quantize: error: {exc}', file=sys.stderr)
        return 2


def _quantize(args):
    import torch

    from a2j_ros.core.backend_cache import store_int8_plan
    from a2j_ros.core.backends import backend_status
    from a2j_ros.core.checkpoint import load_checkpoint
    from a2j_ros.core.quantize import CALIBRATION_METHODS, search_plan
    for name in ('calibration_frames', 'tuning_frames', 'frames', 'threads'):
        if getattr(args, name) < 1:
            raise InputError(f'--{name.replace("_", "-")} must be >= 1, got {getattr(args, name)}')
    methods = [m.strip() for m in args.methods.split(',') if m.strip()]
    unknown = [m for m in methods if m not in CALIBRATION_METHODS]
    if not methods or unknown:
        raise InputError(f'--methods: unknown {unknown or "(none given)"}; '
                         f'use {",".join(CALIBRATION_METHODS)}')
    reason = backend_status('onnx_int8', 'cpu')
    if reason is not None:
        raise InputError(f'int8 cannot run here: {reason}')
    torch.set_num_threads(args.threads)
    model = load_checkpoint(args.checkpoint)
    if model.crop_config is None:
        raise InputError(f'{args.checkpoint}: checkpoint has no crop settings (crop_config)')
    log = (lambda text: None) if args.quiet else (lambda text: print(text, flush=True))
    plan = search_plan(model, calibration_frames=args.calibration_frames,
                       tuning_frames=args.tuning_frames, judging_frames=args.frames,
                       methods=methods, threads=args.threads, log=log)
    ranked = sorted(plan.sensitivity.items(), key=lambda kv: kv[1], reverse=True)[:5]
    print('most sensitive convs (mean joint shift, quantised alone): '
          + ', '.join(f'{name} {mm:.3f} mm' for name, mm in ranked))
    print(f'plan: {plan.summary()}')
    speed = plan.speed
    print(f'speed (batch 1, {speed["threads"]} thread(s), network only): fp32 onnx '
          f'{speed["fp32_ms"]:.1f} ms, int8 {speed["int8_ms"]:.1f} ms '
          f'({speed["fp32_ms"] / speed["int8_ms"]:.2f}x); search {speed["search_s"]:.0f} s')
    path = store_int8_plan(model, plan, args.cache)
    print(f'stored in {path}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(plan.to_dict(), f, indent=1)
        print(f'wrote {args.out}')
    if not plan.passes:
        print('the plan does not pass: backend auto will not pick onnx_int8 for this checkpoint')
        return 1
    return 0
