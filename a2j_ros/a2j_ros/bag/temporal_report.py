"""The replay report's ``temporal`` section: how the skeletons behave over time.

``temporal_section(record, plots_dir)`` runs ``core.temporal_metrics`` over the frames of a
ReplayRecord (stamps, predicted skeletons with their track ids, ground truth with its
track ids) and draws ``plots/temporal.png`` (error and matched track id of each
ground-truth track over time). Needs ground truth; ``None`` without it.
"""
from pathlib import Path

import numpy as np

from a2j_ros.core.layouts import get_layout

# CLEAR-MOT correspondence threshold: a prediction farther than this (mean joint distance)
# from a ground-truth instance is not its match
MATCH_MM = {'hand': 100.0, 'body': 300.0}


def temporal_section(record, plots_dir=None):
    """Return the temporal metrics of ``record`` (a dict), or None without ground truth."""
    from a2j_ros.core.temporal_metrics import plot_temporal, temporal_metrics
    frames = [f for f in record.frames if f.received]
    layout = get_layout(record.layout)
    truths = [f.ground_truth for f in frames]
    if not any(t is not None and len(t.xyz_mm) and t.layout == record.layout for t in truths):
        return None
    k = layout.num_joints
    empty = np.zeros((0, k, 3))
    gt_xyz = [t.xyz_mm if t is not None and len(t.xyz_mm) else empty for t in truths]
    gt_ids = [None if t is None or getattr(t, 'track_ids', None) is None else t.track_ids
              for t in truths]
    pred_ids = [getattr(f, 'track_ids', None) for f in frames]
    metrics = temporal_metrics([f.stamp_ns / 1e9 for f in frames],
                               [f.pred_xyz_mm for f in frames], pred_ids, gt_xyz, gt_ids,
                               match_mm=MATCH_MM.get(layout.kind, 100.0))
    metrics['tracked'] = any(ids is not None for ids in pred_ids)
    if plots_dir is not None:
        Path(plots_dir).mkdir(parents=True, exist_ok=True)
        metrics['plot'] = plot_temporal(metrics, Path(plots_dir) / 'temporal.png',
                                        f'{record.mode} replay over time')
    metrics.pop('series')
    return metrics


def format_temporal(section):
    """Return the summary line of a temporal section."""
    if not section:
        return 'over time: no ground truth (no temporal metrics)'
    return (f"over time: jitter {section['jitter_mm']} mm (truth {section['gt_jitter_mm']}), "
            f"centre jumps > {section['jump_mm']:g} mm: {section['centre_jumps']}, lag "
            f"{section['lag_ms']} ms, id switches {section['id_switches']}, fragmentations "
            f"{section['fragmentations']}, ids {section['predicted_ids']}")


__all__ = ['MATCH_MM', 'format_temporal', 'temporal_section']
