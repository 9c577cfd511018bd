"""The replay report from a hand-made ReplayRecord: JSON, npz, plots, overlays, a2j eval."""
import json

import numpy as np
import pytest

from a2j_ros.bag.frames import GroundTruth
from a2j_ros.bag.replay_record import (
    FrameOutcome,
    match_instances,
    pair_answers,
    paired_arrays,
    ReplayRecord,
)
from a2j_ros.bag.report import format_summary, speed_section, write_report
from a2j_ros.cli import main as a2j_main
from a2j_ros.core.camera import PinholeCamera

CAMERA = PinholeCamera(fx=241.0, fy=241.0, cx=160.0, cy=120.0, width=320, height=240)


def _record(mode='offline', with_gt=True, n=6):
    rng = np.random.default_rng(7)
    record = ReplayRecord(bag='test.mcap', mode=mode, layout='nyu_hand_14')
    for i in range(n):
        uvd = np.stack([rng.uniform(120, 200, 14), rng.uniform(80, 160, 14),
                        rng.uniform(450, 550, 14)], axis=-1)
        gt = GroundTruth('nyu_hand_14', CAMERA.unproject(uvd)[None], uvd[None])
        truth = gt if with_gt else None
        if i == 2:
            record.frames.append(FrameOutcome.empty(i, i, 14, truth))    # dropped
            continue
        pred_uvd = uvd + rng.normal(0, 3, uvd.shape)
        record.frames.append(FrameOutcome(
            index=i, stamp_ns=i, pred_xyz_mm=CAMERA.unproject(pred_uvd)[None],
            pred_uvd=pred_uvd[None], confidence=np.full((1, 14), 0.8),
            rois=np.array([[110, 70, 100, 100]]), ground_truth=truth,
            latency_s=0.010 + 0.001 * i))
    record.overlay_depth = {0: np.full((240, 320), 800.0, np.float32),
                            2: np.full((240, 320), 800.0, np.float32)}
    record.wall_time_s = 0.2
    return record


def test_matching_pairs_nearest_instances():
    a = np.zeros((1, 14, 3))
    b = np.full((1, 14, 3), 100.0)
    assert match_instances(np.concatenate([a, b]), np.concatenate([b, a])) == [(0, 1), (1, 0)]
    assert match_instances(a, np.zeros((0, 14, 3))) == []
    pred, gt, _pu, _gu, index, missed = paired_arrays(_record())
    assert pred.shape == gt.shape == (5, 14, 3) and missed == 1
    assert index.tolist() == [0, 1, 3, 4, 5]


def test_speed_section_counts_and_percentiles():
    speed = speed_section(_record())
    assert speed['frames_total'] == 6 and speed['frames_dropped'] == 1
    assert speed['frames_answered'] == 5 and speed['frames_with_skeletons'] == 5
    latencies = np.array([10, 11, 13, 14, 15], dtype=float)
    assert speed['latency_ms']['p50'] == pytest.approx(np.percentile(latencies, 50))
    assert speed['latency_ms']['p99'] == pytest.approx(np.percentile(latencies, 99))
    assert speed['fps'] == pytest.approx(5 / latencies.sum() * 1000.0, rel=1e-3)


def test_report_error_equals_a2j_eval(tmp_path):
    report = write_report(_record(), tmp_path)
    on_disk = json.loads((tmp_path / 'report.json').read_text())
    accuracy = on_disk['accuracy']
    assert accuracy['instances_evaluated'] == 5 and accuracy['instances_missed'] == 1
    assert 0.5 < accuracy['mean_error_mm'] < 20.0
    # The report's own arrays agree with an independent computation...
    pred, gt, *_ = paired_arrays(_record())
    expected = np.linalg.norm(pred.astype(np.float32) - gt.astype(np.float32), axis=-1).mean()
    assert accuracy['mean_error_mm'] == pytest.approx(expected, abs=1e-3)
    # ...and `a2j eval` on the written files prints the very same numbers.
    out = tmp_path / 'eval.json'
    assert a2j_main(['eval', '--dataset', 'synthetic_hand', '--pred',
                     report['files']['matched_predictions'], '--gt',
                     report['files']['ground_truth'],
                     '--json', str(out)]) == 0
    evaluated = json.loads(out.read_text())
    assert evaluated['mean_error_mm'] == accuracy['mean_error_mm']
    assert evaluated['per_joint_error_mm'] == accuracy['per_joint_error_mm']
    assert evaluated['success_curve'] == accuracy['success_curve']
    assert accuracy['eval_command'].startswith('a2j eval --dataset synthetic_hand')


def test_report_files(tmp_path):
    report = write_report(_record(mode='live'), tmp_path)
    names = sorted(p.name for p in (tmp_path / 'plots').iterdir())
    assert names == ['accuracy_per_joint_error.png', 'accuracy_success_curve.png',
                     'latency.png']
    overlays = sorted(p.name for p in (tmp_path / 'overlays').iterdir())
    assert overlays == ['frame_00000.png', 'frame_00002.png']
    for path in report['files']['overlays'] + report['files']['plots']:
        with open(path, 'rb') as stream:
            assert stream.read(8) == b'\x89PNG\r\n\x1a\n'
    summary = format_summary(report)
    assert 'mean 3D error' in summary and 'dropped' in summary and 'overlay images' in summary


def test_report_without_ground_truth_has_speed_only(tmp_path):
    report = write_report(_record(with_gt=False), tmp_path)
    assert report['accuracy'] is None
    assert not (tmp_path / 'ground_truth.npz').exists()
    # The skeletons are saved all the same: one row per instance, keyed by stamp and frame.
    assert report['files']['predictions'] == str(tmp_path / 'predictions.npz')
    with np.load(tmp_path / 'predictions.npz') as saved:
        assert saved['frame_ids'].tolist() == [0, 1, 3, 4, 5]
        assert saved['stamps'].tolist() == [0, 1, 3, 4, 5]
        assert saved['track_ids'].tolist() == [0] * 5
        assert saved['xyz'].shape == saved['uvd'].shape == (5, 14, 3)
        assert saved['confidence'].shape == (5, 14)
        np.testing.assert_allclose(saved['uvd'][2], _record().frames[3].pred_uvd[0], atol=1e-3)
    assert report['speed']['latency_ms']['count'] == 5
    summary = format_summary(report)
    assert 'speed only' in summary and str(tmp_path / 'predictions.npz') in summary


def _frame(index, stamp):
    from a2j_ros.bag.frames import BagFrame
    return BagFrame(index=index, stamp_ns=stamp, frame_id='', depth_mm=None, camera=None,
                    encoding='16UC1')


def test_live_answers_pair_by_stamp_and_order():
    # frames 0-3 played at t = 1, 2, 3, 4 s; frames 1 and 2 share stamp 20.
    frames = [_frame(0, 10), _frame(1, 20), _frame(2, 20), _frame(3, 30)]
    sent = {0: 1.0, 1: 2.0, 2: 3.0, 3: 4.0}
    answers = [(1.5, 10, 'a'), (2.5, 20, 'b'), (3.5, 20, 'c'), (3.6, 20, 'd'),
               (0.5, 30, 'e'), (4.2, 99, 'f')]
    pairs, unmatched = pair_answers(frames, sent, answers)
    # the 2nd answer stamped 20 goes to the 2nd frame played with 20; a 3rd one has no frame;
    # an answer before its frame was played (e) and a foreign stamp (f) are never frames.
    assert pairs == {0: (1.5, 'a'), 1: (2.5, 'b'), 2: (3.5, 'c')}
    assert unmatched == 3
