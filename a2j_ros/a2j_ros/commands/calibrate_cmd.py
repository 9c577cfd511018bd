"""``a2j calibrate``: fit the per-joint confidence calibration of a checkpoint and store it.

    a2j calibrate --checkpoint CK --frames 600 --out CK2 [--force]
    a2j calibrate --checkpoint CK --frames 600 --in-place

The checkpoint runs over ``--frames`` synthetic frames of its own subject (synthetic_hand for
hand crops, synthetic_body for body crops) cropped with its own crop settings: by default half
with the sensor model (core.synthetic.sensor) and half without, from the held-out ``val``
stream under ``--seed`` (default 1: not the frames that training validated on nor those that
``a2j eval`` scores, which use seed 0). A monotone per-joint map is fitted
(core.calibration) so that, of the joints given confidence c, about a fraction c lies within
20 mm (hands) or 100 mm (bodies) of the truth. The expected calibration error (10 bins) before
and after is then measured on ``--check-frames`` other frames (seed 0, the frames of
``a2j eval``), printed and stored with the calibration.

Writing: ``--out`` writes a new file (an existing one only with ``--force``); ``--in-place``
replaces ``--checkpoint`` itself. Either way the file is written atomically (temporary file,
fsync, rename): a crash leaves the old checkpoint or the new one, and the weights and every
other entry are copied unchanged. Calibrating an already calibrated checkpoint refits from the
raw confidences (the stored map is replaced).
"""
import sys

from a2j_ros.core.errors import A2JError

SUBJECT_DATASET = {'hand': 'synthetic_hand', 'body': 'synthetic_body'}


def add_arguments(parser):
    """Register the options of ``a2j calibrate``."""
    parser.add_argument('--checkpoint', required=True, metavar='CK', help='a2j_ros checkpoint')
    parser.add_argument('--frames', type=int, default=600, metavar='N',
                        help='synthetic frames to fit on (default 600)')
    parser.add_argument('--check-frames', type=int, default=300, metavar='M',
                        help='other held-out frames on which ECE is measured (default 300)')
    parser.add_argument('--sensor', choices=('both', 'on', 'off'), default='both',
                        help='frames with the sensor model, without, or half each (default)')
    parser.add_argument('--seed', type=int, default=1,
                        help='seed of the fitting frames (default 1; ECE uses seed 0)')
    parser.add_argument('--bins', type=int, default=20,
                        help='equal-count groups per joint for the fit (default 20)')
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument('--out', metavar='CK2', help='write the calibrated checkpoint here')
    where.add_argument('--in-place', action='store_true',
                       help='replace --checkpoint atomically with the calibrated one')
    parser.add_argument('--force', action='store_true', help='overwrite an existing --out')
    parser.add_argument('--device', default='cpu', help='cpu (default) | cuda | auto')
    parser.add_argument('--batch-size', type=int, default=32, help='frames per batch (32)')


def _frames(dataset, count, seed, sensor):
    """Return PoseDatasets totalling ``count`` frames (sensor on, off, or half each)."""
    from a2j_ros.core.datasets import open_dataset
    if sensor == 'both':
        on = count // 2
        return [open_dataset(dataset, split='val', num_frames=on, seed=seed, sensor=True),
                open_dataset(dataset, split='val', num_frames=count - on, seed=seed)]
    return [open_dataset(dataset, split='val', num_frames=count, seed=seed,
                         sensor=sensor == 'on')]


def _confidence_and_errors(model, datasets, args):
    """Return raw confidences (N, K) and 3-D joint errors (N, K) in mm over ``datasets``."""
    import numpy as np

    from a2j_ros.core.evaluate import predict_dataset
    confs, errors = [], []
    for dataset in datasets:
        pred, gt, _names, conf = predict_dataset(model, dataset, batch_size=args.batch_size,
                                                 device=args.device, with_confidence=True,
                                                 progress=sys.stderr.isatty())
        cam = dataset.camera
        errors.append(np.linalg.norm(cam.unproject(pred) - cam.unproject(gt), axis=-1))
        confs.append(conf)
    return np.concatenate(confs), np.concatenate(errors)


