"""Delivery bench: the summary arithmetic, the child environment and one tiny run over DDS."""
import os

import pytest

from a2j_ros.core.errors import InputError
import delivery_bench as db  # tools/ is on sys.path: pytest puts the test's folder there

TINY = db.BenchCase(width=64, height=48, frames=5, rate=50.0, pub_reliability='reliable',
                    sub_reliability='reliable')


def _rx(seq, stamp, recv, nbytes=TINY.frame_bytes, ok=True):
    return (seq, stamp, recv, nbytes, ok)


def test_summarize_counts_losses_duplicates_and_corrupt_frames():
    ms = 1_000_000
    stamps = [1000 * ms + i * 20 * ms for i in range(5)]
    received = [_rx(0, stamps[0], stamps[0] + 2 * ms),
                _rx(1, stamps[1], stamps[1] + 4 * ms),
                _rx(1, stamps[1], stamps[1] + 5 * ms),              # duplicate
                _rx(3, stamps[3], stamps[3] + 6 * ms, ok=False),    # payload mismatch
                _rx(4, stamps[4], stamps[4] + 8 * ms, nbytes=10),   # truncated
                _rx(9, stamps[4], stamps[4] + 1 * ms)]              # never sent
    s = db.summarize(TINY, stamps, received)
    assert (s['sent'], s['received'], s['lost']) == (5, 2, 3)
    assert (s['duplicates'], s['corrupt']) == (1, 3)
    assert s['delivered'] == pytest.approx(0.4)
    assert s['latency_p50_ms'] == pytest.approx(3.0)
    assert s['latency_p95_ms'] == pytest.approx(3.9)
    assert s['latency_max_ms'] == pytest.approx(4.0)
    # 2 frames delivered between the first publish and the last useful receive (24 ms)
    assert s['throughput_mbs'] == pytest.approx(2 * TINY.frame_bytes / 1e6 / 0.024)


def test_summarize_of_nothing_received():
    s = db.summarize(TINY, [10, 20, 30], [])
    assert (s['received'], s['lost'], s['delivered']) == (0, 3, 0.0)
    assert s['latency_p50_ms'] is None and s['throughput_mbs'] is None


def test_combine_runs_pools_counts_and_keeps_the_spread():
    a = db.summarize(TINY, [0, 10], [_rx(0, 0, 2_000_000), _rx(1, 10, 4_000_010)])
    b = db.summarize(TINY, [0, 10], [_rx(0, 0, 6_000_000)])
    for run in (a, b):
        run.update(case={'width': 64}, frame_bytes=TINY.frame_bytes, matched=True, error=None)
    c = db.combine_runs([a, b])
    assert (c['runs'], c['sent'], c['received'], c['lost']) == (2, 4, 3, 1)
    assert (c['delivered_min'], c['delivered_max']) == (0.5, 1.0)
    assert c['latency_p50_ms'] == pytest.approx(4.0)


@pytest.mark.parametrize('change, word', [
    ({'encoding': 'jpeg'}, 'encoding'), ({'width': 0}, 'too small'),
    ({'width': 1, 'height': 1, 'encoding': 'mono8'}, 'too small'),
    ({'frames': 0}, 'frames'), ({'rate': -1.0}, 'rate'),
    ({'sub_reliability': 'sometimes'}, 'sub_reliability'), ({'transport': 'TCP'}, 'transport'),
    ({'transport': 'UDPv4?x=1'}, 'LARGE_DATA'), ({'pub_transport': 'udp'}, 'transport'),
    ({'depth': 0}, 'depth'),
    ({'discovery': 'subnet'}, 'discovery')])
def test_bad_case_raises_input_error_naming_it(change, word):
    with pytest.raises(InputError, match=word):
        db.BenchCase(**change).validate()


