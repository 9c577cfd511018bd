"""Turn predictions and ground truth into the report of ``a2j eval``, training and replay.

``evaluate_predictions`` is the one entry point on arrays; ``evaluate_files`` reads files with
core.prediction_io first; ``predict_dataset`` / ``evaluate_dataset`` run a model over a
dataset (crop, batch, uncrop) first. Reports are plain JSON-friendly dicts:

- always: ``layout``, ``metric``, ``num_frames``, ``num_joints``, ``joint_names``;
- 3D layouts: ``mean_error_mm``, ``per_joint_error_mm`` {joint: mm}, ``success_curve``
  {``thresholds_mm``, ``percent`` of frames whose worst joint is within the threshold};
- metric ``map``: ``map_10cm`` (percent), ``per_joint_ap_10cm`` {joint: %},
  ``per_joint_ap_10cm_grouped`` (left/right averaged, as the paper's Table 5);
- metric ``pdj`` (2D): ``pdj`` {ratio: %}, ``pdj_average`` (percent), ``per_joint_pdj``.
"""
import numpy as np

from a2j_ros.core import metrics
from a2j_ros.core.errors import DatasetError, InputError
from a2j_ros.core.layouts import get_layout
from a2j_ros.core.presets import METRICS

MAP_THRESHOLD_MM = 100.0
BODY_SUCCESS_THRESHOLDS_MM = tuple(range(0, 301, 5))


def _named(names, values, digits=4):
    return {name: round(float(v), digits) for name, v in zip(names, values)}


def _torso_joints(layout):
    names = layout.joint_names
    try:
        return names.index('neck'), (names.index('l_hip'), names.index('r_hip'))
    except ValueError:
        raise InputError(f'layout {layout.name} has no neck and hips for PDJ') from None


def evaluate_predictions(pred, gt, layout_name, metric_kind='mean_error', thresholds_mm=None):
    """Compare predictions with ground truth and return the report dict.

    ``pred`` and ``gt`` are (N, J, 3) xyz in millimetres (any common frame) for 3D metrics,
    or (N, J, 2) full-image pixels for ``pdj``. ``metric_kind``: mean_error | map | pdj.
    ``thresholds_mm`` of the success curve default to 0..80 mm for hands (paper Fig. 7) and
    0..300 mm in 5 mm steps for bodies.
    """
    if metric_kind not in METRICS:
        raise InputError(f'unknown metric {metric_kind!r}; known: {list(METRICS)}')
    layout = get_layout(layout_name)
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if pred.ndim != 3 or pred.shape != gt.shape:
        raise InputError(f'predictions {pred.shape} and ground truth {gt.shape} must have the '
                         f'same shape (N, J, D)')
    if pred.shape[1] != layout.num_joints:
        raise InputError(f'layout {layout.name} has {layout.num_joints} joints, the arrays '
                         f'have {pred.shape[1]}')
    if len(pred) == 0:
        raise InputError('nothing to evaluate: 0 frames')
    for what, array in (('predictions', pred), ('ground truth', gt)):
        if not np.all(np.isfinite(array)):
            raise InputError(f'{what} contain non-finite values')
    names = list(layout.joint_names)
    report = {'layout': layout.name, 'metric': metric_kind, 'num_frames': int(len(pred)),
              'num_joints': layout.num_joints, 'joint_names': names}
    if metric_kind == 'pdj':
        neck, hips = _torso_joints(layout)
        torso = metrics.torso_diameter(gt[..., :2], neck, hips)
        results = metrics.pdj(pred[..., :2], gt[..., :2], torso)
        report['pdj'] = {f'{r:.2f}': round(overall, 4) for r, (overall, _) in results.items()}
        report['pdj_average'] = round(float(np.mean([o for o, _ in results.values()])), 4)
        report['per_joint_pdj'] = {f'{r:.2f}': _named(names, per_joint)
                                   for r, (_, per_joint) in results.items()}
        return report
    if pred.shape[-1] != 3:
        raise InputError(f'metric {metric_kind} needs 3D joints (N, J, 3), got {pred.shape}')
    errors = metrics.joint_errors(pred, gt)
    report['mean_error_mm'] = round(metrics.mean_error(errors), 4)
    report['per_joint_error_mm'] = _named(names, metrics.per_joint_error(errors))
    if thresholds_mm is None:
        thresholds_mm = (metrics.SUCCESS_THRESHOLDS_MM if layout.kind == 'hand'
                         else BODY_SUCCESS_THRESHOLDS_MM)
    thresholds = np.asarray(thresholds_mm, dtype=np.float64)
    report['success_curve'] = {
        'thresholds_mm': [float(t) for t in thresholds],
        'percent': [round(float(p) * 100.0, 4) for p in metrics.success_curve(errors, thresholds)]}
    if metric_kind == 'map':
        overall, per_joint = metrics.map_at(errors, MAP_THRESHOLD_MM)
        report['map_10cm'] = round(overall, 4)
        report['per_joint_ap_10cm'] = _named(names, per_joint)
        grouped = metrics.group_left_right(names, per_joint)
        report['per_joint_ap_10cm_grouped'] = {k: round(v, 4) for k, v in grouped.items()}
    return report


