"""``a2j eval``: score predictions against ground truth the way the A2J paper does.

    a2j eval --dataset nyu --pred PRED --gt GT [--json OUT] [--plots DIR] [--metric M]

prints a table (overall and per joint) and can write the report as JSON and the paper's
Fig. 7 plots as PNG. ``--checkpoint CK [--root DATA]`` runs a model over the dataset's test
split first (synthetic datasets are rendered, real ones are read with
core.datasets.open_dataset) and reports the same way.
"""
import json
from pathlib import Path
import sys

from a2j_ros.core.errors import A2JError
from a2j_ros.core.presets import METRICS, PRESETS


def add_arguments(parser):
    """Register the options of ``a2j eval``."""
    parser.add_argument('--dataset', required=True, choices=sorted(PRESETS),
                        help='dataset preset: joint layout, camera, file conventions, metric')
    parser.add_argument('--pred', metavar='PRED',
                        help="predictions: authors' .txt (N x J*3 u v d) or .mat (resultUVD), "
                             '.npy, or our .npz (see docs/evaluation.md)')
    parser.add_argument('--gt', metavar='GT',
                        help='ground truth: .mat (keypoints3D / keypointsTest), .txt, .npy, .npz')
    parser.add_argument('--metric', choices=METRICS, default=None,
                        help="headline metric (default: the dataset's: mean_error for hands, "
                             'map for ITOP, pdj for K2HPD)')
    parser.add_argument('--json', metavar='OUT', help='write the full report as JSON here')
    parser.add_argument('--plots', metavar='DIR', help='write PNG plots into this folder')
    group = parser.add_argument_group('evaluate a checkpoint instead of a predictions file')
    group.add_argument('--checkpoint', metavar='CK', help='a2j_ros checkpoint (.pt)')
    group.add_argument('--root', metavar='DATA', help='dataset root folder')
    group.add_argument('--device', default='cpu', help='cpu (default) | cuda | auto')
    group.add_argument('--batch-size', type=int, default=16, help='frames per batch (16)')
    group.add_argument('--frames', type=int, default=None,
                       help='evaluate at most this many test frames (synthetic: how many to '
                            'render, default 200)')
    group.add_argument('--seed', type=int, default=0, help='synthetic test split seed (0)')
    group.add_argument('--sensor', action='store_true',
                       help='synthetic: render the frames through the depth sensor model '
                            '(noise, quantisation, holes, flying pixels; docs/synthetic.md)')
    group.add_argument('--save-pred', metavar='OUT',
                       help='also write the predictions in our .npz format')


def _report_from_files(args, preset):
    from a2j_ros.core.evaluate import evaluate_files
    if not args.pred or not args.gt:
        raise A2JError('give both --pred PRED and --gt GT (or --checkpoint CK --root DATA)')
    return evaluate_files(preset, args.pred, args.gt, args.metric)


SYNTHETIC = ('synthetic_hand', 'synthetic_body')


def _open_dataset(args):
    """Return the test split of ``--dataset`` as a PoseDataset (synthetic ones need no root)."""
    if args.dataset not in SYNTHETIC and not args.root:
        raise A2JError(f'--checkpoint with --dataset {args.dataset} needs --root DATA')
    try:
        from a2j_ros.core.datasets import open_dataset
    except ImportError:
        raise A2JError(f'this build has no dataset readers (core.datasets.open_dataset) for '
                       f'{args.dataset}; run the model elsewhere and use --pred PRED --gt GT'
                       ) from None
    if args.sensor and args.dataset not in SYNTHETIC:
        raise A2JError('--sensor applies to the synthetic datasets only')
    options = {'num_frames': args.frames, 'seed': args.seed, 'sensor': args.sensor} \
        if args.dataset in SYNTHETIC else {}
    return open_dataset(args.dataset, root=args.root, split='test', **options)


def _report_from_checkpoint(args, preset):
    """Run ``--checkpoint`` over the dataset's test split and evaluate it."""
    from a2j_ros.core.calibration import ConfidenceCalibration
    from a2j_ros.core.checkpoint import model_from_checkpoint, read_checkpoint, resolve_device
    from a2j_ros.core.evaluate import evaluate_dataset
    dataset = _open_dataset(args)
    device = resolve_device(args.device)
    data = read_checkpoint(args.checkpoint)
    model = model_from_checkpoint(data, args.checkpoint).to(device).eval()
    calibration = None if data.get('calibration') is None else \
        ConfidenceCalibration.from_dict(data['calibration'], args.checkpoint)
    if model.config.layout != (dataset.layout or preset.layout):
        raise A2JError(f'{args.checkpoint} predicts layout {model.config.layout}, dataset '
                       f'{args.dataset} uses {dataset.layout or preset.layout}')
    report, pred_uvd = evaluate_dataset(
        model, dataset, preset, args.metric, calibration, batch_size=args.batch_size,
        device=device,
        max_frames=args.frames if args.dataset not in SYNTHETIC else None,
        progress=sys.stderr.isatty())
    report['checkpoint'] = str(args.checkpoint)
    if args.save_pred:
        from a2j_ros.core.prediction_io import save_predictions
        camera = dataset.camera
        xyz = camera.unproject(pred_uvd) if pred_uvd.shape[-1] == 3 and camera else None
        path = save_predictions(args.save_pred, model.config.layout, uvd=pred_uvd, xyz=xyz,
                                dataset=args.dataset, camera=camera)
        print(f'predictions: {path}')
    return report


def _write_json(report, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + '.tmp')
    tmp.write_text(json.dumps(report, indent=1) + '\n', encoding='utf-8')
    tmp.replace(path)


def run(args):
    """Evaluate and print the table; return the exit code."""
    from a2j_ros.core.evaluate import format_report
    preset = PRESETS[args.dataset]
    try:
        if args.checkpoint:
            if args.pred:
                raise A2JError('give either --pred or --checkpoint, not both')
            if args.dataset in SYNTHETIC and args.frames is None:
                args.frames = 200
            report = _report_from_checkpoint(args, preset)
        else:
            report = _report_from_files(args, preset)
        print(format_report(report))
        if args.json:
            _write_json(report, args.json)
            print(f'report: {args.json}')
        if args.plots:
            from a2j_ros.core.plots import plot_report
            for path in plot_report(report, args.plots):
                print(f'plot: {path}')
    except A2JError as exc:
        print(f'a2j eval: error: {exc}', file=sys.stderr)
        return 2
    except OSError as exc:
        print(f'a2j eval: error: {exc}', file=sys.stderr)
        return 2
    return 0
