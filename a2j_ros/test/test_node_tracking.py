"""The pose node tracking a moving hand over the real middleware (DDS, in-process).

A short stretch of the hand_drift sequence goes in frame by frame; out come skeletons whose
Skeleton.id is one track id from the third frame on (track_min_hits 3), unsmoothed copies
on skeletons_raw, markers in the track's namespace, a runtime switch of the smoothing, the
track's markers deleted after its timeout (stamp time) and a new id when the hand returns.
"""
from pathlib import Path

import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
msgs = pytest.importorskip('a2j_ros_msgs.msg')
from node_harness import camera_info, Harness  # noqa: E402
from visualization_msgs.msg import Marker  # noqa: E402

from a2j_ros.core.synthetic.sequences import open_sequence  # noqa: E402
from a2j_ros.ros.image_conversion import depth_mm_to_image  # noqa: E402

DEMO_CHECKPOINT = Path(__file__).resolve().parents[1] / 'data' / 'demo_hand_r18.pt'


def _joints(skeleton):
    return np.array([(p.x, p.y, p.z) for p in skeleton.joints]) * 1000.0


def test_tracked_ids_raw_topic_smoothing_switch_and_timeout(ros_context):
    from a2j_ros_msgs.msg import SkeletonArray
    seq = open_sequence('hand_drift', num_frames=8)
    h = Harness(ros_context, str(DEMO_CHECKPOINT), tracking_enabled=True,
                skeletons_raw_enabled=True, tf_enabled=True, track_timeout_s=0.5)
    raw = []
    h.peer.create_subscription(SkeletonArray, 'skeletons_raw', raw.append, 10)
    try:
        assert h.connected(), 'node did not come up'
        assert h.wait(lambda: h.peer.count_publishers('skeletons_raw') > 0)

        def send(depth, t, info=False):
            count = len(h.skeletons)
            msg = depth_mm_to_image(depth)
            msg.header.stamp.nanosec = int(round((t % 1) * 1e9))
            h.send(msg, camera_info(seq.camera) if info else None, stamp_sec=int(t))
            assert h.wait(lambda: len(h.skeletons) > count, 60.0), f'no skeletons at {t} s'
            assert h.wait(lambda: len(raw) >= len(h.skeletons), 10.0)
            return h.skeletons[-1], raw[-1]

        ids, gaps = [], []
        for i in range(len(seq)):
            frame = seq[i]
            out, out_raw = send(frame.depth_mm, 100.0 + frame.stamp_s, info=i == 0)
            ids.append([s.id for s in out.skeletons])
            if out.skeletons:
                assert [s.id for s in out_raw.skeletons] == ids[-1]
                truth = frame.tracks[0].xyz_mm
                assert np.linalg.norm(_joints(out.skeletons[0]) - truth, axis=1).mean() < 40.0
                gaps.append(np.abs(_joints(out.skeletons[0])
                                   - _joints(out_raw.skeletons[0])).max())
        assert ids == [[], [], [1], [1], [1], [1], [1], [1]]
        assert max(gaps[1:]) > 0.1               # smoothed output differs from the raw one
        assert h.wait(lambda: any(m.ns == 'a2j_1' for a in h.markers for m in a.markers))

        # smoothing switched off at run time: the next output is the raw skeleton
        assert all(r.successful for r in h.set_parameters(smoothing_enabled=False))
        out, out_raw = send(seq[7].depth_mm, 100.0 + seq[7].stamp_s + 1 / 30)
        np.testing.assert_allclose(_joints(out.skeletons[0]), _joints(out_raw.skeletons[0]))

        # the hand leaves for 1 s of stamp time: track 1 is deleted with its markers
        send(np.zeros_like(seq[0].depth_mm), 101.5)
        assert h.wait(lambda: any(m.action in (Marker.DELETE, Marker.DELETEALL)
                                  for m in h.markers[-1].markers))
        # and comes back: a new id once confirmed again
        got = [send(seq[k].depth_mm, 102.0 + k / 30)[0] for k in range(3)]
        assert [[s.id for s in g.skeletons] for g in got] == [[], [], [2]]
        try:
            import tf2_msgs.msg  # noqa: F401
        except ImportError:
            assert h.logged('tf2_msgs is not installed')
    finally:
        h.close()