def evaluate_files(preset, pred_path, gt_path, metric_kind=None):
    """Read predictions and ground truth files of ``preset``'s dataset and evaluate them.

    Adds ``dataset``, ``pred`` and ``gt`` (the paths) to the report.
    """
    from a2j_ros.core.prediction_io import align_frames, load_keypoints
    layout = get_layout(preset.layout)
    metric_kind = metric_kind or preset.metric
    gt = load_keypoints(gt_path, preset, layout.num_joints)
    pred = load_keypoints(pred_path, preset, layout.num_joints)
    if pred.layout and pred.layout != layout.name:
        raise DatasetError(f'{pred.path}: predictions are for layout {pred.layout}, '
                           f'dataset {preset.name} uses {layout.name}')
    pred, gt = align_frames(pred, gt)       # by frame ids when both files have them
    if metric_kind == 'pdj':
        pred_arr, gt_arr = pred.to_uv(preset.camera), gt.to_uv(preset.camera)
    else:
        pred_arr, gt_arr = pred.to_xyz(preset.camera), gt.to_xyz(preset.camera)
    report = evaluate_predictions(pred_arr, gt_arr, layout.name, metric_kind)
    return {'dataset': preset.name, 'pred': str(pred_path), 'gt': str(gt_path), **report}


def predict_dataset(model, dataset, crop_config=None, batch_size=16, device='cpu',
                    max_frames=None, progress=False, with_confidence=False):
    """Run ``model`` over a dataset's frames; return full-image predictions and ground truth.

    ``dataset`` is a sequence of ``core.datasets.base.Sample`` with ``camera`` and
    ``input_scale`` attributes (a ``PoseDataset``). Each frame is cropped with
    ``crop_config`` (default: the model's), the crops run in batches through
    ``model.predict`` on ``device`` and the crop predictions are mapped back in one
    vectorised call per batch. Frames flagged invalid are skipped.
    Returns ``(pred_uvd (N, K, 3), gt_uvd (N, K, 3), names)`` in pixels and millimetres,
    plus the network's per-joint confidence (N, K) with ``with_confidence``.
    """
    import torch

    from a2j_ros.core.cropping import crop_body, crop_hand, CropTransform
    config = crop_config if crop_config is not None else getattr(model, 'crop_config', None)
    if config is None:
        raise InputError('the model has no crop_config; give one (a CropConfig)')
    if batch_size < 1:
        raise InputError(f'batch size must be >= 1, got {batch_size}')
    count = len(dataset) if max_frames is None else min(len(dataset), int(max_frames))
    preds, gts, names, confs = [], [], [], []
    crops, transforms = [], []

    def flush():
        x = torch.from_numpy(np.stack(crops)[:, None]).to(device)
        out = model.predict(x)
        crop_uvd = out['uvd'].detach().to('cpu', torch.float64).numpy()
        preds.append(CropTransform.concat(transforms).to_image(crop_uvd))
        conf = out.get('confidence')
        confs.append(np.ones(crop_uvd.shape[:2]) if conf is None
                     else conf.detach().to('cpu', torch.float64).numpy())
        crops.clear()
        transforms.clear()

    indices = range(count)
    if progress:
        from tqdm import tqdm
        indices = tqdm(indices, desc='predict', unit='frame')
    for index in indices:
        sample = dataset[index]
        if not sample.valid:
            continue
        if config.mode == 'hand':
            crop, transform = crop_hand(sample.depth, sample.centre_uvd, dataset.camera, config)
        else:
            crop, transform = crop_body(sample.depth, sample.box, config,
                                        getattr(dataset, 'input_scale', 1e-3))
        crops.append(crop)
        transforms.append(transform)
        gts.append(np.asarray(sample.joints_uvd, dtype=np.float64))
        names.append(sample.name or str(index))
        if len(crops) == batch_size:
            flush()
    if crops:
        flush()
    if not gts:
        raise InputError('no valid frames to evaluate')
    if with_confidence:
        return np.concatenate(preds), np.stack(gts), names, np.concatenate(confs)
    return np.concatenate(preds), np.stack(gts), names


