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
    return paths


__all__ = ['plot_report', 'plot_success_curve', 'plot_per_joint_error', 'plot_per_joint_map',
           'plot_pdj']
