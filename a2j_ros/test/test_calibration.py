"""Confidence calibration: hand-computed fits and ECE, storage, pipeline, a2j calibrate/eval."""
import json

from conftest import save_random_hand_checkpoint
import numpy as np
import pytest
import torch

from a2j_ros.cli import main
from a2j_ros.core.calibration import (
    confidence_report,
    ConfidenceCalibration,
    expected_calibration_error,
    fit_calibration,
)
from a2j_ros.core.camera import PinholeCamera
from a2j_ros.core.checkpoint import read_checkpoint
from a2j_ros.core.errors import InputError
from a2j_ros.core.pipeline import PosePipeline


def test_fit_two_groups_by_hand():
    # joint 0: raw 0.1 -> 3 of 10 within 20 mm, raw 0.2 -> 8 of 10
    raw = np.r_[np.full(10, 0.1), np.full(10, 0.2)][:, None]
    err = np.r_[[5.0] * 3 + [50.0] * 7, [5.0] * 8 + [50.0] * 2][:, None]
    cal = fit_calibration(raw, err, radius_mm=20.0, bins=2)
    assert cal.knots_raw[0] == pytest.approx([0.1, 0.2])
    assert cal.knots_calibrated[0] == pytest.approx([0.3, 0.8])
    assert cal.apply(np.array([[0.05], [0.15], [0.9]]))[:, 0] == pytest.approx([0.3, 0.55, 0.8])


def test_fit_pools_adjacent_violators():
    # rates 0.6 then 0.4 go against the raw order: pooled to 0.5 (equal weights)
    raw = np.r_[np.full(10, 0.1), np.full(10, 0.2)][:, None]
    err = np.r_[[5.0] * 6 + [50.0] * 4, [5.0] * 4 + [50.0] * 6][:, None]
    cal = fit_calibration(raw, err, radius_mm=20.0, bins=2)
    assert cal.knots_calibrated[0] == pytest.approx([0.5, 0.5])
    with pytest.raises(InputError, match='at least'):
        fit_calibration(raw[:5], err[:5], 20.0)


def test_expected_calibration_error_by_hand():
    # bin [0, 0.1): mean 0.05, hit rate 0.5 -> |0.45| x 2/4; bin [0.9, 1]: 0.95 vs 1 -> 0.05 x 2/4
    ece, table = expected_calibration_error([0.05, 0.05, 0.95, 0.95], [0, 1, 1, 1])
    assert ece == pytest.approx(0.25)
    assert table['count'] == [2, 0, 0, 0, 0, 0, 0, 0, 0, 2]
    assert table['accuracy'][0] == 0.5 and table['confidence'][1] is None


def test_calibration_brings_ece_down_on_a_known_curve():
    rng = np.random.default_rng(0)
    raw = rng.uniform(0.0, 0.05, (4000, 2))               # raw values like the demo model's
    truth = (raw / 0.05) ** 2                            # P(hit) for this raw confidence
    err = np.where(rng.random(raw.shape) < truth, 10.0, 40.0)
    cal = fit_calibration(raw[:2000], err[:2000], 20.0)
    report = confidence_report(raw[2000:], err[2000:], 20.0, cal)
    assert report['ece_raw'] > 0.25 and report['ece'] < 0.03
    back = ConfidenceCalibration.from_dict(cal.to_dict())
    np.testing.assert_array_equal(back.apply(raw[:5]), cal.apply(raw[:5]))


def test_broken_calibration_is_refused():
    good = {'radius_mm': 20.0, 'knots_raw': [[0.1, 0.2]], 'knots_calibrated': [[0.2, 0.4]]}
    ConfidenceCalibration.from_dict(good)
    for bad in ({**good, 'knots_calibrated': [[0.4, 0.2]]},        # decreasing
                {**good, 'knots_raw': [[0.2, 0.1]]},
                {**good, 'knots_calibrated': [[0.2, 1.4]]},
                {'radius_mm': 20.0}):
        with pytest.raises(InputError, match='ck.pt'):
            ConfidenceCalibration.from_dict(bad, 'ck.pt')
    with pytest.raises(InputError, match='14 joints'):
        ConfidenceCalibration(20.0, [[0.0, 1.0]] * 14, [[0.5, 0.5]] * 14).apply(np.ones((1, 3)))


def test_pipeline_applies_the_stored_calibration(tmp_path):
    path = save_random_hand_checkpoint(tmp_path / 'ck.pt', input_size=32)
    data = read_checkpoint(path)
    data['calibration'] = {'radius_mm': 20.0, 'knots_raw': [[0.0, 1.0]] * 14,
                           'knots_calibrated': [[0.7, 0.7]] * 14}
    torch.save(data, path)
    cam = PinholeCamera(fx=241.0, fy=241.0, cx=160.0, cy=120.0, width=320, height=240)
    depth = np.full((240, 320), 900.0, np.float32)
    depth[100:140, 140:180] = 500.0
    pipeline = PosePipeline.from_checkpoint(path)
    calibrated = pipeline.estimate(depth, cam, [(130, 90, 60, 60)])
    raw = PosePipeline(pipeline.predictor).estimate(depth, cam, [(130, 90, 60, 60)])
    assert not np.allclose(raw[0].confidence, 0.7)
    np.testing.assert_allclose(calibrated[0].confidence, 0.7)
    np.testing.assert_allclose(calibrated[0].joints_xyz_mm, raw[0].joints_xyz_mm)


def test_calibrate_and_eval_command_lines(tmp_path, capsys):
    path = save_random_hand_checkpoint(tmp_path / 'ck.pt', input_size=32)
    out = tmp_path / 'cal.pt'
    args = ['calibrate', '--checkpoint', str(path), '--frames', '24', '--check-frames', '8',
            '--bins', '2']
    assert main(args + ['--out', str(out)]) == 0
    printed = capsys.readouterr().out
    assert 'ECE (10 bins)' in printed and f'wrote {out}' in printed
    before, after = read_checkpoint(path), read_checkpoint(out)
    assert 'calibration' not in before and after['calibration']['info']['frames'] == 24
    for key, value in before['state_dict'].items():
        assert torch.equal(after['state_dict'][key], value)
    assert after['model_config'] == before['model_config']
    # an existing --out needs --force; --out and --in-place exclude each other
    assert main(args + ['--out', str(out)]) == 2
    assert 'use --force' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(args + ['--out', str(out), '--in-place'])
    capsys.readouterr()
    # a2j eval reports and plots the calibrated reliability
    plots, report = tmp_path / 'plots', tmp_path / 'r.json'
    assert main(['eval', '--dataset', 'synthetic_hand', '--checkpoint', str(out), '--frames',
                 '6', '--sensor', '--plots', str(plots), '--json', str(report)]) == 0
    assert 'calibrated' in capsys.readouterr().out
    section = json.loads(report.read_text())['confidence']
    assert section['calibrated'] and 0.0 <= section['ece'] <= 1.0 and section['radius_mm'] == 20
    assert (plots / 'synthetic_hand_reliability.png').stat().st_size > 1000
    assert main(['eval', '--dataset', 'nyu', '--checkpoint', str(out), '--root', str(tmp_path),
                 '--sensor']) == 2
    assert '--sensor applies to the synthetic' in capsys.readouterr().err
