"""``a2j bench``: latency, FPS, GFLOP/s and share of peak of A2J per backend, with parity.

One row per (backbone, input size, backend): median latency per frame after warm-up
(``predict`` end to end: input conversion, network, fp32 aggregation), FPS, GFLOPs per frame,
achieved GFLOP/s, its share of this machine's matrix-multiply peak measured in the same run,
the largest joint difference (mm) against eager fp32 on the same rendered crops, and the
fp32 aggregation + confidence alone (``agg ms``: ``core.aggregation.decode`` timed on the
row's own head outputs, the part of ``predict`` after the network).
``--backend auto`` (the default) benches what ``core.auto_backend`` picks, and says why.
``--instances N`` times one frame's N instances (crops) in one batch against one instance,
interleaved, and prints the ratio.
``--authors`` adds the authors' network (``core.authors.AuthorsA2J``: three-channel input,
their heads and per-sample decoding) in eager fp32, measured the same way.
"""
import json
import os
import platform
import sys
import time

from a2j_ros.core.errors import A2JError, InputError

BACKBONES = ('resnet18', 'resnet34', 'resnet50')
# --all: (mode, input size, backbone, backends; None = every available one). Pointless or
# slow combinations are left out and said so in the notes (see _all_plan).
ALL_CASES = (('hand', 176, 'resnet18', None), ('hand', 176, 'resnet34', ('eager', 'onnx')),
             ('hand', 176, 'resnet50', None), ('body', 288, 'resnet18', ('eager', 'onnx')),
             ('body', 288, 'resnet50', ('eager', 'fused', 'onnx', 'bf16', 'fp16', 'tensorrt')))
COLUMNS = [('model', 'model', None), ('size', 'size', None), ('backend', 'backend', None),
           ('batch', 'batch', None), ('ms', 'ms/frame', '{:.1f}'), ('fps', 'FPS', '{:.1f}'),
           ('gflops', 'GFLOPs', '{:.2f}'), ('gflops_s', 'GFLOP/s', '{:.0f}'),
           ('peak_share', '% peak', '{:.0%}'), ('diff_mm', 'diff mm', '{:.3f}'),
           ('agg_ms', 'agg ms', '{:.2f}'), ('build_s', 'build s', '{:.1f}')]
INSTANCE_COLUMNS = [('model', 'model', None), ('size', 'size', None),
                    ('backend', 'backend', None), ('ms_one', '1 instance ms', '{:.1f}'),
                    ('ms_frame', 'N instances ms', '{:.1f}'), ('instances', 'N', None),
                    ('ratio', 'ratio', '{:.2f}'), ('rounds', 'rounds', None)]


def add_arguments(parser):
    """Register the options of ``a2j bench``."""
    parser.add_argument('--backbone', choices=BACKBONES, default='resnet50',
                        help='ResNet backbone (default resnet50)')
    parser.add_argument('--size', type=int, default=176,
                        help='input crop side in pixels (default 176; 288 for bodies)')
    parser.add_argument('--mode', choices=('auto', 'hand', 'body'), default='auto',
                        help='crop kind for the test crops and the mm conversion (default '
                             'auto: body when --size >= 256, else hand)')
    parser.add_argument('--backend', default='auto',
                        help='inference backend, or several separated by commas, timed in one '
                             'run (default auto: the fastest that matches eager fp32 here, '
                             'core.auto_backend); see --list')
    parser.add_argument('--list', action='store_true',
                        help='list the backends and whether each runs here, then exit')
    parser.add_argument('--device', default='cpu', help='cpu (default), cuda, cuda:N or auto')
    parser.add_argument('--batch', type=int, default=1, help='crops per call (default 1)')
    parser.add_argument('--instances', type=int, default=1,
                        help='N > 1: time one frame of N instances (one batch of N crops) '
                             'against one instance, interleaved rounds, and print the ratio')
    parser.add_argument('--threads', type=int, default=None,
                        help='CPU threads for torch and onnxruntime (default: torch default)')
    parser.add_argument('--checkpoint', metavar='CK', default=None,
                        help='bench this checkpoint (its backbone, size and crop settings) '
                             'instead of an untrained network')
    parser.add_argument('--authors', action='store_true',
                        help="also time the authors' network (eager fp32) for comparison")
    parser.add_argument('--all', action='store_true',
                        help='the full table: backends x backbones x sizes, plus the authors '
                             'network rows (a few minutes on 2 cores)')
    parser.add_argument('--iters', type=int, default=None,
                        help='timed calls per row (default 10; 5 with --all)')
    parser.add_argument('--warmup', type=int, default=None,
                        help='untimed calls before timing (default 3; 1 with --all)')
    parser.add_argument('--compile-mode', default=None,
                        help="torch.compile mode for the compile backend (default inductor's "
                             "default; e.g. max-autotune-no-cudagraphs)")
    parser.add_argument('--json', metavar='OUT', default=None,
                        help='also write the rows and machine info as JSON to OUT')


