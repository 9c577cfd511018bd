"""Offline replay on tiny bags: storages, encodings, padded rows, ROI sources, a2j eval."""
import json

from conftest import save_random_hand_checkpoint
import numpy as np
import pytest

from a2j_ros.bag.make_bag import make_bag
from a2j_ros.bag.offline_replay import frame_rois, overlay_indices, replay_offline
from a2j_ros.bag.reader import read_frames
from a2j_ros.bag.report import write_report
from a2j_ros.bag.topics import BagTopics
from a2j_ros.cli import main as a2j_main
from a2j_ros.core.errors import InputError


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """Save a random ResNet-18 hand model (64 px input) like a trained one."""
    return save_random_hand_checkpoint(tmp_path_factory.mktemp('ck') / 'tiny.pt', seed=0)


@pytest.fixture(scope='module')
def bags(tmp_path_factory):
    """Write the same 3 synthetic frames into five bags."""
    root = tmp_path_factory.mktemp('bags')
    variants = {'mcap_16': dict(out='a.mcap'), 'sqlite_16': dict(out='b.db3'),
                'dir_32': dict(out='c', storage='mcap', encoding='32FC1'),
                'padded_16': dict(out='d.mcap', pad_bytes=14, big_endian=True),
                'padded_32': dict(out='e', storage='sqlite3', encoding='32FC1', pad_bytes=6)}
    out = {}
    for name, options in variants.items():
        options = dict(options)
        path = root / options.pop('out')
        out[name] = make_bag('synthetic_hand', path, frames=3, progress=False, **options)['path']
    return out


@pytest.fixture(scope='module')
def pipeline(checkpoint):
    from a2j_ros.core.pipeline import PosePipeline
    return PosePipeline.from_checkpoint(checkpoint)


def _replay(bag, pipeline, **kwargs):
    return replay_offline(bag, 'tiny.pt', pipeline=pipeline, progress=False, **kwargs)


def _pred(record):
    return np.stack([f.pred_xyz_mm for f in record.frames])


def test_same_predictions_whatever_the_storage_and_row_layout(bags, pipeline):
    reference = _replay(bags['mcap_16'], pipeline)
    assert len(reference.frames) == 3 and all(len(f.pred_xyz_mm) == 1 for f in reference.frames)
    for name in ('sqlite_16', 'padded_16'):
        np.testing.assert_array_equal(_pred(_replay(bags[name], pipeline)), _pred(reference))
    metres = _pred(_replay(bags['dir_32'], pipeline))
    np.testing.assert_array_equal(_pred(_replay(bags['padded_32'], pipeline)), metres)
    # 16UC1 rounds the rendered depth to whole millimetres, 32FC1 keeps it (float32 metres):
    # the predictions differ by about that rounding, no more.
    np.testing.assert_allclose(metres, _pred(reference), atol=1.0)
    assert not np.array_equal(metres, _pred(reference))


def test_deterministic_and_uses_the_bag_rois(bags, pipeline):
    a = _replay(bags['mcap_16'], pipeline)
    b = _replay(bags['mcap_16'], pipeline)
    np.testing.assert_array_equal(_pred(a), _pred(b))
    frames = read_frames(bags['mcap_16'])
    for outcome, frame in zip(a.frames, frames):
        # The recorded box is the crop the network saw (Skeleton.roi): the hand cube around
        # the centre of the bag's ROI, so their centres agree up to clipping at the border.
        (x, y, w, h), (rx, ry, rw, rh) = outcome.rois[0], frame.rois[0]
        assert abs((x + w / 2) - (rx + rw / 2)) <= 2 and abs((y + h / 2) - (ry + rh / 2)) <= 2
        assert outcome.latency_s > 0 and outcome.received


def test_detector_free_roi_sources(bags, pipeline):
    full = _replay(bags['mcap_16'], pipeline, roi_source='full_frame', max_frames=2)
    # A hand cube around the centre of the whole frame.
    centres = [(x + w / 2, y + h / 2) for x, y, w, h in (f.rois[0] for f in full.frames)]
    assert all(abs(u - 160) <= 2 and abs(v - 120) <= 2 for u, v in centres)
    nearest = _replay(bags['mcap_16'], pipeline, roi_source='nearest', max_frames=2)
    assert len(nearest.frames) == 2
    with pytest.raises(InputError, match='ROI source'):
        _replay(bags['mcap_16'], pipeline, roi_source='detector')


def test_bag_without_rois_needs_another_source(bags, pipeline):
    topics = BagTopics(roi='/not/there')
    with pytest.raises(InputError, match='no ROI topic'):
        _replay(bags['mcap_16'], pipeline, topics=topics)
    frame = read_frames(bags['mcap_16'], topics)[0]
    from a2j_ros.core.roi_search import RoiSearch
    rois, _ = frame_rois(frame, 'full_frame', 'hand', RoiSearch())
    assert rois.tolist() == [[0, 0, 320, 240]]


