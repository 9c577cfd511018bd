from pathlib import Path

import numpy as np
import pytest

from a2j_ros.core.errors import DatasetError, InputError
from a2j_ros.core.evaluate import evaluate_files, evaluate_predictions, format_report
from a2j_ros.core.presets import get_preset

# Paper Table 5 (ITOP front view, AP at 10 cm per joint, left/right averaged).
TABLE5 = {'head': 98.54, 'neck': 99.20, 'shoulder': 96.23, 'elbow': 78.92, 'hand': 68.35,
          'torso': 98.52, 'hip': 90.85, 'knee': 90.75, 'foot': 86.91}


@pytest.fixture
def reference(a2j_published):
    """``reference('nyu', name)`` -> the path of one shipped file of the authors."""
    return a2j_published.joinpath


def test_nyu_mean_error_reproduces_the_paper(reference):
    preset = get_preset('nyu')
    report = evaluate_files(preset, reference('nyu', 'a2j_pred_nyu_test_uvd.txt'),
                            reference('nyu', 'nyu_keypointsUVD_test.mat'))
    assert report['num_frames'] == 8252
    assert report['mean_error_mm'] == pytest.approx(8.6098, abs=5e-4)
    assert list(report['per_joint_error_mm']) == list(report['joint_names'])


def test_icvl_mean_error_reproduces_the_paper(reference):
    report = evaluate_files(get_preset('icvl'), reference('icvl', 'a2j_pred_icvl_test_uvd.txt'),
                            reference('icvl', 'icvl_keypointsUVD_test.mat'))
    assert report['num_frames'] == 1596
    assert report['mean_error_mm'] == pytest.approx(6.4614, abs=5e-4)


def test_itop_map_and_per_joint_row_equal_table_5(reference):
    report = evaluate_files(get_preset('itop_side'),
                            reference('itop_side', 'a2j_pred_itop_side_test_uvd.mat'),
                            reference('itop_side', 'itop_side_keypoints3D_test.mat'))
    assert report['metric'] == 'map' and report['num_frames'] == 4863
    assert report['map_10cm'] == pytest.approx(88.0, abs=0.05)
    grouped = report['per_joint_ap_10cm_grouped']
    assert list(grouped) == list(TABLE5)
    for joint, expected in TABLE5.items():
        assert grouped[joint] == pytest.approx(expected, abs=0.006), joint


def _synthetic(n=20, j=14, noise=5.0, seed=0):
    rng = np.random.default_rng(seed)
    gt = rng.uniform(-100, 100, (n, j, 3)) + [0, 0, 600]
    return gt + rng.normal(0, noise, gt.shape), gt


def test_report_contents_for_hands():
    pred, gt = _synthetic()
    report = evaluate_predictions(pred, gt, 'nyu_hand_14')
    errors = np.linalg.norm(pred - gt, axis=-1)
    assert report['mean_error_mm'] == pytest.approx(errors.mean(), abs=1e-4)
    assert report['per_joint_error_mm']['palm'] == pytest.approx(errors[:, 13].mean(), abs=1e-4)
    curve = report['success_curve']
    assert curve['thresholds_mm'] == list(map(float, range(81)))
    assert curve['percent'][-1] == pytest.approx(100.0 * np.mean(errors.max(1) <= 80))
    assert 'map_10cm' not in report
    table = format_report(report)
    assert 'mean_error_mm' in table and 'wrist_thumb_side' in table


def test_report_for_bodies_has_map_and_longer_curve():
    pred, gt = _synthetic(j=15, noise=60.0)
    report = evaluate_predictions(pred, gt, 'itop_body_15', 'map')
    errors = np.linalg.norm(pred - gt, axis=-1)
    assert report['map_10cm'] == pytest.approx(100 * np.mean(errors < 100), abs=1e-3)
    assert report['success_curve']['thresholds_mm'][-1] == 300.0
    assert 'AP@10cm' in format_report(report)


def test_pdj_report_for_2d_layout():
    rng = np.random.default_rng(2)
    gt = rng.uniform(0, 200, (10, 19, 2))
    report = evaluate_predictions(gt + 1.0, gt, 'k2hpd_body_19', 'pdj')
    assert list(report['pdj']) == ['0.05', '0.10', '0.15', '0.20']
    assert report['pdj']['0.20'] >= report['pdj']['0.05']
    assert report['pdj_average'] == pytest.approx(np.mean(list(report['pdj'].values())))
    assert 'PDJ@0.05' in format_report(report)


@pytest.mark.parametrize('pred_shape, gt_shape, layout, metric, match', [
    ((3, 14, 3), (3, 14, 3), 'nyu_hand_14', 'f1', 'unknown metric'),
    ((3, 14, 3), (4, 14, 3), 'nyu_hand_14', 'mean_error', 'same shape'),
    ((3, 15, 3), (3, 15, 3), 'nyu_hand_14', 'mean_error', 'has 14 joints'),
    ((0, 14, 3), (0, 14, 3), 'nyu_hand_14', 'mean_error', '0 frames'),
    ((3, 14, 2), (3, 14, 2), 'nyu_hand_14', 'map', 'needs 3D'),
    ((3, 14, 2), (3, 14, 2), 'nyu_hand_14', 'pdj', 'no neck'),
])
def test_bad_arguments_raise_input_error(pred_shape, gt_shape, layout, metric, match):
    with pytest.raises(InputError, match=match):
        evaluate_predictions(np.zeros(pred_shape), np.ones(gt_shape), layout, metric)


