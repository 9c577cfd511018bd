"""The replay report: JSON, PNG plots and overlay images from a ReplayRecord.

Layout of the report folder::

    report.json             accuracy (when the bag has ground truth), speed, frame counts
    predictions.npz         matched predictions, core.prediction_io format (xyz and uvd, mm)
    ground_truth.npz        the ground truth they were matched with, same format
    plots/*.png             success curve, per-joint error (and per-joint AP for bodies),
                            latency over the replay
    overlays/frame_*.png    depth with predicted (red) and ground-truth (green) skeletons

The accuracy section is computed by ``core.evaluate.evaluate_files`` on the two .npz files,
so ``a2j eval --dataset D --pred predictions.npz --gt ground_truth.npz`` prints the same
numbers (the command is stored in the report).
"""
import json
from pathlib import Path

import numpy as np

from a2j_ros.bag.overlay import save_overlay
from a2j_ros.bag.replay_record import paired_arrays
from a2j_ros.core.layouts import get_layout

# The preset whose file conventions and metric evaluate a layout (our .npz stores xyz, so
# only the metric and the layout matter).
EVAL_PRESET_BY_LAYOUT = {'nyu_hand_14': 'synthetic_hand', 'icvl_hand_16': 'icvl',
                         'hands2017_hand_21': 'hands2017', 'itop_body_15': 'synthetic_body'}


def _percentiles_ms(values_s):
    values = np.asarray([v for v in values_s if v is not None], dtype=np.float64) * 1000.0
    if values.size == 0:
        return None
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {'mean': round(float(values.mean()), 3), 'p50': round(float(p50), 3),
            'p95': round(float(p95), 3), 'p99': round(float(p99), 3),
            'max': round(float(values.max()), 3), 'count': int(values.size)}


def speed_section(record):
    """Return frame counts, fps and latency percentiles (milliseconds) of a replay."""
    frames = record.frames
    answered = [f for f in frames if f.received]
    latencies = [f.latency_s for f in answered]
    section = {
        'frames_total': len(frames),
        'frames_answered': len(answered),
        'frames_dropped': len(frames) - len(answered),
        'frames_with_skeletons': sum(1 for f in answered if len(f.pred_xyz_mm)),
        'instances_estimated': int(sum(len(f.pred_xyz_mm) for f in answered)),
        'latency_ms': _percentiles_ms(latencies),
        'wall_time_s': round(float(record.wall_time_s), 4),
    }
    if record.mode == 'offline':
        busy = sum(v for v in latencies if v is not None)
        section['latency_kind'] = 'ROI search + pipeline time per frame (bag reading excluded)'
        section['fps'] = round(len(answered) / busy, 3) if busy > 0 else None
    else:
        section['latency_kind'] = 'depth image published -> SkeletonArray received'
        section['fps'] = (round(len(answered) / record.wall_time_s, 3)
                          if record.wall_time_s > 0 else None)
    section['wall_fps'] = (round(len(answered) / record.wall_time_s, 3)
                           if record.wall_time_s > 0 else None)
    return section


def accuracy_section(record, out_dir):
    """Write predictions.npz and ground_truth.npz; return the evaluation dict or None.

    None when the bag has no ground truth or no frame got a prediction.
    """
    from a2j_ros.core.evaluate import evaluate_files, evaluate_predictions
    from a2j_ros.core.prediction_io import save_predictions
    from a2j_ros.core.presets import get_preset

    pred_xyz, gt_xyz, pred_uvd, gt_uvd, index, missed = paired_arrays(record)
    with_gt = sum(1 for f in record.frames
                  if f.ground_truth is not None and len(f.ground_truth.xyz_mm))
    if len(pred_xyz) == 0:
        if with_gt == 0:
            return None
        return {'frames_with_ground_truth': with_gt, 'instances_evaluated': 0,
                'instances_missed': int(missed)}
    gt_layout = next(f.ground_truth.layout for f in record.frames if f.ground_truth is not None
                     and len(f.ground_truth.xyz_mm))
    if gt_layout != record.layout:
        return {'error': f'ground truth layout {gt_layout} differs from the model layout '
                         f'{record.layout}: no accuracy', 'frames_with_ground_truth': with_gt}
    pred_path = save_predictions(Path(out_dir) / 'predictions.npz', record.layout,
                                 uvd=pred_uvd, xyz=pred_xyz, frame_ids=index, dataset='replay')
    gt_path = save_predictions(Path(out_dir) / 'ground_truth.npz', record.layout, uvd=gt_uvd,
                               xyz=gt_xyz, frame_ids=index, dataset='replay')
    preset_name = EVAL_PRESET_BY_LAYOUT.get(record.layout)
    if preset_name is not None:
        report = evaluate_files(get_preset(preset_name), pred_path, gt_path)
        report['eval_command'] = (f'a2j eval --dataset {preset_name} --pred {pred_path} '
                                  f'--gt {gt_path}')
    else:
        kind = 'map' if get_layout(record.layout).kind == 'body' else 'mean_error'
        report = evaluate_predictions(pred_xyz.astype(np.float32), gt_xyz.astype(np.float32),
                                      record.layout, kind)
    report.update({'frames_with_ground_truth': with_gt,
                   'instances_evaluated': int(len(pred_xyz)), 'instances_missed': int(missed)})
    return report


