import json

import numpy as np
import pytest

from a2j_ros import cli
from a2j_ros.core.presets import get_preset


def _files(tmp_path, n=12, seed=0):
    cam = get_preset('icvl').camera
    rng = np.random.default_rng(seed)
    gt = np.stack([rng.uniform(60, 260, (n, 16)), rng.uniform(40, 200, (n, 16)),
                   rng.uniform(300, 500, (n, 16))], axis=-1)
    pred = gt + rng.normal(0, 1.0, gt.shape)
    np.savetxt(tmp_path / 'pred.txt', pred.reshape(n, -1))
    np.save(tmp_path / 'gt.npy', gt)
    errors = np.linalg.norm(cam.unproject(pred) - cam.unproject(gt), axis=-1)
    return tmp_path / 'pred.txt', tmp_path / 'gt.npy', errors


def test_eval_prints_table_writes_json_and_plots(tmp_path, capsys):
    pred, gt, errors = _files(tmp_path)
    code = cli.main(['eval', '--dataset', 'icvl', '--pred', str(pred), '--gt', str(gt),
                     '--json', str(tmp_path / 'out' / 'r.json'), '--plots', str(tmp_path / 'p')])
    out = capsys.readouterr().out
    assert code == 0
    assert 'mean_error_mm' in out and 'pinky_tip' in out
    report = json.loads((tmp_path / 'out' / 'r.json').read_text())
    assert report['mean_error_mm'] == pytest.approx(errors.mean(), abs=1e-3)
    assert len(report['per_joint_error_mm']) == 16
    assert len(report['success_curve']['percent']) == 81
    assert sorted(p.name for p in (tmp_path / 'p').iterdir()) == [
        'icvl_per_joint_error.png', 'icvl_success_curve.png']


