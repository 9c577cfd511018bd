"""How skeletons behave over time: jitter, lag, centre jumps, identity (CLEAR-MOT style).

Input: a sequence of frames, each with its stamp (s), the predicted skeletons (M, K, 3) mm
with their track ids (M,) (None = untracked), and the ground truth (G, K, 3) with its track
ids (G,). In each frame, predictions are matched one-to-one with the ground truth by the
mean joint distance (``scipy.optimize.linear_sum_assignment``); a pair farther apart than
``match_mm`` is no match (CLEAR-MOT's correspondence threshold). Then, per ground-truth
track:

* ``jitter_mm``: the mean over joints of the norm of the second difference
  ``p[i+1] - 2 p[i] + p[i-1]`` over three consecutive matched frames whose two time steps
  agree within 25 % (a dropped frame in between would make the second difference
  measure the motion, not the noise). ``gt_jitter_mm`` is the same on the ground truth:
  the part of the jitter that is real motion.
* ``centre_jumps``: steps between consecutive matched frames where the skeleton's centre
  (mean joint) moved more than ``jump_mm`` farther than the true centre did.
* ``lag_ms``: the time shift of the ground truth that best explains the predictions (the
  shift ``s`` in frames minimising the mean error between ``p[i]`` and ``g[i - s]``, refined
  by a parabola, times the median frame step); positive = the output trails the truth.
* ``id_switches``: a ground-truth track matched to another predicted id than at its last
  match (the memory is cleared while the track is out of the ground truth: a hand that left
  the view and returns with a new id is a re-entry, listed under ``reentries``, not a
  switch); ``fragmentations``: a ground-truth track that was matched, then present but
  unmatched, then matched again.
* ``max_track_gap_s``: the longest time between two appearances of one predicted id (a
  track that outlives its timeout shows here).
* MOTA = 1 - (misses + false positives + switches) / ground-truth instances.

``series`` (not for JSON: numpy arrays) holds per ground-truth track the error and the
matched predicted id of every frame, for ``plot_temporal``.

ROS-free: numpy and scipy.
"""
import numpy as np
from scipy.optimize import linear_sum_assignment

STEP_TOLERANCE = 0.25       # time steps of a jitter triple must agree within this fraction


def match_frame(pred_xyz, gt_xyz, match_mm):
    """Return [(pred index, gt index)] pairs with mean joint distance <= ``match_mm``."""
    pred = np.asarray(pred_xyz, dtype=np.float64).reshape(-1, *np.shape(gt_xyz)[1:])
    gt = np.asarray(gt_xyz, dtype=np.float64)
    if len(pred) == 0 or len(gt) == 0:
        return []
    dist = np.linalg.norm(pred[:, None] - gt[None], axis=-1)
    with np.errstate(invalid='ignore'):
        cost = np.nanmean(np.where(np.isfinite(dist), dist, np.nan), axis=-1)
    cost = np.where(np.isfinite(cost), cost, 1e12)
    rows, cols = linear_sum_assignment(cost)
    return [(int(r), int(c)) for r, c in zip(rows, cols) if cost[r, c] <= match_mm]


def _joint_mean_norm(values):
    norms = np.linalg.norm(values, axis=-1)
    return float(np.nanmean(norms)) if np.isfinite(norms).any() else np.nan


def _lag(stamps, pred, gt, max_shift):
    """Return the lag (s) of one track's predictions behind its truth, or None."""
    errors = []
    for shift in range(0, max_shift + 1):
        e = [np.nanmean(np.linalg.norm(pred[i] - gt[i - shift], axis=-1))
             for i in range(shift, len(pred)) if pred[i] is not None
             and gt[i - shift] is not None]
        errors.append(np.mean(e) if len(e) >= 3 else np.nan)
    errors = np.asarray(errors)
    if not np.isfinite(errors).any():
        return None
    best = int(np.nanargmin(errors))
    shift = float(best)
    if 0 < best < len(errors) - 1 and np.all(np.isfinite(errors[best - 1:best + 2])):
        a, b, c = errors[best - 1:best + 2]
        denom = a - 2 * b + c
        if denom > 0:
            shift += 0.5 * (a - c) / denom
    steps = np.diff(stamps)
    return shift * float(np.median(steps)) if len(steps) else None


