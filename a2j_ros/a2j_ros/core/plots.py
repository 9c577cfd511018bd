"""PNG plots of an evaluation report (the paper's Fig. 7 and per-joint mAP), with matplotlib.

Figures are drawn on matplotlib's Agg canvas directly (no pyplot, no global backend switch),
so this works headless and inside a ROS process alike.
"""
from pathlib import Path

from a2j_ros.core.evaluate import headline


def _figure(width=7.0, height=4.0):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def _title(report):
    key, value, unit = headline(report)
    return f"{report.get('dataset', report['layout'])}: {key} = {value:.2f} {unit}"


def _save(fig, path):
    fig.tight_layout()
    fig.savefig(str(path))
    return str(path)


def plot_success_curve(report, path):
    """Draw the percentage of frames whose worst joint error is within a threshold."""
    curve = report['success_curve']
    fig, ax = _figure()
    ax.plot(curve['thresholds_mm'], curve['percent'], color='tab:red', linewidth=2)
    ax.set_xlabel('maximum allowed distance to ground truth (mm)')
    ax.set_ylabel('fraction of frames within distance (%)')
    ax.set_xlim(curve['thresholds_mm'][0], curve['thresholds_mm'][-1])
    ax.set_ylim(0, 100)
    ax.grid(True, alpha=0.3)
    ax.set_title(_title(report))
    return _save(fig, path)


def _bars(report, values, ylabel, path, mean_value, ylim=None):
    names = list(values) + ['mean']
    heights = list(values.values()) + [mean_value]
    fig, ax = _figure(max(7.0, 0.45 * len(names) + 2.0))
    colors = ['tab:blue'] * (len(names) - 1) + ['tab:red']
    ax.bar(range(len(names)), heights, color=colors)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=60, ha='right', fontsize=8)
    ax.set_ylabel(ylabel)
    if ylim:
        ax.set_ylim(*ylim)
    ax.grid(True, axis='y', alpha=0.3)
    ax.set_title(_title(report))
    return _save(fig, path)


def plot_per_joint_error(report, path):
    """Draw the mean 3D error of each joint and overall, in millimetres."""
    return _bars(report, report['per_joint_error_mm'], 'mean distance error (mm)', path,
                 report['mean_error_mm'])


def plot_per_joint_map(report, path):
    """Draw the AP at 10 cm of each joint and the mAP, in percent."""
    return _bars(report, report['per_joint_ap_10cm'], 'AP at 10 cm (%)', path,
                 report['map_10cm'], ylim=(0, 100))


def plot_pdj(report, path):
    """Draw PDJ of each joint at each torso ratio, in percent."""
    fig, ax = _figure(9.0)
    for ratio, per_joint in report['per_joint_pdj'].items():
        ax.plot(range(len(per_joint)), list(per_joint.values()), marker='o',
                label=f'PDJ@{ratio} ({report["pdj"][ratio]:.1f}%)')
    names = report['joint_names']
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=60, ha='right', fontsize=8)
    ax.set_ylabel('detected joints (%)')
    ax.set_ylim(0, 100)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(_title(report))
    return _save(fig, path)


def plot_reliability(confidence, path, title=''):
    """Draw a reliability diagram of a report's ``confidence`` section (core.calibration).

    Per confidence bin, the fraction of joints within the radius against the bin's mean
    confidence (the diagonal is perfect calibration), for the network's raw confidence and,
    when present, the calibrated one; bar widths show how many joints fall in each bin.
    """
    fig, ax = _figure(6.0, 5.0)
    ax.plot([0, 1], [0, 1], color='0.5', linestyle='--', linewidth=1, label='perfect')
    series = [('reliability_raw', 'ece_raw', 'raw', 'tab:blue')]
    if confidence['calibrated']:
        series.append(('reliability', 'ece', 'calibrated', 'tab:red'))
    for table_key, ece_key, label, color in series:
        table = confidence[table_key]
        points = [(c, a) for c, a in zip(table['confidence'], table['accuracy'])
                  if c is not None]
        ax.plot([c for c, _ in points], [a for _, a in points], marker='o', color=color,
                label=f'{label} (ECE {confidence[ece_key]:.3f})')
    table = confidence['reliability']
    edges, total = table['edges'], max(sum(table['count']), 1)
    ax.bar(edges[:-1], [c / total for c in table['count']], width=edges[1] - edges[0],
           align='edge', color='tab:red' if confidence['calibrated'] else 'tab:blue',
           alpha=0.15, label='share of joints per bin')
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel('confidence')
    ax.set_ylabel(f"fraction within {confidence['radius_mm']:g} mm of the truth")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc='upper left')
    ax.set_title(title or 'reliability of the per-joint confidence')
    return _save(fig, path)


def plot_report(report, out_dir, prefix=None):
    """Write every plot that fits the report into ``out_dir``; return the PNG paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = prefix or report.get('dataset') or report['layout']
    paths = []
    if report['metric'] == 'pdj':
        paths.append(plot_pdj(report, out_dir / f'{prefix}_pdj.png'))
        return paths
    paths.append(plot_success_curve(report, out_dir / f'{prefix}_success_curve.png'))
    paths.append(plot_per_joint_error(report, out_dir / f'{prefix}_per_joint_error.png'))
    if report['metric'] == 'map':
        paths.append(plot_per_joint_map(report, out_dir / f'{prefix}_per_joint_map.png'))
    if report.get('confidence'):
        paths.append(plot_reliability(report['confidence'], out_dir / f'{prefix}_reliability.png',
                                      _title(report)))
    return paths


__all__ = ['plot_report', 'plot_success_curve', 'plot_per_joint_error', 'plot_per_joint_map',
           'plot_pdj', 'plot_reliability']
