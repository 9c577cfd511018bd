"""Crops that follow tracks (core.follow) and the PoseTracker that runs them (core.pose_tracker).

The network is replaced by a predictor that puts every joint at the crop's centre pixel,
so a skeleton lands where its crop was centred and every placement can be checked by hand.
"""
import numpy as np
import pytest
import torch

from a2j_ros.core.camera import PinholeCamera
from a2j_ros.core.config import CropConfig
from a2j_ros.core.follow import FollowSettings, hand_anchor, plan_crops
from a2j_ros.core.pipeline import PosePipeline
from a2j_ros.core.pose_tracker import PoseTracker, TrackingSettings
from a2j_ros.core.tracking import SmoothingSettings, TrackerSettings

CAMERA = PinholeCamera(fx=200.0, fy=200.0, cx=160.0, cy=120.0, width=320, height=240)


class CentrePredictor:
    """Every joint at the crop's centre pixel, depth target 0 (= the centre's depth)."""

    def __init__(self):
        self.batches = []

    def predict(self, x):
        n, _, size, _ = x.shape
        self.batches.append(n)
        uvd = torch.zeros(n, 14, 3)
        uvd[..., :2] = size / 2.0
        return {'uvd': uvd, 'confidence': torch.full((n, 14), 0.8)}


def scene(*blobs):
    """Depth 1200 mm with 40 x 40 px squares at 500 mm whose left-top corners are given."""
    depth = np.full((240, 320), 1200.0, np.float32)
    for x, y in blobs:
        depth[y:y + 40, x:x + 40] = 500.0
    return depth


def test_hand_anchor_projects_the_centre_and_needs_depth_there():
    depth = scene((140, 100))
    centre = CAMERA.unproject(np.array([160.0, 120.0, 500.0]))
    anchor, roi = hand_anchor(centre, CAMERA, 110.0, depth, 150.0, 0.05)
    np.testing.assert_allclose(anchor, [160.0, 120.0, 500.0])
    # cube +-110 mm at 500 mm = +-44 px around (160, 120)
    assert roi == (116, 76, 89, 89)
    # nothing within 150 mm of 500 mm there any more (the hand left): not followed
    assert hand_anchor(centre, CAMERA, 110.0, scene(), 150.0, 0.05) is None
    assert hand_anchor(centre * [1, 1, -1], CAMERA, 110.0, depth, 150.0, 0.05) is None


def _followed(tid, u, v, d=500.0):
    centre = CAMERA.unproject(np.array([u, v, d]))
    return {tid: (np.array([u, v, d]), (int(u) - 40, int(v) - 40, 80, 80), centre)}


def test_plan_new_instance_reanchor_and_merged_blob():
    settings = FollowSettings(reanchor_mm=50.0)
    followed = {**_followed(1, 100.0, 120.0), **_followed(2, 200.0, 120.0)}
    kept = [(0, (80, 100, 40, 40)),           # contains track 1, centre 5 px = 12.5 mm off
            (1, (260, 100, 40, 40))]          # contains no track: a new instance
    anchors = np.array([[105.0, 120.0, 500.0], [280.0, 120.0, 500.0]])
    plan = plan_crops(followed, kept, anchors, [0.9, 0.7], 'hand', CAMERA, scene(), settings)
    assert plan.sources == [('roi', 1), ('track', 1), ('track', 2)]
    np.testing.assert_allclose(plan.anchors[1], [100.0, 120.0, 500.0])   # kept its own
    assert plan.scores[0] == pytest.approx(0.7)
    # the ROI centre 30 px = 75 mm off track 1's prediction: track 1 re-anchors on it
    plan = plan_crops(followed, [(0, (80, 100, 60, 40))], np.array([[130.0, 120.0, 500.0]]),
                      [1.0], 'hand', CAMERA, scene(), settings)
    assert plan.sources == [('track', 1), ('track', 2)]
    np.testing.assert_allclose(plan.anchors[0], [130.0, 120.0, 500.0])
    # one ROI around both tracks (two hands merged into one blob): not used at all
    plan = plan_crops(followed, [(0, (60, 80, 200, 80))], np.array([[150.0, 120.0, 500.0]]),
                      [1.0], 'hand', CAMERA, scene(), settings)
    assert plan.sources == [('track', 1), ('track', 2)]
    np.testing.assert_allclose(plan.anchors[1], [200.0, 120.0, 500.0])


def _tracker(predictor, **follow):
    pipe = PosePipeline(predictor, CropConfig(mode='hand', input_size=32), 'nyu_hand_14',
                        centre_depth_offset_mm=0.0)
    settings = TrackingSettings(
        tracker=TrackerSettings(min_hits=2, timeout_s=0.3,
                                smoothing=SmoothingSettings(enabled=False)),
        follow=FollowSettings(**follow))
    return PoseTracker(pipe, settings)


def test_pose_tracker_follows_confirms_and_times_out():
    predictor = CentrePredictor()
    tracker = _tracker(predictor)
    sources, ids = [], []
    for k in range(4):            # the hand moves 4 px per frame to the right
        x = 100 + 4 * k
        frame = tracker.process(scene((x, 100)), CAMERA, 0.1 * k, [[x, 100, 40, 40]])
        sources.append(frame.sources)
        ids.append([r.track_id for r in frame.results])
    # frame 0: tentative (nothing shown); frame 1: confirmed; from frame 2 the crop follows
    assert ids == [[], [1], [1], [1]]
    assert sources[:2] == [[('roi', 0)]] * 2 and sources[2:] == [[('track', 1)]] * 2
    assert predictor.batches == [1, 1, 1, 1]        # the covered ROI is not cropped again
    assert tracker.process(scene(), CAMERA, 0.5, []).lost_ids == []    # 0.2 s: alive
    assert tracker.process(scene(), CAMERA, 0.61, []).lost_ids == [1]  # 0.31 s: gone
    tracker.process(scene((100, 100)), CAMERA, 0.7, [[100, 100, 40, 40]])
    frame = tracker.process(scene((100, 100)), CAMERA, 0.8, [[100, 100, 40, 40]])
    assert [r.track_id for r in frame.results] == [2]                  # a new id


def test_refine_runs_a_second_pass_and_off_is_the_per_frame_pipeline():
    predictor = CentrePredictor()
    tracker = _tracker(predictor, refine_iterations=1, enabled=False)
    tracker.process(scene((100, 100)), CAMERA, 0.0, [[100, 100, 40, 40]])
    assert predictor.batches == [1, 1]
    plain = CentrePredictor()
    off = _tracker(plain)
    off.settings.enabled = False
    frame = off.process(scene((100, 100), (200, 100)), CAMERA, 0.0,
                        [[100, 100, 40, 40], [200, 100, 40, 40]])
    direct = off.pipeline.estimate_frame(scene((100, 100), (200, 100)), CAMERA,
                                         [[100, 100, 40, 40], [200, 100, 40, 40]])
    assert [r.track_id for r in frame.results] == [None, None]
    for a, b in zip(frame.results, direct.results):
        np.testing.assert_array_equal(a.joints_xyz_mm, b.joints_xyz_mm)