def test_non_finite_predictions_are_rejected():
    pred, gt = _synthetic()
    pred[3, 2, 1] = np.nan
    with pytest.raises(InputError, match='non-finite'):
        evaluate_predictions(pred, gt, 'nyu_hand_14')


def test_evaluate_files_checks_layout_of_our_format(tmp_path):
    from a2j_ros.core.prediction_io import save_predictions
    pred, gt = _synthetic(j=14)
    np.save(tmp_path / 'gt.npy', get_preset('nyu').camera.project(gt))
    path = save_predictions(tmp_path / 'p.npz', 'icvl_hand_16', xyz=np.zeros((20, 14, 3)))
    with pytest.raises(DatasetError, match='layout icvl_hand_16'):
        evaluate_files(get_preset('nyu'), path, tmp_path / 'gt.npy')
    path = save_predictions(tmp_path / 'q.npz', 'nyu_hand_14', xyz=pred)
    report = evaluate_files(get_preset('nyu'), path, tmp_path / 'gt.npy')
    errors = np.linalg.norm(pred - gt, axis=-1)
    assert report['mean_error_mm'] == pytest.approx(errors.mean(), abs=1e-3)


def test_plots_are_written(tmp_path):
    from a2j_ros.core.plots import plot_report
    pred, gt = _synthetic(j=15, noise=60.0)
    paths = plot_report(evaluate_predictions(pred, gt, 'itop_body_15', 'map'), tmp_path)
    assert [Path(p).name for p in paths] == ['itop_body_15_success_curve.png',
                                             'itop_body_15_per_joint_error.png',
                                             'itop_body_15_per_joint_map.png']
    for path in paths:
        assert Path(path).read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    rng = np.random.default_rng(0)
    uv = rng.uniform(0, 200, (5, 19, 2))
    paths = plot_report(evaluate_predictions(uv + 2, uv, 'k2hpd_body_19', 'pdj'), tmp_path)
    assert [Path(p).name for p in paths] == ['k2hpd_body_19_pdj.png']


class _Frames:
    """A tiny dataset stand-in: a list of Samples with a camera (the PoseDataset protocol)."""

    layout = 'nyu_hand_14'
    input_scale = 1e-3

    def __init__(self, samples, camera):
        self.samples, self.camera = samples, camera

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        return self.samples[index]


class _Oracle:
    """A stand-in model that answers each batch with given crop-space joints, in order."""

    def __init__(self, answers, crop_config):
        self.answers, self.crop_config, self.batches = list(answers), crop_config, []

    def predict(self, x):
        import torch
        n = x.shape[0]
        self.batches.append(tuple(x.shape))
        out = torch.as_tensor(np.stack(self.answers[:n]), dtype=torch.float32)
        del self.answers[:n]
        return {'uvd': out}


def test_predict_dataset_maps_crop_predictions_back_per_frame():
    import dataclasses

    from a2j_ros.core.cropping import crop_hand
    from a2j_ros.core.datasets.base import Sample
    from a2j_ros.core.evaluate import evaluate_dataset, predict_dataset
    preset = get_preset('synthetic_hand')
    cfg = dataclasses.replace(preset.crop, input_size=32)
    rng = np.random.default_rng(0)
    samples, answers, gts = [], [], []
    for i in range(5):
        centre = np.array([rng.uniform(100, 220), rng.uniform(80, 160), rng.uniform(400, 600)])
        joints = centre + rng.uniform(-40, 40, (14, 3))
        depth = rng.uniform(300, 700, (240, 320)).astype(np.float32)
        valid = i != 2
        samples.append(Sample(depth=depth, joints_uvd=joints, centre_uvd=centre, valid=valid,
                              name=f'f{i}'))
        if valid:
            _, transform = crop_hand(depth, centre, preset.camera, cfg)
            answers.append(transform.to_crop(joints[None])[0])
            gts.append(joints)
    model = _Oracle(answers, cfg)
    pred, gt, names = predict_dataset(model, _Frames(samples, preset.camera), batch_size=3)
    assert model.batches == [(3, 1, 32, 32), (1, 1, 32, 32)]
    assert names == ['f0', 'f1', 'f3', 'f4']
    np.testing.assert_allclose(gt, np.stack(gts))
    np.testing.assert_allclose(pred, gt, atol=1e-3)        # float32 crop answers
    model = _Oracle(answers, cfg)
    report, _ = evaluate_dataset(model, _Frames(samples, preset.camera), preset, batch_size=2)
    assert report['num_frames'] == 4 and report['mean_error_mm'] < 0.01
