"""Live replay: the bag played over DDS through the pose node, with /clock (needs rclpy)."""
import json
import os

from conftest import save_random_hand_checkpoint
import numpy as np
import pytest

from a2j_ros.bag.make_bag import make_bag
from a2j_ros.bag.offline_replay import replay_offline
from a2j_ros.bag.report import write_report
from a2j_ros.bag.topics import BagTopics
from a2j_ros.ros.live_replay import node_arguments, replay_live


def _domain():
    """Return a DDS domain of this test process, apart from other tests on the machine."""
    return 100 + os.getpid() % 90


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """Save a random ResNet-18 hand model (64 px input) like a trained one."""
    return save_random_hand_checkpoint(tmp_path_factory.mktemp('ck') / 'tiny.pt', seed=1)


@pytest.fixture(scope='module')
def bag(tmp_path_factory):
    path = tmp_path_factory.mktemp('bag') / 'hand.mcap'
    return make_bag('synthetic_hand', path, frames=4, rate_hz=5.0, encoding='32FC1',
                    pad_bytes=4, progress=False)['path']


def test_node_arguments_remap_the_bag_topics():
    args = node_arguments(BagTopics(depth='/rs/depth', camera_info='/rs/info', roi=None),
                          '/x/ck.pt', 'nearest', 'cpu', extra_params={'depth_max_m': 1.2})
    assert args[0] == '--ros-args'
    pairs = list(zip(args[1::2], args[2::2]))
    assert ('-r', 'depth/image:=/rs/depth') in pairs
    assert ('-r', 'depth/camera_info:=/rs/info') in pairs
    assert ('-p', 'use_sim_time:=true') in pairs and ('-p', 'roi_source:=nearest') in pairs
    assert ('-p', 'depth_max_m:=1.2') in pairs and ('-p', 'checkpoint:=/x/ck.pt') in pairs
    assert not any(v.startswith('rois:=') for _, v in pairs)


@pytest.mark.parametrize('node', ['inprocess', 'subprocess'])
def test_live_replay_matches_offline(bag, checkpoint, tmp_path, node):
    # Offline replay estimates each frame on its own: the node's tracker (on by default,
    # One Euro smoothing and a birth delay) is switched off to compare the same numbers.
    record = replay_live(bag, checkpoint, BagTopics(), roi_source='topic', rate=0.5,
                         node=node, domain_id=_domain(), log_dir=tmp_path,
                         startup_timeout_s=120.0, drain_s=2.0, progress=False,
                         extra_params={'tracking_enabled': False})
    assert record.mode == 'live' and len(record.frames) == 4
    answered = [f for f in record.frames if f.received]
    log = tmp_path / 'pose_node.log'
    assert answered, 'no skeletons came back; node log:\n' + (
        log.read_text()[-3000:] if log.exists() else '(in-process node)')
    offline = replay_offline(bag, checkpoint, progress=False)
    for outcome in answered:
        assert outcome.latency_s > 0
        reference = offline.frames[outcome.index]
        # The node runs the same pipeline on the same depth: the same joints. In-process only
        # float rounding differs (metres on the wire); a node process may run the network
        # with another thread count (other oneDNN kernels: ~0.1 mm on this random model).
        atol = 1e-3 if node == 'inprocess' else 0.5
        np.testing.assert_allclose(outcome.pred_xyz_mm, reference.pred_xyz_mm, atol=atol)
        np.testing.assert_allclose(outcome.pred_uvd, reference.pred_uvd, atol=atol)
        assert outcome.rois.tolist() == reference.rois.tolist()
    report = write_report(record, tmp_path / 'report')
    speed = json.loads((tmp_path / 'report' / 'report.json').read_text())['speed']
    assert speed['frames_total'] == 4
    assert speed['frames_answered'] + speed['frames_dropped'] == 4
    assert speed['latency_ms']['p50'] > 0
    assert report['accuracy']['instances_evaluated'] == len(answered)
    if node == 'subprocess':
        assert 'configured' in (tmp_path / 'pose_node.log').read_text()