def temporal_metrics(stamps_s, pred_xyz, pred_ids, gt_xyz, gt_ids, match_mm=100.0,
                     jump_mm=20.0, max_lag_frames=6):
    """Return the temporal metrics (module docstring) of a sequence as a dict.

    ``stamps_s`` (N,); ``pred_xyz`` list of (M_i, K, 3); ``pred_ids`` list of (M_i,) ints
    or None; ``gt_xyz`` list of (G_i, K, 3); ``gt_ids`` list of (G_i,) or None (the index
    in the frame is then the track id). Frames must be in stamp order.
    """
    stamps = np.asarray(stamps_s, dtype=np.float64)
    n = len(stamps)
    tracks = {}                 # gt id -> per-frame (pred joints or None, gt joints or None)
    last_id, was_matched, unmatched_gap = {}, {}, {}
    switches = fragmentations = misses = false_pos = gt_total = matches_n = 0
    ids_per_gt, reentries, seen_at, switch_events = {}, [], {}, []
    absent_since = {}
    for i in range(n):
        gxyz = np.asarray(gt_xyz[i], dtype=np.float64)
        gids = (list(range(len(gxyz))) if gt_ids[i] is None
                else [int(g) for g in np.asarray(gt_ids[i]).reshape(-1)])
        pxyz = np.asarray(pred_xyz[i], dtype=np.float64)
        pids = (None if pred_ids[i] is None
                else [None if p is None or p < 0 else int(p) for p in pred_ids[i]])
        for p in (pids or []):
            if p is not None:
                seen_at.setdefault(p, []).append(stamps[i])
        pairs = match_frame(pxyz, gxyz, match_mm) if len(gxyz) else []
        by_gt = {g: p for p, g in pairs}
        gt_total += len(gxyz)
        matches_n += len(pairs)
        misses += len(gxyz) - len(pairs)
        false_pos += len(pxyz) - len(pairs)
        present = set(gids)
        for gid in list(last_id):
            if gid not in present:          # out of the ground truth: memory cleared
                absent_since.setdefault(gid, (stamps[i], last_id[gid]))
                last_id.pop(gid)
                was_matched.pop(gid, None)
                unmatched_gap.pop(gid, None)
        for g, gid in enumerate(gids):
            series = tracks.setdefault(gid, [[None] * n, [None] * n, [None] * n])
            series[1][i] = gxyz[g]
            if g not in by_gt:
                if was_matched.get(gid):
                    unmatched_gap[gid] = True
                continue
            p = by_gt[g]
            series[0][i] = pxyz[p]
            pid = pids[p] if pids is not None else None
            series[2][i] = pid
            if pid is not None:
                if pid not in ids_per_gt.setdefault(gid, []):
                    ids_per_gt[gid].append(pid)
                if gid in last_id and last_id[gid] != pid:
                    switches += 1
                    switch_events.append({'stamp_s': round(float(stamps[i]), 4),
                                          'gt_track': gid, 'id_before': last_id[gid],
                                          'id_after': pid})
                if gid in absent_since:
                    left_at, old = absent_since.pop(gid)
                    reentries.append({'gt_track': gid, 'absent_s': round(stamps[i] - left_at, 4),
                                      'id_before': old, 'id_after': pid,
                                      'new_id': old != pid})
                last_id[gid] = pid
            if unmatched_gap.pop(gid, False):
                fragmentations += 1
            was_matched[gid] = True
    per_track, jitters, gt_jitters, jumps, errors, lags = {}, [], [], 0, [], []
    series_out = {}
    for gid, (pred, gt, ids) in sorted(tracks.items()):
        j, gj, e = [], [], []
        track_jumps = 0
        for i in range(n):
            if pred[i] is not None:
                e.append(_joint_mean_norm(pred[i] - gt[i]))
            if 0 < i < n - 1 and all(pred[k] is not None for k in (i - 1, i, i + 1)):
                d1, d2 = stamps[i] - stamps[i - 1], stamps[i + 1] - stamps[i]
                if d1 > 0 and abs(d2 - d1) <= STEP_TOLERANCE * d1:
                    j.append(_joint_mean_norm(pred[i + 1] - 2 * pred[i] + pred[i - 1]))
                    gj.append(_joint_mean_norm(gt[i + 1] - 2 * gt[i] + gt[i - 1]))
            if i > 0 and pred[i] is not None and pred[i - 1] is not None:
                step = (np.nanmean(pred[i], axis=0) - np.nanmean(pred[i - 1], axis=0)
                        - np.nanmean(gt[i], axis=0) + np.nanmean(gt[i - 1], axis=0))
                track_jumps += int(np.linalg.norm(step) > jump_mm)
        lag = _lag(stamps, pred, gt, max_lag_frames)
        series_out[gid] = {
            'stamps_s': stamps,
            'error_mm': np.array([np.nan if pred[i] is None else _joint_mean_norm(pred[i] - gt[i])
                                  for i in range(n)]),
            'present': np.array([gt[i] is not None for i in range(n)]),
            'ids': np.array([np.nan if ids[i] is None else ids[i] for i in range(n)])}
        per_track[gid] = {'frames_matched': len(e),
                          'mean_error_mm': _round(np.nanmean(e) if e else None),
                          'jitter_mm': _round(np.nanmean(j) if j else None),
                          'gt_jitter_mm': _round(np.nanmean(gj) if gj else None),
                          'centre_jumps': track_jumps,
                          'lag_ms': _round(None if lag is None else lag * 1e3),
                          'predicted_ids': ids_per_gt.get(gid, [])}
        jitters += j
        gt_jitters += gj
        errors += e
        jumps += track_jumps
        if lag is not None:
            lags.append(lag)
    gaps = [float(np.max(np.diff(t))) for t in seen_at.values() if len(t) > 1]
    return {
        'frames': n, 'match_mm': match_mm, 'jump_mm': jump_mm,
        'mean_error_mm': _round(np.nanmean(errors) if errors else None),
        'jitter_mm': _round(np.nanmean(jitters) if jitters else None),
        'gt_jitter_mm': _round(np.nanmean(gt_jitters) if gt_jitters else None),
        'centre_jumps': jumps,
        'lag_ms': _round(np.mean(lags) * 1e3 if lags else None),
        'id_switches': switches, 'switch_events': switch_events,
        'fragmentations': fragmentations,
        'misses': misses, 'false_positives': false_pos, 'gt_instances': gt_total,
        'matches': matches_n,
        'mota': _round(1.0 - (misses + false_pos + switches) / gt_total if gt_total else None,
                       4),
        'predicted_ids': sorted(seen_at),
        'max_track_gap_s': _round(max(gaps) if gaps else 0.0, 4),
        'reentries': reentries, 'per_track': per_track, 'series': series_out}


