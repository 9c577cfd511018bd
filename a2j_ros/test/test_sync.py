"""The approximate-time synchroniser (our own; message_filters' rules)."""
from types import SimpleNamespace

import pytest

from a2j_ros.ros.sync import ApproximateTimeSync, stamp_ns


def _msg(t, tag=''):
    sec = int(t)
    stamp = SimpleNamespace(sec=sec, nanosec=int(round((t - sec) * 1e9)))
    return SimpleNamespace(header=SimpleNamespace(stamp=stamp), tag=tag)


def _sync(slop=0.05, queue=5):
    pairs = []
    sync = ApproximateTimeSync(2, queue, slop, lambda a, b: pairs.append((a.tag, b.tag)))
    return sync, pairs


def test_stamp_ns():
    assert stamp_ns(_msg(3.25)) == 3_250_000_000


def test_pairs_within_slop_in_either_order():
    sync, pairs = _sync()
    sync.add(0, _msg(1.00, 'd1'))
    assert pairs == []
    sync.add(1, _msg(1.02, 'r1'))
    assert pairs == [('d1', 'r1')]
    sync.add(1, _msg(2.00, 'r2'))
    sync.add(0, _msg(1.99, 'd2'))
    assert pairs[-1] == ('d2', 'r2')
    assert sync.pending() == [0, 0]        # matched messages leave the queues


def test_outside_slop_never_pairs():
    sync, pairs = _sync(slop=0.01)
    sync.add(0, _msg(1.00, 'd'))
    sync.add(1, _msg(1.05, 'r'))
    assert pairs == [] and sync.pending() == [1, 1]


def test_closest_partner_is_chosen():
    sync, pairs = _sync(slop=0.1)
    sync.add(1, _msg(0.95, 'r_far'))
    sync.add(1, _msg(1.01, 'r_near'))
    sync.add(0, _msg(1.00, 'd'))
    assert pairs == [('d', 'r_near')]
    assert sync.pending() == [0, 1]


def test_queue_size_drops_the_oldest():
    sync, pairs = _sync(slop=0.001, queue=2)
    for t in (1.0, 2.0, 3.0):
        sync.add(0, _msg(t, f'd{t:.0f}'))
    assert sync.pending() == [2, 0]
    sync.add(1, _msg(1.0, 'r1'))           # its partner was dropped from the full queue
    assert pairs == []
    sync.add(1, _msg(3.0, 'r3'))
    assert pairs == [('d3', 'r3')]


def test_bad_arguments():
    with pytest.raises(ValueError):
        ApproximateTimeSync(1, 5, 0.1, print)
    with pytest.raises(ValueError):
        ApproximateTimeSync(2, 0, 0.1, print)
    with pytest.raises(ValueError):
        ApproximateTimeSync(2, 5, -1.0, print)