def test_overlay_indices_spread():
    assert overlay_indices(10, 3) == {0, 4, 9} or overlay_indices(10, 3) == {0, 5, 9}
    assert overlay_indices(2, 6) == {0, 1} and overlay_indices(0, 6) == set()


def test_replay_command_report_equals_a2j_eval(bags, checkpoint, pipeline, tmp_path, capsys):
    report_dir = tmp_path / 'report'
    assert a2j_main(['replay', bags['padded_32'], '--checkpoint', str(checkpoint), '--report',
                     str(report_dir), '--overlays', '2', '--no-progress']) == 0
    printed = capsys.readouterr().out
    assert 'mean 3D error' in printed and 'overlay images (2)' in printed
    report = json.loads((report_dir / 'report.json').read_text())
    assert report['mode'] == 'offline' and report['settings']['roi_source'] == 'topic'
    assert report['speed']['frames_total'] == 3 and report['speed']['frames_dropped'] == 0
    assert report['speed']['latency_ms']['p99'] > 0
    accuracy = report['accuracy']
    assert accuracy['instances_evaluated'] == 3
    # The report's error is what `a2j eval` computes on the predictions it wrote.
    eval_json = tmp_path / 'eval.json'
    assert a2j_main(['eval', '--dataset', 'synthetic_hand', '--pred',
                     str(report_dir / 'predictions.npz'), '--gt',
                     str(report_dir / 'ground_truth.npz'), '--json', str(eval_json)]) == 0
    evaluated = json.loads(eval_json.read_text())
    assert evaluated['mean_error_mm'] == accuracy['mean_error_mm']
    assert evaluated['per_joint_error_mm'] == accuracy['per_joint_error_mm']
    # ...and that error is the distance between the replay's predictions and the bag's truth.
    record = _replay(bags['padded_32'], pipeline)
    truth = np.stack([f.ground_truth.xyz_mm[0] for f in record.frames])
    expected = np.linalg.norm(_pred(record)[:, 0] - truth, axis=-1).mean()
    assert accuracy['mean_error_mm'] == pytest.approx(expected, abs=1e-2)
    write_report(record, tmp_path / 'again')
    assert len(list((tmp_path / 'again' / 'overlays').glob('*.png'))) == 3


def test_replay_command_errors(tmp_path, checkpoint, capsys):
    assert a2j_main(['replay', str(tmp_path / 'missing.mcap'), '--checkpoint', str(checkpoint),
                     '--report', str(tmp_path / 'r')]) == 2
    assert 'does not exist' in capsys.readouterr().err
    bag = make_bag('synthetic_hand', tmp_path / 'x.mcap', frames=1, progress=False)['path']
    assert a2j_main(['replay', bag, '--checkpoint', str(tmp_path / 'none.pt'), '--report',
                     str(tmp_path / 'r'), '--no-progress']) == 2
    assert 'none.pt' in capsys.readouterr().err
    assert a2j_main(['replay', bag, '--checkpoint', str(checkpoint), '--report',
                     str(tmp_path / 'r'), '--depth-topic', '/nope', '--no-progress']) == 2
    assert '/camera/depth/image_rect_raw' in capsys.readouterr().err


def test_realsense_like_bag_without_rois_or_ground_truth(tmp_path, checkpoint, capsys):
    """Other topic names, no ROI topic (auto -> nearest), no ground truth: speed only."""
    bag = make_bag('synthetic_hand', tmp_path / 'rs.mcap', frames=2, progress=False,
                   topics=BagTopics(depth='/camera/camera/depth/image_rect_raw',
                                    camera_info='/camera/camera/depth/camera_info', roi=None,
                                    ground_truth=None))['path']
    report_dir = tmp_path / 'report'
    (report_dir / 'overlays').mkdir(parents=True)
    (report_dir / 'overlays' / 'frame_00099.png').write_bytes(b'old')
    assert a2j_main(['replay', bag, '--checkpoint', str(checkpoint), '--report',
                     str(report_dir), '--depth-topic', '/camera/camera/depth/image_rect_raw',
                     '--no-progress']) == 0
    assert 'speed only' in capsys.readouterr().out
    report = json.loads((report_dir / 'report.json').read_text())
    assert report['accuracy'] is None and report['settings']['roi_source'] == 'nearest'
    assert report['settings']['topics']['camera_info'] == '/camera/camera/depth/camera_info'
    assert report['speed']['frames_answered'] == 2
    assert sorted(p.name for p in (report_dir / 'overlays').iterdir()) == [
        'frame_00000.png', 'frame_00001.png']
