"""Per-frame estimation against tracking on one moving synthetic sequence: the issue-11 figures.

    python -m a2j_ros.core.tracking_eval --checkpoint CK --sequence hand_drift --frames 150 \
        --encoding 16UC1 [--drop 0.1] [--roi-source nearest|truth] [--refine 1] [--no-follow]
        [--json out.json] [--plot out.png]

Renders the sequence (core.synthetic.sequences, sensor model on), passes each depth image
through the ROS encoding (16UC1 millimetres or 32FC1 metres with NaN holes, core.depth_codec)
and runs the SAME frames twice through ``core.pose_tracker.PoseTracker``: tracking off (the
per-frame pipeline) and on (tracker, crops that follow, One Euro). ``--drop`` removes that
fraction of frames at random (seeded): the stamps of the kept frames are unchanged, so the
filter sees the gaps. ROIs come from the detector-free ``nearest`` search (bodies: the
largest blob), as the node's default, or from the ground truth (``truth``: a perfect
detector, the box around each visible instance's joints).

Printed per run: mean 3D error, jitter, centre jumps, lag (core.temporal_metrics), id
switches, fragmentations, re-entries, the longest gap of one track id against the timeout,
the largest overshoot (below), and the time tracking + smoothing took per frame. Overshoot:
how far the output's centre (mean joint) runs ahead of the true centre along the true
direction of motion, on frames where the truth moves at least 20 mm/s; reported as the
maximum over the frames that follow a dropped frame (all frames without --drop).
"""
import argparse
import json
import sys
import time

import numpy as np

from a2j_ros.core.errors import A2JError, InputError

DEPTH_RANGE_MM = {'hand': (100.0, 1500.0), 'body': (100.0, 6000.0)}
MATCH_MM = {'hand': 100.0, 'body': 300.0}
MIN_SPEED_MM_S = 20.0
TRUTH_MARGIN = {'hand': 0.25, 'body': 0.15}    # as make-bag's ROIs (bag.make_bag.ROI_MARGIN)


def encode_round_trip(depth_mm, encoding):
    """Return ``depth_mm`` as the node would read it from a ``encoding`` image (mm, 0/NaN)."""
    from a2j_ros.core.depth_codec import decode_depth, encode_depth
    raw = encode_depth(depth_mm, encoding)
    return decode_depth(raw.height, raw.width, raw.encoding, raw.is_bigendian, raw.step,
                        raw.data)


def truth_box(uvd, camera, mode):
    """Return a perfect detector's (x, y, w, h): the joints' pixel box grown like make-bag's."""
    uv = np.asarray(uvd, dtype=np.float64)[:, :2]
    lo, hi = uv.min(axis=0), uv.max(axis=0)
    pad = TRUTH_MARGIN[mode] * float((hi - lo).max()) + 4.0
    x0, y0 = np.maximum(np.floor(lo - pad), 0).astype(int)
    x1 = min(int(np.ceil(hi[0] + pad)), camera.width - 1)
    y1 = min(int(np.ceil(hi[1] + pad)), camera.height - 1)
    return int(x0), int(y0), max(x1 - int(x0) + 1, 0), max(y1 - int(y0) + 1, 0)


def render(sequence, frames, encoding, drop, seed):
    """Return the kept frames [(stamp_s, depth_mm, truths, truth boxes)] of the sequence."""
    from a2j_ros.core.synthetic.sequences import open_sequence
    seq = open_sequence(sequence, seed=seed, num_frames=frames)
    rng = np.random.default_rng([seed, 11])
    keep = np.ones(len(seq), bool)
    if drop > 0:
        count = int(round(drop * len(seq)))
        # never the first two frames: the tracks need a start
        keep[2 + rng.choice(len(seq) - 2, size=count, replace=False)] = False
    out = []
    for i in np.flatnonzero(keep):
        frame = seq[int(i)]
        seen = frame.visible_tracks()
        boxes = [truth_box(t.uvd, seq.camera, seq.mode) for t in seen]
        out.append((frame.stamp_s, encode_round_trip(frame.depth_mm, encoding), seen, boxes))
    return seq, out


