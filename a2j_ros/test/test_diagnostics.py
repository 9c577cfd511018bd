"""Node counters and their DiagnosticArray."""
import pytest

from a2j_ros.ros.diagnostics import NodeStats


class _Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_counters_rate_and_latency():
    clock = _Clock()
    stats = NodeStats(clock)
    for i in range(11):
        stats.frame_received()
        stats.frame_done(0.05, 20.0, {'net': 15.0})
        clock.t += 0.1
    stats.frame_dropped(3)
    stats.error('bad_image', 'encoding rgb8')
    snap = stats.snapshot()
    assert snap['received'] == 11 and snap['processed'] == 11 and snap['dropped'] == 3
    assert snap['rate_hz'] == pytest.approx(10.0, rel=0.1)
    assert snap['latency_ms'] == pytest.approx(50.0)
    assert snap['errors']['bad_image'] == 1 and 'rgb8' in snap['last_error']
    assert snap['stage_ms']['net'] == pytest.approx(15.0)


def test_diagnostic_array_levels():
    from builtin_interfaces.msg import Time
    from diagnostic_msgs.msg import DiagnosticStatus

    from a2j_ros.ros.diagnostics import diagnostic_array
    clock = _Clock()
    stats = NodeStats(clock)
    msg = diagnostic_array(stats.snapshot(), 'pose', 'cpu', Time(sec=1))
    assert msg.status[0].level == DiagnosticStatus.STALE
    stats.frame_received()
    stats.frame_done(0.01, 5.0)
    first = stats.snapshot()
    msg = diagnostic_array(first, 'pose', 'cpu', Time(sec=2), {'device': 'cpu'})
    status = msg.status[0]
    values = {kv.key: kv.value for kv in status.values}
    assert status.level == DiagnosticStatus.OK and status.hardware_id == 'cpu'
    assert values['frames_processed'] == '1' and values['device'] == 'cpu'
    assert values['errors_no_camera_info'] == '0'
    stats.frame_received()
    stats.error('no_camera_info', 'none yet')
    msg = diagnostic_array(stats.snapshot(), 'pose', 'cpu', Time(sec=3), previous=first)
    assert msg.status[0].level == DiagnosticStatus.ERROR      # nothing processed since
    stats.frame_done(0.01, 5.0)
    stats.error('rejected_rois', 'outside')
    msg = diagnostic_array(stats.snapshot(), 'pose', 'cpu', Time(sec=4), previous=first)
    assert msg.status[0].level == DiagnosticStatus.WARN