def run(args):
    """Run the benchmark; print the table; return 0 (2 on a user error)."""
    try:
        return _bench(args)
    except A2JError as exc:
        print(f'a2j bench: error: {exc}', file=sys.stderr)
        return 2


def _bench(args):
    import torch

    from a2j_ros.core import backends
    if args.list:
        _print_backends(args.device)
        return 0
    if args.threads is not None:
        if args.threads < 1:
            raise InputError(f'--threads must be >= 1, got {args.threads}')
        torch.set_num_threads(args.threads)
    if args.size < 32:
        raise InputError(f'--size must be >= 32 pixels, got {args.size}')
    if args.batch < 1:
        raise InputError(f'--batch must be >= 1, got {args.batch}')
    if args.instances < 1:
        raise InputError(f'--instances must be >= 1, got {args.instances}')
    if args.instances > 1 and args.batch != 1:
        raise InputError('--instances sets the batch itself (N crops of one frame); '
                         'leave --batch at 1')
    names = [n.strip() for n in args.backend.split(',') if n.strip()]
    unknown = [n for n in names if n not in backends.BACKENDS and n != backends.AUTO]
    if not args.all and (unknown or not names):
        raise InputError(f'unknown backend {(unknown or [args.backend])[0]!r}; known: auto, '
                         f'{", ".join(backends.BACKENDS)}')
    backends.device_type(args.device)     # a bad --device is one line, before any work
    refused = [] if args.all else [(n, backends.backend_status(n, args.device)) for n in names]
    if refused and all(reason is not None for _, reason in refused):
        raise InputError('; '.join(f'backend {n} on {args.device}: {r}' for n, r in refused))
    iters = args.iters or (5 if args.all else 10)
    warmup = args.warmup if args.warmup is not None else (1 if args.all else 3)
    info = _machine_info(args.device)
    print(_describe_machine(info))
    rows, notes = [], []
    if args.all and args.checkpoint:
        names = [n for n in backends.available_backends(args.device) if n != 'channels_last']
        rows = _bench_case(args, args.mode, args.size, None, names, True, info, iters, warmup)
    elif args.all:
        plan, notes = _all_plan(args.device)
        for mode, size, backbone, names, authors in plan:
            rows += _bench_case(args, mode, size, backbone, names, authors, info, iters, warmup)
            print(f'  done: {backbone} {size} ({len(rows)} rows)', file=sys.stderr, flush=True)
    else:
        mode = args.mode if args.mode != 'auto' else ('body' if args.size >= 256 else 'hand')
        rows = _bench_case(args, mode, args.size, args.backbone, names,
                           args.authors, info, iters, warmup)
    if not args.all and rows and all(row.get('skipped') for row in rows):
        raise InputError('; '.join(row['skipped'] for row in rows))
    print(_table(rows))
    if args.instances > 1:
        print(f'one frame with {args.instances} instances (one batch) against one instance '
              f'(median of interleaved rounds):')
        print(format_instances(rows))
    for row in rows:
        if row.get('skipped'):
            notes.append(f'{row["model"]} {row["size"]} {row["backend"]}: {row["skipped"]}')
        if row.get('auto'):
            notes.append(f'{row["model"]} {row["size"]}: {row["auto"]}')
    extra = _pre_post_timings(info)
    print(f'pre-processing (crop, resize, normalise): {extra["crop_ms_per_roi"]:.2f} ms per '
          f'hand ROI (4 ROIs of one 320x240 frame); fp32 aggregation + confidence: the '
          f'"agg ms" column (per crop, on each row\'s own head outputs; inside predict, i.e. '
          f'inside the node\'s "net" stage; the node\'s "decode" stage is uncrop + unproject)')
    for note in notes:
        print(f'note: {note}')
    if args.json:
        payload = {'machine': info, 'rows': rows, 'notes': notes, 'pre_post': extra,
                   'args': vars(args)}
        with open(args.json, 'w') as f:
            json.dump(payload, f, indent=1)
        print(f'wrote {args.json}')
    return 0


