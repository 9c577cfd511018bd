"""The replay report: JSON, PNG plots and overlay images from a ReplayRecord.

Layout of the report folder::

    report.json             accuracy (when the bag has ground truth), speed, frame counts,
                            skipped frames and messages, warnings, every file written
    predictions.npz         every skeleton estimated (stamps, frame ids, track ids, uvd, xyz,
                            confidence), core.prediction_io format
    matched_predictions.npz, ground_truth.npz   (bags with ground truth) the predictions paired
                            with ground-truth instances and that ground truth, rows keyed by
                            frame_ids + instance_ids
    plots/*.png             success curve, per-joint error (and per-joint AP for bodies),
                            latency over the replay
    overlays/frame_*.png    depth with predicted (red) and ground-truth (green) skeletons

The accuracy section is computed by ``core.evaluate.evaluate_files`` on the two matched
files, so ``a2j eval --dataset D --pred matched_predictions.npz --gt ground_truth.npz``
prints the same numbers (the command is stored in the report).
"""
import json
from pathlib import Path

import numpy as np

from a2j_ros.bag.overlay import save_overlay
from a2j_ros.bag.replay_record import all_predictions, matched_pairs
from a2j_ros.core.layouts import get_layout
from a2j_ros.core.stats import percentile

# The preset whose file conventions and metric evaluate a layout (our .npz stores xyz, so
# only the metric and the layout matter).
EVAL_PRESET_BY_LAYOUT = {'nyu_hand_14': 'synthetic_hand', 'icvl_hand_16': 'icvl',
                         'hands2017_hand_21': 'hands2017', 'itop_body_15': 'synthetic_body'}


def _percentiles_ms(values_s):
    values = np.asarray([v for v in values_s if v is not None], dtype=np.float64) * 1000.0
    if values.size == 0:
        return None
    p50, p95, p99 = (percentile(values, q) for q in (50, 95, 99))
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
        'frames_skipped': sum(1 for f in frames if f.skip_kind),
        'frames_dropped': sum(1 for f in frames if f.dropped),
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
                          if record.wall_time_s > 0 and answered else None)
    section['wall_fps'] = (round(len(answered) / record.wall_time_s, 3)
                           if record.wall_time_s > 0 and answered else None)
    return section


def problems_section(record):
    """Return what was skipped and why: frames, other messages, a storage error."""
    by_kind = {}
    for f in record.frames:
        if f.skip_kind:
            by_kind.setdefault(f.skip_kind, []).append(f.index)
    topics = record.settings.get('topics') or {}
    return {'skipped_frames': [{'frame': f.index, 'stamp_ns': f.stamp_ns,
                                'topic': topics.get('depth'), 'kind': f.skip_kind,
                                'reason': f.skip_reason}
                               for f in record.frames if f.skip_kind],
            'skipped_by_kind': {k: len(v) for k, v in sorted(by_kind.items())},
            'skipped_messages': list(record.skipped_messages),
            'read_error': record.read_error}


def write_prediction_files(record, out_dir):
    """Write predictions.npz (every skeleton) and, with ground truth, the matched pair files.

    Return ``(files {name: path}, pairs)``: ``pairs`` is ``matched_pairs(record)`` or None
    when the bag has no ground truth of the model's layout.
    """
    from a2j_ros.core.prediction_io import save_predictions
    out_dir = Path(out_dir)
    files = {}
    rows = all_predictions(record)
    if rows['xyz'] is not None:
        files['predictions'] = save_predictions(
            out_dir / 'predictions.npz', record.layout, uvd=rows['uvd'], xyz=rows['xyz'],
            frame_ids=rows['frame_ids'], dataset='replay', stamps=rows['stamps'],
            track_ids=rows['track_ids'], confidence=rows['confidence'])
    pairs = matched_pairs(record)
    if len(pairs['pred_xyz']) and _gt_layout(record) == record.layout:
        common = dict(frame_ids=pairs['frame_ids'], dataset='replay',
                      instance_ids=pairs['instance_ids'], stamps=pairs['stamps'])
        files['matched_predictions'] = save_predictions(
            out_dir / 'matched_predictions.npz', record.layout, uvd=pairs['pred_uvd'],
            xyz=pairs['pred_xyz'], **common)
        files['ground_truth'] = save_predictions(
            out_dir / 'ground_truth.npz', record.layout, uvd=pairs['gt_uvd'],
            xyz=pairs['gt_xyz'], **common)
    return files, pairs


def _gt_layout(record):
    return next((f.ground_truth.layout for f in record.frames if f.ground_truth is not None
                 and len(f.ground_truth.xyz_mm)), None)


