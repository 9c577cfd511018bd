"""The hostile corpus through the real command line: right numbers or one clear error line.

Every case runs ``a2j ...`` in a subprocess and checks the exit code, that no traceback is
printed, that an error is exactly one line saying the expected thing and, for good bags,
the frame counts of report.json. The bags come from hostile_corpus.py (written with rosbags,
not with our make-bag). Cases run two at a time in the background as soon as the module
starts (each test waits for its own), so the whole corpus costs about a minute of CPU.
Outputs stay in the pytest tmp folder (``corpus_runs/<case>/output.txt``) for inspection.
"""
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import shutil
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip('torch')


@dataclass
class Case:
    """One command line, what it must exit with and say."""

    name: str
    argv: list                  # {bag:NAME} {ck} {bad_ck} {out} {file} {tmp} placeholders
    rc: int = 0
    says: str = ''              # a substring of stderr (the error or warning line)
    counts: dict = field(default_factory=dict)     # report.json speed/... values to check
    live: bool = False


def replay(bag, *more, rc=0, says='', live=False, **counts):
    """Return a Case that replays corpus bag ``bag`` with extra arguments ``more``."""
    argv = ['replay', '{bag:%s}' % bag, '--checkpoint', '{ck}', '--report', '{out}',
            '--no-progress', '--overlays', '1', *more]
    name = bag.split('.')[0] + ('_' + '_'.join(m.strip('-').replace('/', '') for m in more)
                                if more else '')
    return Case(name, argv, rc, says, counts, live)


GOOD = dict(frames_total=8, frames_answered=8, frames_skipped=0)
CASES = [
    # good and odd bags: numbers
    replay('ours_gt.mcap', accuracy_instances=8, **GOOD),
    replay('realsense', **GOOD),
    replay('azure.db3', says='distortion (rational_polynomial', **GOOD),
    replay('duplicate_stamps.mcap', accuracy_instances=8, **GOOD),
    replay('truncated_cdr.db3', says='', frames_total=8, frames_answered=7, frames_skipped=1,
           skipped_messages=1),
    replay('info_after_frame.mcap', frames_total=8, frames_answered=7, frames_skipped=1),
    replay('resizing_info.mcap', frames_total=8, frames_answered=4, frames_skipped=4),
    replay('compressed_png.mcap', **GOOD),
    replay('compressed_rvl.db3', **GOOD),
    replay('infrared.mcap', '--depth-topic', '/camera/ir/image_raw', says='infrared', **GOOD),
    # bags that cannot be replayed: one line each
    replay('infrared.mcap', rc=2, says='no depth image topic'),
    replay('two_cameras.mcap', rc=2, says='2 depth image topics'),
    replay('empty.mcap', rc=2, says='is empty: no messages'),
    replay('no_metadata', rc=2, says='no_metadata.mcap'),
    replay('truncated_file.mcap', rc=2, says='cannot read bag'),
    replay('random.mcap', rc=2, says='cannot read bag'),
    replay('rgb.mcap', rc=2, says='no depth image topic'),
    replay('rgb.mcap', '--depth-topic', '/camera/depth/image_rect_raw', rc=2,
           says='no frame of'),
    replay('ours_gt.mcap', '--depth-topic', '/camera/depth/camera_info', rc=2,
           says='is sensor_msgs/msg/CameraInfo, not depth images'),
    # arguments that would do nothing or nonsense
    replay('ours_gt.mcap', '--frames', '0', rc=2, says='--frames'),
    replay('ours_gt.mcap', '--frames', '-3', rc=2, says='--frames'),
    replay('ours_gt.mcap', '--max-instances', '0', rc=2, says='--max-instances'),
    replay('ours_gt.mcap', '--max-instances', '-1', rc=2, says='--max-instances'),
    replay('ours_gt.mcap', '--depth-topic', 'not a topic!!', rc=2, says='not a valid ROS 2'),
    Case('report_is_a_file', ['replay', '{bag:ours_gt.mcap}', '--checkpoint', '{ck}',
                              '--report', '{file}', '--no-progress'], 2, 'is an existing file'),
    Case('random_checkpoint', ['replay', '{bag:ours_gt.mcap}', '--checkpoint', '{bad_ck}',
                               '--report', '{out}', '--no-progress'], 2,
         'not a readable torch file'),
    replay('ours_gt.mcap', '--mode', 'live', '--domain-id', '300', rc=2, says='0 and 232'),
    replay('ours_gt.mcap', '--mode', 'live', '--rate', 'nan', rc=2, says='--rate'),
    # live: the hard start-up bound, and two good bags through the node
    replay('ours_gt.mcap', '--mode', 'live', '--startup-timeout', '0.5', rc=2,
           says='did not connect within 0.5 s', live=True),
    replay('ours_gt.mcap', '--mode', 'live', '--rate', '0.5', live=True, frames_total=8,
           frames_skipped=0),
    replay('duplicate_stamps.mcap', '--mode', 'live', '--rate', '0.5', live=True,
           frames_total=8, frames_skipped=0),
    # make-bag and eval
    *[Case(f'make_bag_rate_{rate}', ['make-bag', '--dataset', 'synthetic_hand', '--out',
                                     '{tmp}/bad.mcap', '--frames', '2', '--rate', rate],
           2, '--rate') for rate in ('nan', 'inf', '1e-9', '0')],
    Case('make_bag_bad_topic', ['make-bag', '--dataset', 'synthetic_hand', '--out',
                                '{tmp}/bad.mcap', '--depth-topic', 'not a topic!!'], 2,
         'not a valid ROS 2 topic name'),
    Case('make_bag_same_topics', ['make-bag', '--dataset', 'synthetic_hand', '--out',
                                  '{tmp}/bad.mcap', '--depth-topic', '/a', '--info-topic',
                                  '/a'], 2, 'are both /a'),
    *[Case(f'eval_{name}', ['eval', '--dataset', 'synthetic_hand', '--pred', '{tmp}/' + name,
                            '--gt', '{tmp}/gt.npz'], 2, says)
      for name, says in (('empty.npz', 'empty'), ('text.npz', 'no zip'),
                         ('empty.npy', 'empty'), ('unknown_ids.npz', 'match no ground truth'),
                         ('duplicate_ids.npz', 'appears 2 times'))],
    Case('eval_shuffled_ids', ['eval', '--dataset', 'synthetic_hand', '--pred',
                               '{tmp}/shuffled.npz', '--gt', '{tmp}/gt.npz', '--json',
                               '{out}/eval.json'], 0, counts={'eval_mean_error_mm': 5.0}),
]
BY_NAME = {case.name: case for case in CASES}
assert len(BY_NAME) == len(CASES), 'case names must be unique'