def test_child_env_loopback_profile_and_transport(tmp_path):
    base = {'FASTDDS_BUILTIN_TRANSPORTS': 'LARGE_DATA', 'ROS_LOCALHOST_ONLY': '1',
            'FASTDDS_DEFAULT_PROFILES_FILE': '/user/profile.xml', 'PATH': '/bin'}
    env = db.child_env(db.BenchCase(transport='default'), 42, tmp_path, base)
    assert 'FASTDDS_BUILTIN_TRANSPORTS' not in env and 'ROS_LOCALHOST_ONLY' not in env
    assert env['ROS_DOMAIN_ID'] == '42' and env['PATH'] == '/bin'
    assert env['ROS_AUTOMATIC_DISCOVERY_RANGE'] == 'SYSTEM_DEFAULT'
    profile = env['FASTDDS_DEFAULT_PROFILES_FILE']
    assert os.path.dirname(profile) == str(tmp_path)
    text = open(profile).read()
    assert '127.0.0.1' in text and 'initialPeersList' in text and '239.' not in text

    env = db.child_env(db.BenchCase(transport='SHM'), 42, tmp_path, base)
    assert env['FASTDDS_BUILTIN_TRANSPORTS'] == 'SHM'
    assert 'FASTDDS_DEFAULT_PROFILES_FILE' not in env        # SHM has no UDP locators

    env = db.child_env(db.BenchCase(transport='LARGE_DATA', discovery='ros_localhost'), 7,
                       tmp_path, base)
    assert env['ROS_AUTOMATIC_DISCOVERY_RANGE'] == 'LOCALHOST'
    assert env['FASTDDS_BUILTIN_TRANSPORTS'] == 'LARGE_DATA'
    assert 'FASTDDS_DEFAULT_PROFILES_FILE' not in env

    mixed = db.BenchCase(transport='LARGE_DATA', pub_transport='default')
    assert db.child_env(mixed, 7, tmp_path, base, role='sub')['FASTDDS_BUILTIN_TRANSPORTS'] \
        == 'LARGE_DATA'
    assert 'FASTDDS_BUILTIN_TRANSPORTS' not in db.child_env(mixed, 7, tmp_path, base, role='pub')


def test_matrix_cases_cover_sizes_qos_and_transports():
    cases = db.matrix_cases(db.BenchCase(frames=7))
    assert len(cases) == len(db.MATRIX_SIZES) * 2 * len(db.MATRIX_TRANSPORTS)
    assert {(c.width, c.height) for c in cases} == set(db.MATRIX_SIZES)
    assert {c.sub_reliability for c in cases} == {'best_effort', 'reliable'}
    assert {(c.transport, c.discovery) for c in cases} == set(db.MATRIX_TRANSPORTS)
    assert all(c.frames == 7 for c in cases)


def test_results_table_has_a_row_per_result():
    run = db.summarize(TINY, [0], [_rx(0, 0, 1_000_000)])
    run.update(case=vars(TINY).copy(), frame_bytes=TINY.frame_bytes, error=None)
    failed = dict(run, error='no match within 3 s (discovery failed)')
    lines = db.format_results([run, failed]).splitlines()
    assert len(lines) == 4
    assert '| 1 / 1 |' in lines[2] and lines[3].endswith('(discovery failed) |')


def test_main_reports_bad_input_in_one_line(capsys):
    assert db.main(['--width', '-3']) == 2
    err = capsys.readouterr().err
    assert err.startswith('delivery_bench: error:') and 'too small' in err


def test_tiny_reliable_run_delivers_every_frame():
    result = db.run_case(TINY, db.Timeouts(discovery=10.0))
    assert result['error'] is None and result['matched']
    assert (result['sent'], result['received'], result['lost']) == (5, 5, 0)
    assert result['corrupt'] == 0 and result['duplicates'] == 0
    assert result['all_acked'] is True
    assert 0 <= result['latency_p50_ms'] <= result['latency_max_ms']
    assert result['throughput_mbs'] > 0


def test_incompatible_qos_is_reported_not_raised():
    case = db.BenchCase(width=64, height=48, frames=2, rate=50.0,
                        pub_reliability='best_effort', sub_reliability='reliable')
    result = db.run_case(case, db.Timeouts(discovery=2.0, shutdown=3.0))
    assert not result['matched'] and 'incompatible QoS' in result['error']
    assert (result['received'], result['lost']) == (0, 2)