def _print_backends(device):
    from a2j_ros.core.backends import backend_status, BACKENDS
    print(f'{"auto":14s} {"yes" if backend_status("auto", device) is None else "no "}  '
          'the fastest of these that runs here and matches eager fp32 (cached per checkpoint '
          '+ machine)')
    for name, info in BACKENDS.items():
        reason = backend_status(name, device)
        print(f'{name:14s} {"yes" if reason is None else "no "}  {info.description}'
              + ('' if reason is None else f'  ({reason})'))


def _all_plan(device):
    """Return ([(mode, size, backbone, backends, with_authors)], notes) for --all."""
    from a2j_ros.core.backends import available_backends, backend_status, BACKENDS
    names = [n for n in available_backends(device) if n != 'channels_last']
    notes = ['channels_last left out: A2JNet is NHWC already, so it equals eager']
    for name in BACKENDS:
        reason = backend_status(name, device)
        if reason is not None:
            notes.append(f'{name} left out: {reason}')
    plan = []
    for mode, size, backbone, wanted in ALL_CASES:
        chosen = [n for n in names if wanted is None or n in wanted]
        if backbone != 'resnet18' and 'compile' in chosen:
            chosen.remove('compile')
        plan.append((mode, size, backbone, chosen, backbone == 'resnet50'))
    if 'compile' in names:
        notes.append('compile timed on resnet18 176 only: compiling takes ~20-60 s per network '
                     'on 2 cores (`a2j bench --backend compile --backbone resnet50` for more)')
    notes.append('resnet34 and resnet18 288: eager and onnx only; onnx_int8 not at 288: '
                 'body crops (about 7 mm per pixel, 20 mm per depth unit) magnify its error '
                 'far past 0.5 mm')
    return plan, notes