def _eval_files(tmp):
    from a2j_ros.core.prediction_io import save_predictions
    rng = np.random.default_rng(3)
    gt = rng.uniform(-80, 80, (6, 14, 3)) + [0, 0, 500]
    ids = np.arange(10, 16)
    save_predictions(tmp / 'gt.npz', 'nyu_hand_14', xyz=gt, frame_ids=ids)
    order = rng.permutation(6)
    pred = gt + [0.0, 5.0, 0.0]
    save_predictions(tmp / 'shuffled.npz', 'nyu_hand_14', xyz=pred[order], frame_ids=ids[order])
    save_predictions(tmp / 'unknown_ids.npz', 'nyu_hand_14', xyz=pred,
                     frame_ids=np.r_[ids[:-1], 99])
    save_predictions(tmp / 'duplicate_ids.npz', 'nyu_hand_14', xyz=pred,
                     frame_ids=np.r_[ids[:-1], ids[0]])
    (tmp / 'empty.npz').write_bytes(b'')
    (tmp / 'text.npz').write_text('not a zip archive')
    (tmp / 'empty.npy').write_bytes(b'')


def _command(case, paths):
    out = paths['runs'] / case.name / 'report'
    values = {'ck': paths['ck'], 'bad_ck': paths['bad_ck'], 'out': out,
              'file': paths['file'], 'tmp': paths['tmp']}
    argv = []
    for arg in case.argv:
        if arg.startswith('{bag:'):
            argv.append(str(paths['bags'][arg[5:-1]]))
        else:
            argv.append(arg.format(**values))
    return argv, out