def run(pipeline, seq, frames, tracking, roi_source, refine, follow, max_instances,
        smoothing=None):
    """Run the frames through a PoseTracker; return (per-frame outputs, track ms per frame)."""
    from a2j_ros.core.pose_tracker import PoseTracker, TrackingSettings
    from a2j_ros.core.roi_search import find_rois, RoiSearch
    near, far = DEPTH_RANGE_MM[pipeline.mode]
    pipeline.min_depth_mm, pipeline.max_depth_mm = near, far
    search = RoiSearch(min_depth_mm=near, max_depth_mm=far, max_instances=max_instances)
    settings = TrackingSettings.for_mode(pipeline.mode)
    settings.enabled = tracking
    settings.follow.refine_iterations = refine
    settings.follow.enabled = follow
    if smoothing:
        for key, value in smoothing.items():
            if value is not None:
                setattr(settings.tracker.smoothing, key, value)
    tracker = PoseTracker(pipeline, settings)
    outputs, track_ms = [], []
    for stamp, depth, _, boxes in frames:
        if roi_source == 'truth':
            rois, scores = np.asarray(boxes, dtype=np.int64).reshape(-1, 4), None
        else:
            rois, scores = find_rois(depth, 'nearest', pipeline.mode, search, seq.camera)
        result = tracker.process(depth, seq.camera, stamp, rois, scores)
        outputs.append(result.results)
        track_ms.append(result.timings_ms.get('track', 0.0))
    return outputs, np.asarray(track_ms), settings


def overshoot_mm(stamps, outputs, frames, after_gap_only):
    """Return the largest lead (mm) of the output centre along the true motion (docstring)."""
    from a2j_ros.core.temporal_metrics import match_frame
    step = np.median(np.diff(stamps)) if len(stamps) > 1 else 0.0
    worst = 0.0
    previous = {}
    for i, ((stamp, _, truths, _), results) in enumerate(zip(frames, outputs)):
        gap = i > 0 and stamp - stamps[i - 1] > 1.5 * step
        current = {}
        for t in truths:
            current[t.track_id] = t.xyz_mm.mean(axis=0)
        if results and truths:
            pred = np.stack([r.joints_xyz_mm for r in results])
            gt = np.stack([t.xyz_mm for t in truths])
            for p, g in match_frame(pred, gt, 1e9):
                tid = truths[g].track_id
                if tid not in previous or (after_gap_only and not gap):
                    continue
                dt = stamp - previous[tid][0]
                velocity = (current[tid] - previous[tid][1]) / dt
                speed = float(np.linalg.norm(velocity))
                if speed < MIN_SPEED_MM_S:
                    continue
                lead = float((np.nanmean(pred[p], axis=0) - current[tid]) @ velocity / speed)
                worst = max(worst, lead)
        previous = {tid: (stamp, c) for tid, c in current.items()}
    return worst


def figures(seq, frames, outputs, track_ms, settings, dropped):
    """Return the figures of one run as a dict."""
    from a2j_ros.core.temporal_metrics import temporal_metrics
    stamps = np.array([f[0] for f in frames])
    from a2j_ros.core.layouts import get_layout
    k = get_layout(seq.layout).num_joints
    metrics = temporal_metrics(
        stamps, [np.stack([r.joints_xyz_mm for r in res]) if res else np.zeros((0, k, 3))
                 for res in outputs],
        [[r.track_id for r in res] for res in outputs],
        [np.stack([t.xyz_mm for t in f[2]]) if f[2] else np.zeros((0, k, 3)) for f in frames],
        [[t.track_id for t in f[2]] for f in frames], match_mm=MATCH_MM[seq.mode])
    metrics['overshoot_mm'] = round(overshoot_mm(stamps, outputs, frames, dropped), 2)
    metrics['track_ms_p50'] = round(float(np.median(track_ms)), 4)
    metrics['track_ms_p95'] = round(float(np.percentile(track_ms, 95)), 4)
    metrics['instances_per_frame'] = round(float(np.mean([len(o) for o in outputs])), 3)
    metrics['timeout_s'] = settings.tracker.timeout_s
    return metrics


ROWS = (('mean_error_mm', 'mean 3D error (mm)'), ('jitter_mm', 'jitter (mm)'),
        ('gt_jitter_mm', 'true motion jitter (mm)'), ('centre_jumps', 'centre jumps > 20 mm'),
        ('lag_ms', 'lag (ms)'), ('overshoot_mm', 'max overshoot (mm)'),
        ('id_switches', 'id switches'), ('fragmentations', 'fragmentations'),
        ('misses', 'ground truth missed'), ('false_positives', 'false positives'),
        ('predicted_ids', 'ids used'), ('max_track_gap_s', 'longest id gap (s)'),
        ('instances_per_frame', 'instances per frame'),
        ('track_ms_p50', 'tracking+smoothing ms p50'),
        ('track_ms_p95', 'tracking+smoothing ms p95'))