def test_frame_count_mismatch_is_a_one_line_error(tmp_path, capsys):
    pred, gt, _ = _files(tmp_path)
    np.save(gt, np.load(gt)[:5])
    code = cli.main(['eval', '--dataset', 'icvl', '--pred', str(pred), '--gt', str(gt)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith('a2j eval: error:') and 'pred.txt has 12 frames' in err
    assert len(err.strip().splitlines()) == 1


def _ours(tmp_path, name, xyz, frame_ids):
    from a2j_ros.core.prediction_io import save_predictions
    return save_predictions(tmp_path / name, 'icvl_hand_16', xyz=xyz, frame_ids=frame_ids)


def test_rows_are_paired_by_frame_ids_not_by_position(tmp_path, capsys):
    rng = np.random.default_rng(4)
    gt = rng.uniform(-100, 100, (10, 16, 3)) + [0, 0, 400]
    pred = gt + 5.0 * np.array([1.0, 0, 0])          # every joint exactly 5 mm off
    ids = np.arange(100, 110)
    gt_path = _ours(tmp_path, 'gt.npz', gt, ids)
    order = rng.permutation(10)
    shuffled = _ours(tmp_path, 'shuffled.npz', pred[order], ids[order])
    out = tmp_path / 'r.json'
    assert cli.main(['eval', '--dataset', 'icvl', '--pred', shuffled, '--gt', gt_path,
                     '--json', str(out)]) == 0
    assert json.loads(out.read_text())['mean_error_mm'] == pytest.approx(5.0, abs=1e-3)
    capsys.readouterr()
    bad = {'unknown': np.r_[ids[:-1], 999], 'duplicate': np.r_[ids[:-1], ids[0]]}
    for name, frame_ids in bad.items():
        path = _ours(tmp_path, f'{name}.npz', pred, frame_ids)
        assert cli.main(['eval', '--dataset', 'icvl', '--pred', path, '--gt', gt_path]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and f'{name}.npz' in err
        assert ('999' if name == 'unknown' else 'appears 2 times') in err
    fewer = _ours(tmp_path, 'fewer.npz', pred[:9], ids[:9])
    assert cli.main(['eval', '--dataset', 'icvl', '--pred', fewer, '--gt', gt_path]) == 2
    assert 'have no prediction' in capsys.readouterr().err


@pytest.mark.parametrize('content,match', [(b'', 'empty'), (b'hello', 'no zip'),
                                           (b'PK\x03\x04junk', 'not a readable')])
def test_broken_npz_is_one_line(tmp_path, capsys, content, match):
    _pred, gt, _ = _files(tmp_path)
    (tmp_path / 'bad.npz').write_bytes(content)
    assert cli.main(['eval', '--dataset', 'icvl', '--pred', str(tmp_path / 'bad.npz'),
                     '--gt', str(gt)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and match in err


def test_missing_pred_or_checkpoint_without_modules_says_what_to_do(tmp_path, capsys):
    assert cli.main(['eval', '--dataset', 'nyu', '--gt', 'x.mat']) == 2
    assert '--pred PRED' in capsys.readouterr().err
    code = cli.main(['eval', '--dataset', 'nyu', '--checkpoint', 'ck.pt', '--root',
                     str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith('a2j eval: error:')
    assert len(err.strip().splitlines()) == 1
    try:
        from a2j_ros.core.datasets import open_dataset  # noqa: F401
    except ImportError:
        assert '--pred PRED --gt GT' in err
    assert cli.main(['eval', '--dataset', 'nyu', '--checkpoint', 'ck.pt']) == 2
    assert 'needs --root DATA' in capsys.readouterr().err


def test_unknown_dataset_is_rejected_by_argparse(capsys):
    with pytest.raises(SystemExit):
        cli.main(['eval', '--dataset', 'coco', '--pred', 'a', '--gt', 'b'])
    assert 'invalid choice' in capsys.readouterr().err


def test_reference_itop_through_the_cli(tmp_path, capsys, a2j_published):
    pred = a2j_published / 'itop_side' / 'a2j_pred_itop_side_test_uvd.mat'
    gt = a2j_published / 'itop_side' / 'itop_side_keypoints3D_test.mat'
    code = cli.main(['eval', '--dataset', 'itop_side', '--pred', str(pred), '--gt', str(gt),
                     '--json', str(tmp_path / 'itop.json')])
    assert code == 0
    report = json.loads((tmp_path / 'itop.json').read_text())
    assert report['map_10cm'] == pytest.approx(88.018, abs=0.01)
    assert 'hand 68.35' in capsys.readouterr().out


def test_checkpoint_over_synthetic_test_split(tmp_path, capsys):
    import dataclasses

    from a2j_ros.core.checkpoint import save_checkpoint
    from a2j_ros.core.config import ModelConfig
    from a2j_ros.core.model import A2JNet
    from a2j_ros.core.prediction_io import save_predictions
    model = A2JNet(ModelConfig(backbone='resnet18', input_size=64, layout='nyu_hand_14',
                               num_joints=14))
    crop = dataclasses.replace(get_preset('synthetic_hand').crop, input_size=64)
    save_checkpoint(tmp_path / 'ck.pt', model, crop)
    code = cli.main(['eval', '--checkpoint', str(tmp_path / 'ck.pt'), '--dataset',
                     'synthetic_hand', '--frames', '3', '--batch-size', '2', '--json',
                     str(tmp_path / 'r.json'), '--save-pred', str(tmp_path / 'p.npz')])
    assert code == 0, capsys.readouterr().err
    report = json.loads((tmp_path / 'r.json').read_text())
    assert report['num_frames'] == 3 and report['checkpoint'].endswith('ck.pt')
    assert np.isfinite(report['mean_error_mm'])
    # the saved file holds the 3 frames; ground truth = the same joints moved 3 mm along the
    # optical axis scores exactly 3 mm (a hand-computed distance, not the code's own output)
    with np.load(tmp_path / 'p.npz') as saved:
        xyz = saved['xyz']
    assert xyz.shape == (3, 14, 3) and np.all(np.isfinite(xyz))
    save_predictions(tmp_path / 'gt.npz', 'nyu_hand_14', xyz=xyz + [0.0, 0.0, 3.0])
    capsys.readouterr()
    assert cli.main(['eval', '--dataset', 'synthetic_hand', '--pred', str(tmp_path / 'p.npz'),
                     '--gt', str(tmp_path / 'gt.npz')]) == 0
    assert 'mean_error_mm: 3.000' in capsys.readouterr().out


def test_hand_computed_errors_through_the_cli(tmp_path, capsys):
    # NYU camera fx = 588.03, cx = 320, cy = 240. Frame 0: every joint at the principal
    # point, 500 mm, predicted at 503 mm: 3 mm. Frame 1: u = 320 + 58.803 (x = 50 mm at
    # 500 mm), predicted at 600 mm on the same pixel (x = 60 mm): sqrt(10^2 + 100^2).
    import scipy.io
    gt = np.zeros((2, 14, 3))
    gt[0] = (320.0, 240.0, 500.0)
    gt[1] = (320.0 + 58.803, 240.0, 500.0)
    pred = gt.copy()
    pred[0, :, 2] = 503.0
    pred[1, :, 2] = 600.0
    scipy.io.savemat(tmp_path / 'gt.mat', {'keypoints3D': gt})
    np.savetxt(tmp_path / 'pred.txt', pred.reshape(2, -1))
    assert cli.main(['eval', '--dataset', 'nyu', '--pred', str(tmp_path / 'pred.txt'),
                     '--gt', str(tmp_path / 'gt.mat'), '--json', str(tmp_path / 'r.json')]) == 0
    report = json.loads((tmp_path / 'r.json').read_text())
    assert report['num_frames'] == 2
    assert report['mean_error_mm'] == pytest.approx((3.0 + np.hypot(10.0, 100.0)) / 2, abs=1e-3)