def _plot_latency(record, path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    frames = [f for f in record.frames if f.received and f.latency_s is not None]
    if not frames:
        return None
    fig = Figure(figsize=(7.0, 3.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot([f.index for f in frames], [f.latency_s * 1000.0 for f in frames], '.-',
            color='tab:blue', linewidth=1)
    dropped = [f.index for f in record.frames if not f.received]
    if dropped:
        ax.plot(dropped, np.zeros(len(dropped)), 'x', color='tab:red',
                label=f'dropped ({len(dropped)})')
        ax.legend(loc='upper right')
    ax.set_xlabel('frame')
    ax.set_ylabel('latency (ms)')
    ax.set_title(f'{record.mode} replay: ' + ('pipeline time per frame' if record.mode ==
                                              'offline' else 'publish -> skeletons received'))
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(str(path))
    return str(path)


def _overlay_title(frame):
    parts = [f'frame {frame.index}']
    gt = frame.ground_truth
    if gt is not None and len(gt.xyz_mm) and len(frame.pred_xyz_mm):
        from a2j_ros.bag.replay_record import match_instances
        pairs = match_instances(frame.pred_xyz_mm, gt.xyz_mm)
        errors = [np.linalg.norm(frame.pred_xyz_mm[p] - gt.xyz_mm[g], axis=-1).mean()
                  for p, g in pairs]
        if errors:
            parts.append(f'error {np.mean(errors):.1f} mm')
    if not frame.received:
        parts.append('dropped')
    elif frame.latency_s is not None:
        parts.append(f'{frame.latency_s * 1000.0:.1f} ms')
    return '  '.join(parts)


def write_overlays(record, out_dir):
    """Draw the frames kept in ``record.overlay_depth``; return the PNG paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    bones = get_layout(record.layout).bones
    by_index = {f.index: f for f in record.frames}
    paths = []
    for index in sorted(record.overlay_depth):
        frame = by_index.get(index)
        if frame is None:
            continue
        gt = frame.ground_truth
        gt_uvd = list(gt.uvd) if gt is not None and gt.layout == record.layout else []
        paths.append(save_overlay(out_dir / f'frame_{index:05d}.png',
                                  record.overlay_depth[index], bones,
                                  pred_uvd=list(frame.pred_uvd), gt_uvd=gt_uvd,
                                  rois=frame.rois, title=_overlay_title(frame)))
    return [str(p) for p in paths]


def write_report(record, out_dir):
    """Write the whole report folder for ``record``; return the report dict."""
    from a2j_ros.core.plots import plot_report
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Files of an earlier report in the same folder would mix with this one's.
    stale = [out_dir / 'predictions.npz', out_dir / 'ground_truth.npz']
    stale += list(out_dir.glob('overlays/frame_*.png')) + list(out_dir.glob('plots/*.png'))
    for path in stale:
        if path.is_file():
            path.unlink()
    report = {'bag': record.bag, 'mode': record.mode, 'layout': record.layout,
              'settings': record.settings, 'speed': speed_section(record)}
    accuracy = accuracy_section(record, out_dir)
    report['accuracy'] = accuracy
    plots = []
    if accuracy and 'metric' in accuracy:
        plots += plot_report(accuracy, out_dir / 'plots', prefix='accuracy')
    latency_plot = _plot_latency(record, _ensure(out_dir / 'plots') / 'latency.png')
    if latency_plot:
        plots.append(latency_plot)
    report['files'] = {'report': str(out_dir / 'report.json'), 'plots': plots,
                       'overlays': write_overlays(record, out_dir / 'overlays')}
    if accuracy and 'metric' in accuracy:
        report['files'].update(predictions=str(out_dir / 'predictions.npz'),
                               ground_truth=str(out_dir / 'ground_truth.npz'))
    tmp = out_dir / 'report.json.tmp'
    tmp.write_text(json.dumps(report, indent=1, default=_json_default) + '\n')
    tmp.replace(out_dir / 'report.json')
    return report


def _ensure(folder):
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _json_default(value):
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def format_summary(report):
    """Return the few lines a user reads first: accuracy, speed, where the pictures are."""
    speed = report['speed']
    lines = [f"a2j replay ({report['mode']}): {report['bag']}",
             f"frames: {speed['frames_total']} in, {speed['frames_answered']} answered, "
             f"{speed['frames_dropped']} dropped, {speed['frames_with_skeletons']} with "
             'skeletons']
    accuracy = report.get('accuracy')
    if accuracy and 'mean_error_mm' in accuracy:
        line = (f"mean 3D error: {accuracy['mean_error_mm']:.2f} mm over "
                f"{accuracy['instances_evaluated']} instances")
        if 'map_10cm' in accuracy:
            line += f", mAP@10cm {accuracy['map_10cm']:.2f}%"
        if accuracy.get('instances_missed'):
            line += f" ({accuracy['instances_missed']} ground-truth instances missed)"
        lines.append(line)
    elif accuracy and accuracy.get('error'):
        lines.append(f"accuracy: {accuracy['error']}")
    elif accuracy:
        lines.append(f"accuracy: no prediction matched the ground truth "
                     f"({accuracy.get('instances_missed', 0)} instances missed)")
    else:
        lines.append('accuracy: the bag has no ground truth (speed only)')
    latency = speed.get('latency_ms')
    fps = f"{speed['fps']:.1f} fps" if speed.get('fps') else 'fps n/a'
    if latency:
        lines.append(f"speed: {fps}; latency ms p50 {latency['p50']:.1f}, p95 "
                     f"{latency['p95']:.1f}, p99 {latency['p99']:.1f} "
                     f"({speed['latency_kind']})")
    else:
        lines.append(f'speed: {fps}')
    files = report['files']
    lines.append(f"report: {files['report']}")
    if files['overlays']:
        lines.append(f"overlay images ({len(files['overlays'])}): "
                     f"{Path(files['overlays'][0]).parent}/")
    return '\n'.join(lines)


__all__ = ['accuracy_section', 'format_summary', 'speed_section', 'write_overlays',
           'write_report']