def _bench_case(args, mode, size, backbone, names, with_authors, info, iters, warmup):
    """Return the rows of one (backbone, size): each backend, then the authors' network."""
    import torch

    from a2j_ros.core import bench
    from a2j_ros.core.backends import BackendUnavailable, make_predictor
    model, crop_config, crops, label = _model_and_crops(args, mode, size, backbone)
    size = model.config.input_size
    x = torch.from_numpy(crops).repeat(-(-args.batch // len(crops)), 1, 1, 1)[:args.batch]
    reference = model.predict(torch.from_numpy(crops))['uvd']
    flops = bench.count_flops(model.predict, x[:1])
    rows = []
    for name in names:
        row = {'model': label, 'size': size, 'backend': name, 'batch': args.batch,
               'gflops': flops / 1e9}
        try:
            predictor = make_predictor(model, name, args.device, threads=args.threads,
                                       compile_mode=args.compile_mode)
        except BackendUnavailable as exc:
            row['skipped'] = str(exc)
            rows.append(row)
            continue
        row['build_s'] = predictor.compile_seconds
        if predictor.selection is not None:
            row.update(backend=f'auto:{predictor.name}', auto=predictor.selection.summary(),
                       build_s=predictor.selection.seconds)
        row['diff_mm'] = bench.joint_difference_mm(predictor.predict(crops)['uvd'], reference,
                                                   crop_config)
        row['agg_ms'] = aggregation_ms(predictor, x)
        timing = bench.time_call(lambda p=predictor: synced_predict(p, x), warmup, iters)
        peak_key = 'bf16' if name == 'bf16' and not info['peaks']['bf16_emulated'] else 'fp32'
        rows.append(_finish_row(row, timing, flops, info['peaks'][peak_key]))
        if args.instances > 1:
            row.update(instance_timing(predictor, crops, args.instances, max(iters, 5), warmup))
        del predictor
    if with_authors:
        rows.append(_authors_row(model, crops, x, args.batch, size, info, iters, warmup))
    return rows


def synced_predict(predictor, x):
    """Run ``predictor.predict(x)`` and wait for the GPU, so wall time is the real latency."""
    import torch
    out = predictor.predict(x)
    if out['uvd'].is_cuda:
        torch.cuda.synchronize(out['uvd'].device)
    return out


def aggregation_ms(predictor, x):
    """Return the ms per crop of the fp32 aggregation + confidence on the predictor's heads.

    The heads are computed once by the predictor itself (its backend, batch and device), so
    this times exactly the ``decode`` call that ``Predictor.predict`` makes after the network.
    """
    import torch

    from a2j_ros.core import bench
    from a2j_ros.core.aggregation import decode
    with torch.no_grad():
        logits, offsets, depth = predictor.heads(predictor.check_input(x))
        heads = {'logits': logits.float(), 'offsets': offsets.float(),
                 'depth': None if depth is None else depth.float()}
        anchors = predictor.anchors_on(heads['logits'].device)
        def run():
            out = decode(heads, anchors, use_concentration=predictor.use_concentration)
            if out['uvd'].is_cuda:
                torch.cuda.synchronize(out['uvd'].device)

        timing = bench.time_call(run, warmup=2, iters=20)
    return timing['median_ms'] / len(x)


def instance_timing(predictor, crops, instances, rounds, warmup):
    """Time one frame of ``instances`` crops (one batch) against one crop, interleaved.

    Each round times the single crop, then the batch, so load changes on a shared machine hit
    both alike. Returns ms_one, ms_frame (medians), ratio, rounds, instances.
    """
    import numpy as np
    import torch

    one = torch.from_numpy(crops[:1])
    many = torch.from_numpy(crops).repeat(-(-instances // len(crops)), 1, 1, 1)[:instances]
    for _ in range(max(1, warmup)):
        synced_predict(predictor, one)
        synced_predict(predictor, many)
    t_one, t_many = [], []
    for _ in range(int(rounds)):
        for x, out in ((one, t_one), (many, t_many)):
            start = time.perf_counter()
            synced_predict(predictor, x)
            out.append((time.perf_counter() - start) * 1e3)
    ms_one, ms_frame = float(np.median(t_one)), float(np.median(t_many))
    return {'ms_one': ms_one, 'ms_frame': ms_frame, 'ratio': ms_frame / ms_one,
            'rounds': int(rounds), 'instances': int(instances)}


def format_instances(rows):
    """Return the instance table of rows that have one."""
    from a2j_ros.core.text_table import format_table
    return format_table([r for r in rows if 'ratio' in r], INSTANCE_COLUMNS)


def _finish_row(row, timing, flops, peak):
    batch = row['batch']
    seconds = timing['median_ms'] * 1e-3
    row.update(ms=timing['median_ms'] / batch, min_ms=timing['min_ms'] / batch,
               fps=batch / seconds, gflops_s=flops * batch / seconds / 1e9, iters=timing['iters'])
    row['peak_share'] = row['gflops_s'] / peak
    return row


def _authors_row(model, crops, x, batch, size, info, iters, warmup):
    import torch

    from a2j_ros.core import bench
    from a2j_ros.core.authors import AuthorsA2J
    cfg = model.config
    theirs = AuthorsA2J(cfg.num_joints, is_3d=cfg.use_depth, backbone=cfg.backbone)
    bench.calibrate_batchnorm(theirs, torch.from_numpy(crops))
    flops = bench.count_flops(theirs.predict, x[:1])
    with torch.no_grad():
        timing = bench.time_call(lambda: theirs.predict(x), warmup, iters)
    row = {'model': f'authors {cfg.backbone}', 'size': size, 'backend': 'eager',
           'batch': batch, 'gflops': flops / 1e9}
    return _finish_row(row, timing, flops, info['peaks']['fp32'])


def _model_and_crops(args, mode, size, backbone):
    """Return (model, crop config, crops (n, 1, S, S), label) for one case."""
    import torch

    from a2j_ros.core import bench
    from a2j_ros.core.config import ModelConfig
    from a2j_ros.core.model import A2JNet
    if args.checkpoint:
        from a2j_ros.core.checkpoint import load_checkpoint
        model = load_checkpoint(args.checkpoint)
        crop_config = model.crop_config or bench.bench_crop_config(
            mode, model.config.input_size)
        crops = bench.bench_crops(crop_config, count=4)
        model.crop_config = crop_config
        return model, crop_config, crops, f'{model.config.backbone} (checkpoint)'
    crop_config = bench.bench_crop_config(mode, size)
    joints = 14 if mode == 'hand' else 15
    layout = 'nyu_hand_14' if mode == 'hand' else 'itop_body_15'
    torch.manual_seed(0)                # the same weights each run: one backend cache entry
    model = A2JNet(ModelConfig(backbone=backbone, num_joints=joints, layout=layout,
                               input_size=size))
    crops = bench.bench_crops(crop_config, count=4)
    bench.calibrate_batchnorm(model, crops)
    model.crop_config = crop_config     # int8 calibrates and auto checks on frames of its kind
    return model, crop_config, crops, backbone


def _machine_info(device):
    import torch

    from a2j_ros.core import backends, bench
    native = backends.cpu_has_native_bf16()
    cpu = platform.processor() or 'unknown CPU'
    try:
        with open('/proc/cpuinfo') as f:
            names = [ln.split(':', 1)[1].strip() for ln in f if ln.startswith('model name')]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    start = time.perf_counter()
    peaks = bench.machine_peaks(native)
    try:
        import onnxruntime
        ort_version = onnxruntime.__version__
    except ImportError:
        ort_version = None
    return {'cpu': cpu, 'cores': os.cpu_count(), 'threads': torch.get_num_threads(),
            'torch': torch.__version__, 'onnxruntime': ort_version, 'native_bf16': native,
            'cpu_capability': torch.backends.cpu.get_cpu_capability(), 'device': str(device),
            'peaks': peaks, 'peak_seconds': time.perf_counter() - start,
            'cuda': torch.cuda.get_device_name() if torch.cuda.is_available() else None}


def _describe_machine(info):
    peaks = info['peaks']
    bf16 = (f'bf16 {peaks["bf16"]:.0f} GFLOP/s' if not peaks['bf16_emulated'] else
            f'bf16 emulated {peaks["bf16"]:.1f} GFLOP/s (no native bf16; shares use fp32)')
    return (f'machine: {info["cpu"]}, {info["cores"]} cores, {info["threads"]} threads, '
            f'{info["cpu_capability"]}; torch {info["torch"]}, onnxruntime '
            f'{info["onnxruntime"]}; device {info["device"]}'
            + (f' ({info["cuda"]})' if info['cuda'] else '')
            + f'\nmatmul peak (1024^2, this run): fp32 {peaks["fp32"]:.0f} GFLOP/s, {bf16}')


def _table(rows):
    from a2j_ros.core.text_table import format_table
    return format_table([r for r in rows if not r.get('skipped')], COLUMNS)


def _pre_post_timings(info):
    """Time hand cropping per ROI (the aggregation is timed per row: ``aggregation_ms``)."""
    import numpy as np

    from a2j_ros.core import bench
    from a2j_ros.core.cropping import crop_hands
    from a2j_ros.core.synthetic.dataset import SyntheticHands
    data = SyntheticHands('val', 1)
    sample = data.load(0)
    config = bench.bench_crop_config('hand', 176)
    centres = np.repeat(sample.centre_uvd[None], 4, axis=0)
    crop = bench.time_call(lambda: crop_hands(sample.depth, centres, data.camera, config),
                           warmup=2, iters=20)
    return {'crop_ms_per_roi': crop['median_ms'] / 4}