def evaluate_dataset(model, dataset, preset, metric_kind=None, calibration=None,
                     **predict_options):
    """Predict over ``dataset`` with ``model`` and return ``(report, pred_uvd)``.

    3-D reports get a ``confidence`` section (core.calibration.confidence_report: ECE and
    reliability table of the network's confidence, and of ``calibration``'s when given) at
    the radius of the model's crop mode (hands 20 mm, bodies 100 mm).
    """
    from a2j_ros.core.calibration import confidence_report, RADIUS_MM
    layout = get_layout(dataset.layout or preset.layout)
    metric_kind = metric_kind or preset.metric
    pred_uvd, gt_uvd, _names, confidence = predict_dataset(model, dataset, with_confidence=True,
                                                           **predict_options)
    if pred_uvd.shape != gt_uvd.shape:
        raise InputError(f'the model predicts {pred_uvd.shape[1]} joints, the dataset has '
                         f'{gt_uvd.shape[1]} ({layout.name})')
    if metric_kind == 'pdj':
        report = evaluate_predictions(pred_uvd[..., :2], gt_uvd[..., :2], layout.name, 'pdj')
    else:
        camera = dataset.camera
        pred_xyz, gt_xyz = camera.unproject(pred_uvd), camera.unproject(gt_uvd)
        report = evaluate_predictions(pred_xyz, gt_xyz, layout.name, metric_kind)
        crop = predict_options.get('crop_config') or getattr(model, 'crop_config', None)
        mode = getattr(crop, 'mode', None) or ('body' if metric_kind == 'map' else 'hand')
        errors = np.linalg.norm(pred_xyz - gt_xyz, axis=-1)
        report['confidence'] = confidence_report(confidence, errors, RADIUS_MM[mode],
                                                 calibration)
    return {'dataset': preset.name, **report}, pred_uvd


def headline(report):
    """Return ``(key, value, unit)`` of the report's main number."""
    if report['metric'] == 'map':
        return 'map_10cm', report['map_10cm'], '%'
    if report['metric'] == 'pdj':
        return 'pdj_average', report['pdj_average'], '%'
    return 'mean_error_mm', report['mean_error_mm'], 'mm'


def format_report(report):
    """Return the report as text: overall figures, then a table with one row per joint."""
    from a2j_ros.core.text_table import format_table
    key, value, unit = headline(report)
    lines = [f"{report.get('dataset', report['layout'])}: {report['num_frames']} frames, "
             f"{report['num_joints']} joints ({report['layout']})",
             f'{key}: {value:.3f} {unit}']
    names = report['joint_names']
    if report['metric'] == 'pdj':
        ratios = list(report['pdj'])
        lines.append('  '.join(f'PDJ@{r}: {report["pdj"][r]:.2f}%' for r in ratios))
        rows = [dict({'joint': name}, **{r: report['per_joint_pdj'][r][name] for r in ratios})
                for name in names]
        lines.append(format_table(rows, [('joint', 'joint', None)]
                                  + [(r, '@' + r, '{:.2f}') for r in ratios]))
        return '\n'.join(lines)
    curve = report['success_curve']
    marks = [t for t in (10, 20, 30, 40, 50, 80, 100, 150, 200, 300)
             if t in curve['thresholds_mm']][:6]
    lines.append('frames with all joints within: ' + ', '.join(
        f"{t} mm {curve['percent'][curve['thresholds_mm'].index(t)]:.1f}%" for t in marks))
    rows = [{'joint': name, 'error': report['per_joint_error_mm'][name],
             'ap': report.get('per_joint_ap_10cm', {}).get(name)} for name in names]
    rows.append({'joint': 'mean', 'error': report['mean_error_mm'], 'ap': report.get('map_10cm')})
    columns = [('joint', 'joint', None), ('error', 'error mm', '{:.2f}')]
    if report['metric'] == 'map':
        columns.append(('ap', 'AP@10cm %', '{:.2f}'))
    lines.append(format_table(rows, columns))
    if report['metric'] == 'map':
        lines.append('AP@10cm, left/right averaged: ' + ', '.join(
            f'{k} {v:.2f}' for k, v in report['per_joint_ap_10cm_grouped'].items()))
    conf = report.get('confidence')
    if conf:
        line = (f"confidence (joint within {conf['radius_mm']:g} mm, {conf['bins']} bins): "
                f"hit rate {conf['hit_rate']:.3f}, ECE {conf['ece_raw']:.3f} raw")
        if conf['calibrated']:
            line += f", {conf['ece']:.3f} calibrated"
        lines.append(line)
    return '\n'.join(lines)


__all__ = ['evaluate_predictions', 'evaluate_files', 'predict_dataset', 'evaluate_dataset',
           'format_report', 'headline', 'MAP_THRESHOLD_MM']