def plot_temporal(metrics, path, title=''):
    """Draw the error and the matched track id of each ground-truth track over time (PNG)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(8.0, 5.0), dpi=100)
    FigureCanvasAgg(fig)
    top, bottom = fig.add_subplot(2, 1, 1), fig.add_subplot(2, 1, 2, sharex=None)
    for gid, series in sorted(metrics['series'].items()):
        t = series['stamps_s'] - series['stamps_s'][0]
        line, = top.plot(t, series['error_mm'], linewidth=1, label=f'ground-truth track {gid}')
        bottom.plot(t, np.where(series['present'], series['ids'], np.nan), '.', markersize=3,
                    color=line.get_color())
    top.set_ylabel('mean joint error (mm)')
    top.grid(True, alpha=0.3)
    top.legend(loc='upper right', fontsize=8)
    top.set_title(title or (f"jitter {metrics['jitter_mm']} mm, centre jumps "
                            f"{metrics['centre_jumps']}, id switches {metrics['id_switches']}, "
                            f"lag {metrics['lag_ms']} ms"))
    bottom.set_xlabel('time (s)')
    bottom.set_ylabel('track id matched')
    bottom.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(str(path))
    return str(path)


def _round(value, digits=3):
    if value is None or not np.isfinite(value):
        return None
    return round(float(value), digits)


__all__ = ['match_frame', 'plot_temporal', 'temporal_metrics']