def _run(case, paths):
    argv, out = _command(case, paths)
    env = dict(os.environ, PYTHONWARNINGS='ignore', MPLBACKEND='Agg')
    exe = shutil.which('a2j')
    cmd = [exe] + argv if exe else [sys.executable, '-m', 'a2j_ros.cli'] + argv
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env,
                          cwd=paths['tmp'])
    folder = paths['runs'] / case.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / 'output.txt').write_text(f'$ a2j {" ".join(argv)}\nexit {proc.returncode}\n'
                                       f'--- stdout\n{proc.stdout}--- stderr\n{proc.stderr}')
    return proc, out


@pytest.fixture(scope='module')
def corpus(request, tmp_path_factory):
    """Write the corpus and start every selected case in the background (2 at a time)."""
    from conftest import save_random_hand_checkpoint
    from hostile_corpus import write_corpus
    tmp = tmp_path_factory.mktemp('corpus')
    paths = {'tmp': tmp, 'runs': tmp / 'corpus_runs', 'bags': write_corpus(tmp / 'bags'),
             'ck': save_random_hand_checkpoint(tmp / 'tiny.pt'), 'bad_ck': tmp / 'random.pt',
             'file': tmp / 'a_file.txt'}
    paths['bad_ck'].write_bytes(np.random.default_rng(1).bytes(4096))
    paths['file'].write_text('a user file\n')
    _eval_files(tmp)
    selected = [item.callspec.params['name'] for item in request.session.items
                if getattr(item, 'originalname', '') == 'test_corpus_case'
                and hasattr(item, 'callspec')]
    pool = ThreadPoolExecutor(max_workers=2)
    # live cases first: they wait on DDS and a node process more than on the CPU
    order = sorted(selected, key=lambda n: not BY_NAME[n].live)
    futures = {name: pool.submit(_run, BY_NAME[name], paths) for name in order}
    yield paths, futures
    pool.shutdown(wait=True)


def _check_counts(case, out, proc):
    if 'eval_mean_error_mm' in case.counts:
        report = json.loads((out / 'eval.json').read_text())
        assert report['mean_error_mm'] == pytest.approx(case.counts['eval_mean_error_mm'],
                                                        abs=1e-3)
        return
    report = json.loads((out / 'report.json').read_text())
    speed = report['speed']
    for key in ('frames_total', 'frames_answered', 'frames_skipped'):
        if key in case.counts:
            assert speed[key] == case.counts[key], (key, speed)
    if 'skipped_messages' in case.counts:
        assert len(report['problems']['skipped_messages']) == case.counts['skipped_messages']
    if 'accuracy_instances' in case.counts:
        assert report['accuracy']['instances_evaluated'] == case.counts['accuracy_instances']
    for name in ('report', 'predictions'):
        assert Path(report['files'][name]).is_file()
    if report['mode'] == 'live':
        pairing = report['live_pairing']
        assert speed['frames_answered'] >= 1 and pairing['answers_unpaired'] == 0
        assert speed['frames_answered'] + speed['frames_dropped'] == speed['frames_total']
        assert speed['latency_ms']['count'] == speed['frames_answered']
        assert min(0, speed['latency_ms']['p50']) == 0      # never negative
    skipped = report['problems']['skipped_frames']
    if skipped:         # the summary names the bag, topic and frame of the first one
        first = skipped[0]
        assert f"{first['topic']} frame {first['frame']}:" in proc.stdout


@pytest.mark.parametrize('name', list(BY_NAME))
def test_corpus_case(corpus, name):
    case = BY_NAME[name]
    paths, futures = corpus
    if case.live:
        pytest.importorskip('rclpy')
        pytest.importorskip('a2j_ros_msgs.msg')
    proc, out = futures[name].result()
    text = proc.stdout + proc.stderr
    assert 'Traceback' not in text, text
    for log in (paths['runs'] / name).rglob('*.log'):       # the pose node's, live
        assert 'Traceback' not in log.read_text(), log
    assert proc.returncode == case.rc, text
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if ': error: ' in line]
    assert all(': warning: ' in line for line in lines if line not in errors), proc.stderr
    if case.rc:
        assert len(errors) == 1, proc.stderr
    if case.says:
        assert case.says in proc.stderr, proc.stderr
    if case.rc == 0:
        _check_counts(case, out, proc)