def format_comparison(per_frame, tracked):
    """Return the two runs side by side, with the jitter reduction."""
    from a2j_ros.core.text_table import format_table
    rows = [{'label': label, 'per_frame': per_frame.get(key), 'tracked': tracked.get(key)}
            for key, label in ROWS]
    lines = [format_table(rows, [('label', '', None), ('per_frame', 'per-frame', None),
                                 ('tracked', 'tracked', None)])]
    if per_frame.get('jitter_mm') and tracked.get('jitter_mm') is not None:
        cut = 100.0 * (1.0 - tracked['jitter_mm'] / per_frame['jitter_mm'])
        lines.append(f'jitter reduction: {cut:.1f} %')
    for entry in tracked.get('switch_events', []):
        lines.append(f"id switch at {entry['stamp_s']:.3f} s: ground-truth track "
                     f"{entry['gt_track']} id {entry['id_before']} -> {entry['id_after']}")
    for entry in tracked.get('reentries', []):
        lines.append(f"re-entry of ground-truth track {entry['gt_track']} after "
                     f"{entry['absent_s']:.2f} s: id {entry['id_before']} -> "
                     f"{entry['id_after']} ({'new id' if entry['new_id'] else 'SAME id'})")
    return '\n'.join(lines)


def build_parser():
    """Return the argument parser."""
    parser = argparse.ArgumentParser(prog='python -m a2j_ros.core.tracking_eval',
                                     description=__doc__.split('\n')[0])
    parser.add_argument('--checkpoint', required=True)
    parser.add_argument('--sequence', default='hand_drift')
    parser.add_argument('--frames', type=int, default=150)
    parser.add_argument('--encoding', choices=('16UC1', '32FC1'), default='16UC1')
    parser.add_argument('--drop', type=float, default=0.0, help='fraction of frames dropped')
    parser.add_argument('--roi-source', choices=('nearest', 'truth'), default='nearest')
    parser.add_argument('--refine', type=int, default=0, help='refine_iterations')
    parser.add_argument('--no-follow', action='store_true', help='crops from the ROIs only')
    parser.add_argument('--min-cutoff', type=float, default=None, help='One Euro min_cutoff')
    parser.add_argument('--beta', type=float, default=None,
                        help="One Euro beta (default: the node's, 0.05; config/body_pose.yaml "
                             'uses 0.005)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--json', default=None, help='write both runs here')
    parser.add_argument('--plot', default=None, help='PNG of the tracked run over time')
    return parser


def main(argv=None):
    """Run both and print the table; exit 2 on bad input."""
    args = build_parser().parse_args(argv)
    try:
        if not 0.0 <= args.drop < 0.9:
            raise InputError(f'--drop must be in [0, 0.9), got {args.drop}')
        if args.frames < 10:
            raise InputError(f'--frames must be >= 10, got {args.frames}')
        import torch
        torch.set_num_threads(1)
        from a2j_ros.core.pipeline import PosePipeline
        pipeline = PosePipeline.from_checkpoint(args.checkpoint, device=args.device)
        seq, frames = render(args.sequence, args.frames, args.encoding, args.drop, args.seed)
        if pipeline.mode != seq.mode or pipeline.layout.name != seq.layout:
            raise InputError(f'{args.checkpoint} is a {pipeline.layout.name} model; sequence '
                             f'{args.sequence} has {seq.layout} ground truth')
        pipeline.warm_up()
        runs = {}
        for name, tracking in (('per_frame', False), ('tracked', True)):
            start = time.perf_counter()
            outputs, track_ms, settings = run(pipeline, seq, frames, tracking,
                                              args.roi_source, args.refine,
                                              not args.no_follow, len(seq.instances),
                                              {'min_cutoff': args.min_cutoff,
                                               'beta': args.beta})
            runs[name] = figures(seq, frames, outputs, track_ms, settings, args.drop > 0)
            runs[name]['wall_s'] = round(time.perf_counter() - start, 2)
    except A2JError as exc:
        print(f'tracking_eval: error: {exc}', file=sys.stderr)
        return 2
    head = (f'{args.sequence}: {len(frames)} frames kept of {len(seq)} ({args.encoding}, '
            f'drop {args.drop:g}, ROIs {args.roi_source}, refine {args.refine}, follow '
            f'{not args.no_follow}) with {args.checkpoint}')
    print(head)
    print(format_comparison(runs['per_frame'], runs['tracked']))
    if args.plot:
        from a2j_ros.core.temporal_metrics import plot_temporal
        print('plot:', plot_temporal(runs['tracked'], args.plot, head.split(' with ')[0]))
    for run_ in runs.values():
        run_.pop('series', None)
    if args.json:
        with open(args.json, 'w', encoding='utf-8') as f:
            json.dump({'command': ' '.join(sys.argv), 'summary': head, **runs}, f, indent=1)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