def accuracy_section(record, files, pairs):
    """Return the evaluation dict of the matched files, or None without ground truth."""
    from a2j_ros.core.evaluate import evaluate_files, evaluate_predictions
    from a2j_ros.core.presets import get_preset

    with_gt = sum(1 for f in record.frames
                  if f.ground_truth is not None and len(f.ground_truth.xyz_mm))
    if with_gt == 0:
        return None
    gt_layout = _gt_layout(record)
    if gt_layout != record.layout:
        return {'error': f'ground truth layout {gt_layout} differs from the model layout '
                         f'{record.layout}: no accuracy', 'frames_with_ground_truth': with_gt}
    if 'matched_predictions' not in files:
        return {'frames_with_ground_truth': with_gt, 'instances_evaluated': 0,
                'instances_missed': int(pairs['missed'])}
    pred_path, gt_path = files['matched_predictions'], files['ground_truth']
    preset_name = EVAL_PRESET_BY_LAYOUT.get(record.layout)
    if preset_name is not None:
        report = evaluate_files(get_preset(preset_name), pred_path, gt_path)
        report['eval_command'] = (f'a2j eval --dataset {preset_name} --pred {pred_path} '
                                  f'--gt {gt_path}')
    else:
        kind = 'map' if get_layout(record.layout).kind == 'body' else 'mean_error'
        report = evaluate_predictions(pairs['pred_xyz'].astype(np.float32),
                                      pairs['gt_xyz'].astype(np.float32), record.layout, kind)
    report.update({'frames_with_ground_truth': with_gt,
                   'instances_evaluated': int(len(pairs['pred_xyz'])),
                   'instances_missed': int(pairs['missed'])})
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
    dropped = [f.index for f in record.frames if f.dropped]
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
    if frame.skip_kind:
        parts.append(f'skipped ({frame.skip_kind})')
    elif not frame.received:
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


REPORT_FILES = ('report.json', 'predictions.npz', 'matched_predictions.npz',
                'ground_truth.npz')


def check_report_dir(out_dir):
    """Raise InputError unless ``out_dir`` can be a report folder (absent or a folder)."""
    from a2j_ros.core.errors import InputError
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f'--report {out_dir} is an existing file, not a folder; give a '
                         'folder for report.json, plots/ and overlays/')
    for parent in out_dir.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f'--report {out_dir}: {parent} is a file, not a folder')
            break


def write_report(record, out_dir):
    """Write the whole report folder for ``record``; return the report dict."""
    from a2j_ros.core.plots import plot_report
    check_report_dir(out_dir)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Files of an earlier report in the same folder would mix with this one's.
    stale = [out_dir / name for name in REPORT_FILES[1:]]
    stale += list(out_dir.glob('overlays/frame_*.png')) + list(out_dir.glob('plots/*.png'))
    for path in stale:
        if path.is_file():
            path.unlink()
    report = {'bag': record.bag, 'mode': record.mode, 'layout': record.layout,
              'settings': record.settings, 'speed': speed_section(record),
              'problems': problems_section(record), 'warnings': list(record.warnings),
              'notes': list(record.notes)}
    report.update(record.extra)
    files, pairs = write_prediction_files(record, out_dir)
    accuracy = accuracy_section(record, files, pairs)
    report['accuracy'] = accuracy
    plots = []
    if accuracy and 'metric' in accuracy:
        plots += plot_report(accuracy, out_dir / 'plots', prefix='accuracy')
    latency_plot = _plot_latency(record, _ensure(out_dir / 'plots') / 'latency.png')
    if latency_plot:
        plots.append(latency_plot)
    report['files'] = {'report': str(out_dir / 'report.json'), **files, 'plots': plots,
                       'overlays': write_overlays(record, out_dir / 'overlays')}
    if record.settings.get('node_log'):
        report['files']['node_log'] = record.settings['node_log']
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


def _problem_lines(report):
    """Return the summary lines about skipped frames and messages and a damaged bag."""
    problems = report.get('problems') or {}
    speed = report['speed']
    lines = []
    skipped = problems.get('skipped_frames') or []
    if skipped:
        kinds = ', '.join(f'{n} {k}' for k, n in problems['skipped_by_kind'].items())
        first = skipped[0]
        more = f' (and {len(skipped) - 1} more)' if len(skipped) > 1 else ''
        lines.append(f"skipped {len(skipped)} of {speed['frames_total']} frames ({kinds}): "
                     f"{report['bag']} {first['topic']} frame {first['frame']}: "
                     f"{first['reason']}{more}")
    messages = problems.get('skipped_messages') or []
    if messages:
        first = messages[0]
        more = f' (and {len(messages) - 1} more)' if len(messages) > 1 else ''
        lines.append(f"skipped {len(messages)} other message(s): {report['bag']} "
                     f"{first['topic']} at {first['stamp_ns']} ns: {first['reason']}{more}")
    if problems.get('read_error'):
        lines.append(f"damaged bag: {problems['read_error']}")
    return lines


def format_summary(report):
    """Return the few lines a user reads first: accuracy, speed, problems, where files are."""
    speed = report['speed']
    lines = [f"a2j replay ({report['mode']}): {report['bag']}"]
    lines += [f'note: {n}' for n in report.get('notes') or []]
    lines.append(f"frames: {speed['frames_total']} in, {speed['frames_answered']} answered, "
                 f"{speed.get('frames_skipped', 0)} skipped, {speed['frames_dropped']} "
                 f"dropped, {speed['frames_with_skeletons']} with skeletons")
    lines += _problem_lines(report)
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
    written = [files[k] for k in ('report', 'predictions', 'matched_predictions',
                                  'ground_truth', 'node_log') if files.get(k)]
    lines.append('files: ' + ', '.join(written))
    if files.get('plots'):
        lines.append(f"plots ({len(files['plots'])}): {Path(files['plots'][0]).parent}/")
    if files['overlays']:
        lines.append(f"overlay images ({len(files['overlays'])}): "
                     f"{Path(files['overlays'][0]).parent}/")
    return '\n'.join(lines)


__all__ = ['accuracy_section', 'check_report_dir', 'format_summary', 'problems_section',
           'speed_section', 'write_overlays', 'write_prediction_files', 'write_report']
