"""`a2j make-bag`: synthetic datasets into bags, sizes, options, errors."""
import numpy as np
import pytest

from a2j_ros.bag.make_bag import make_bag, START_NS
from a2j_ros.bag.reader import BagReader, read_frames
from a2j_ros.bag.sources import roi_around_joints
from a2j_ros.bag.topics import BagTopics
from a2j_ros.cli import main as a2j_main
from a2j_ros.core.errors import InputError


def test_roi_around_joints_grows_and_clips():
    uvd = np.array([[100.0, 50.0, 500.0], [140.0, 90.0, 500.0]])
    x, y, w, h = roi_around_joints(uvd, 320, 240, 'hand')
    pad = 0.25 * 40 + 4
    assert (x, y) == (int(np.floor(100 - pad)), int(np.floor(50 - pad)))
    assert x + w - 1 == int(np.ceil(140 + pad)) and y + h - 1 == int(np.ceil(90 + pad))
    x, y, w, h = roi_around_joints(np.array([[2.0, 3.0, 1.0], [318.0, 230.0, 1.0]]), 320, 240)
    assert (x, y, x + w, y + h) == (0, 0, 320, 240)


@pytest.mark.parametrize('dataset,layout', [('synthetic_hand', 'nyu_hand_14'),
                                            ('synthetic_body', 'itop_body_15')])
def test_synthetic_bag_holds_ground_truth(tmp_path, dataset, layout):
    summary = make_bag(dataset, tmp_path / 'x.mcap', frames=3, rate_hz=10.0, progress=False)
    assert summary['frames'] == 3 and summary['bytes'] == (tmp_path / 'x.mcap').stat().st_size
    frames = read_frames(tmp_path / 'x.mcap')
    assert [f.stamp_ns for f in frames] == [START_NS + i * 100_000_000 for i in range(3)]
    for frame in frames:
        gt = frame.ground_truth
        assert gt.layout == layout and gt.xyz_mm.shape[0] == 1
        # The ground truth projects onto its own uvd, and lies inside the ROI.
        np.testing.assert_allclose(frame.camera.project(gt.xyz_mm[0])[:, :2], gt.uvd[0][:, :2],
                                   atol=1e-3)
        x, y, w, h = frame.rois[0]
        u, v = gt.uvd[0][:, 0], gt.uvd[0][:, 1]
        assert np.all((u >= x) & (u < x + w) & (v >= y) & (v < y + h))


def test_same_seed_same_bag_content(tmp_path):
    a = read_frames(make_bag('synthetic_hand', tmp_path / 'a.mcap', frames=2,
                             progress=False)['path'])
    b = read_frames(make_bag('synthetic_hand', tmp_path / 'b.db3', frames=2,
                             progress=False)['path'])
    c = read_frames(make_bag('synthetic_hand', tmp_path / 'c.mcap', frames=2, seed=1,
                             progress=False)['path'])
    np.testing.assert_array_equal(a[1].depth_mm, b[1].depth_mm)
    assert not np.array_equal(a[1].depth_mm, c[1].depth_mm)


def test_command_line_options(tmp_path, capsys):
    out = tmp_path / 'bag'
    code = a2j_main(['make-bag', '--dataset', 'synthetic_hand', '--out', str(out), '--storage',
                     'sqlite3', '--encoding', '32FC1', '--frames', '2', '--pad-rows', '8',
                     '--big-endian', '--depth-topic', '/cam/depth', '--info-topic',
                     '/cam/info', '--gt-topic', '', '--no-progress'])
    assert code == 0
    printed = capsys.readouterr().out
    assert 'kB per frame' in printed and '2 frames' in printed
    assert (out / 'metadata.yaml').is_file()
    with BagReader(out, BagTopics(depth='/cam/depth', camera_info='/cam/info')) as bag:
        assert bag.topic_types['/cam/depth'] == 'sensor_msgs/msg/Image'
        assert '/a2j/ground_truth' not in bag.topic_types
        frames = list(bag.frames())
    assert frames[0].encoding == '32FC1' and frames[0].ground_truth is None
    assert frames[0].rois.shape == (1, 4)
    # A second run refuses to overwrite, --force replaces.
    assert a2j_main(['make-bag', '--dataset', 'synthetic_hand', '--out', str(out),
                     '--frames', '1', '--no-progress']) == 2
    assert 'exists already' in capsys.readouterr().err
    assert a2j_main(['make-bag', '--dataset', 'synthetic_hand', '--out', str(out),
                     '--frames', '1', '--force', '--no-progress']) == 0


def test_real_dataset_needs_its_folder(tmp_path, capsys):
    code = a2j_main(['make-bag', '--dataset', 'nyu', '--out', str(tmp_path / 'n.mcap'),
                     '--no-progress'])
    assert code == 2 and '--root' in capsys.readouterr().err
    code = a2j_main(['make-bag', '--dataset', 'icvl', '--root', str(tmp_path / 'none'),
                     '--out', str(tmp_path / 'i.mcap'), '--no-progress'])
    assert code == 2 and not (tmp_path / 'i.mcap').exists()


@pytest.mark.parametrize('rate,frames,match', [
    (float('nan'), 3, 'finite'), (float('inf'), 3, 'finite'), (0.0, 3, 'finite'),
    (2e9, 3, 'above 1 GHz'), (1e-9, 3, '2038'), (1e-3, 10**6, '2038')])
def test_rates_that_cannot_make_stamps(rate, frames, match):
    from a2j_ros.bag.make_bag import check_rate
    with pytest.raises(InputError, match=match):
        check_rate(rate, frames)
    assert check_rate(30.0, 100) == 33_333_333


@pytest.mark.parametrize('topics,match', [
    (BagTopics(depth='not a topic!!'), 'not a valid'), (BagTopics(depth='/a/1b'), 'not a valid'),
    (BagTopics(depth='/a', camera_info='/a'), 'are both /a'),
    (BagTopics(roi='/camera/depth/image_rect_raw'), 'are both'),
    (BagTopics(depth=''), 'cannot be empty')])
def test_topics_that_make_an_invalid_bag(tmp_path, topics, match):
    with pytest.raises(InputError, match=match):
        make_bag('synthetic_hand', tmp_path / 'x.mcap', frames=1, topics=topics,
                 progress=False)
    assert not list(tmp_path.iterdir())


def test_sigterm_removes_the_partial_bag(tmp_path):
    import os
    import shutil
    import signal
    import subprocess
    import sys
    import time
    exe = shutil.which('a2j')
    cmd = ([exe] if exe else [sys.executable, '-m', 'a2j_ros.cli']) + [
        'make-bag', '--dataset', 'synthetic_hand', '--out', str(tmp_path / 'big.mcap'),
        '--frames', '100000', '--no-progress']
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (tmp_path / '.big.partial').exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert (tmp_path / '.big.partial').exists(), proc.communicate(timeout=5)
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGTERM)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert 'Traceback' not in err and 'terminated' in err
    assert list(tmp_path.iterdir()) == []