def calibrate(args):
    """Fit, check and write; return the summary dict."""
    from pathlib import Path

    import numpy as np
    import torch

    from a2j_ros.core.atomic import atomic_write
    from a2j_ros.core.calibration import expected_calibration_error, fit_calibration, RADIUS_MM
    from a2j_ros.core.checkpoint import model_from_checkpoint, read_checkpoint, resolve_device
    from a2j_ros.core.layouts import get_layout
    if args.frames < 20 or args.check_frames < 1 or args.bins < 1:
        raise A2JError('--frames must be >= 20, --check-frames and --bins >= 1')
    source = Path(args.checkpoint)
    target = source if args.in_place else Path(args.out)
    if not args.in_place and target.exists() and not args.force:
        raise A2JError(f'{target} exists; use --force to overwrite it (or --in-place)')
    data = read_checkpoint(source)
    model = model_from_checkpoint(data, source)
    crop = model.crop_config
    if crop is None or crop.mode not in SUBJECT_DATASET:
        raise A2JError(f'{source}: no hand/body crop settings to calibrate with')
    dataset = SUBJECT_DATASET[crop.mode]
    expected = get_layout('nyu_hand_14' if crop.mode == 'hand' else 'itop_body_15').name
    if model.config.layout != expected:
        raise A2JError(f'{source}: predicts {model.config.layout}; synthetic {crop.mode} '
                       f'frames are {expected}, so it cannot be calibrated here')
    args.device = resolve_device(args.device)
    model = model.to(args.device).eval()
    radius = RADIUS_MM[crop.mode]
    conf, err = _confidence_and_errors(model, _frames(dataset, args.frames, args.seed,
                                                      args.sensor), args)
    check_conf, check_err = _confidence_and_errors(
        model, _frames(dataset, args.check_frames, 0, args.sensor), args)
    info = {'dataset': dataset, 'frames': int(len(conf)), 'seed': int(args.seed),
            'sensor': args.sensor, 'bins': int(args.bins), 'check_frames': int(len(check_conf)),
            'check_seed': 0}
    calibration = fit_calibration(conf, err, radius, bins=args.bins, info=info)
    hits = check_err <= radius
    before, _ = expected_calibration_error(check_conf, hits)
    after, _ = expected_calibration_error(calibration.apply(check_conf), hits)
    fit_after, _ = expected_calibration_error(calibration.apply(conf), err <= radius)
    calibration.info.update(ece_raw=before, ece=after, ece_fit=fit_after,
                            hit_rate=float(np.mean(hits)))
    data = dict(data)
    data['calibration'] = calibration.to_dict()
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(target) as stream:
        torch.save(data, stream)
    return {'path': str(target), 'radius_mm': radius, 'ece_raw': before, 'ece': after,
            'ece_fit': fit_after, 'hit_rate': float(np.mean(hits)),
            'raw_range': (float(conf.min()), float(conf.max())), **info}


def run(args):
    """Calibrate and print the figures; return the exit code."""
    try:
        s = calibrate(args)
    except (A2JError, OSError) as exc:
        print(f'a2j calibrate: error: {exc}', file=sys.stderr)
        return 2
    print(f"fitted on {s['frames']} {s['dataset']} frames (val split, seed {s['seed']}, sensor "
          f"{s['sensor']}); raw confidences {s['raw_range'][0]:.3f}..{s['raw_range'][1]:.3f}")
    print(f"held-out check, {s['check_frames']} frames (seed 0): {100 * s['hit_rate']:.1f} % of "
          f"joints within {s['radius_mm']:g} mm; ECE (10 bins) {s['ece_raw']:.3f} raw -> "
          f"{s['ece']:.3f} calibrated (fit frames: {s['ece_fit']:.3f})")
    print(f"wrote {s['path']}")
    return 0


__all__ = ['add_arguments', 'calibrate', 'run']
