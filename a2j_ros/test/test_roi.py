"""Detector-free ROI sources and the hand crop centre (core.roi_search, core.roi)."""
import numpy as np
import pytest

from a2j_ros.core.camera import PinholeCamera
from a2j_ros.core.errors import InputError
from a2j_ros.core.roi import as_rois, clip_roi, full_frame_roi, hand_centre
from a2j_ros.core.roi_search import (
    _low_percentile,
    find_rois,
    largest_body_rois,
    nearest_hand_rois,
    RoiSearch,
)


def _scene():
    """Return a wall at 1 m, a 'hand' (20x30 px at 400 mm) and an 'object' at 700 mm."""
    depth = np.full((120, 160), 1000.0, np.float32)
    depth[40:70, 50:70] = 400.0          # rows 40..69, cols 50..69
    depth[10:30, 120:150] = 700.0
    return depth


def test_nearest_hand_is_the_nearest_blob():
    rois, scores = nearest_hand_rois(_scene(), RoiSearch(max_depth_mm=1500))
    assert rois.tolist() == [[50, 40, 20, 30]]
    assert scores.tolist() == [1.0]


def test_nearest_ignores_speckle_and_out_of_range_pixels():
    depth = _scene()
    depth[5, 5] = 150.0                  # one flying pixel nearer than the hand
    depth[100:110, 10:20] = 50.0         # nearer than min_depth: ignored
    depth[60:62, 100:102] = np.nan
    rois, _ = nearest_hand_rois(depth, RoiSearch(max_depth_mm=1500, min_pixels=20))
    assert rois.tolist() == [[50, 40, 20, 30]]


def test_two_hands_in_the_band_nearest_first():
    depth = _scene()
    depth[80:100, 100:115] = 380.0
    rois, scores = nearest_hand_rois(depth, RoiSearch(max_depth_mm=1500, max_instances=2))
    assert rois.tolist() == [[100, 80, 15, 20], [50, 40, 20, 30]]
    assert scores.sum() == pytest.approx(1.0)
    one, _ = nearest_hand_rois(depth, RoiSearch(max_depth_mm=1500, max_instances=1))
    assert one.tolist() == [[100, 80, 15, 20]]


def test_nearest_nothing_valid_gives_no_roi():
    rois, scores = nearest_hand_rois(np.zeros((50, 60), np.float32))
    assert rois.shape == (0, 4) and scores.shape == (0,)


def test_largest_body_blob():
    depth = np.zeros((120, 160), np.float32)
    depth[20:110, 60:90] = 3000.0        # the person
    depth[5:15, 5:15] = 2000.0           # a small object
    rois, scores = largest_body_rois(depth, RoiSearch(max_depth_mm=5000, max_instances=2,
                                                      min_pixels=20))
    assert rois.tolist() == [[60, 20, 30, 90], [5, 5, 10, 10]]
    assert scores[0] > scores[1]


def test_find_rois_dispatch_and_full_frame():
    depth = _scene()
    assert find_rois(depth, 'full_frame', 'hand')[0].tolist() == [[0, 0, 160, 120]]
    assert full_frame_roi(10, 20)[0].tolist() == [[0, 0, 20, 10]]
    assert find_rois(depth, 'nearest', 'hand', RoiSearch(max_depth_mm=1500))[0].shape == (1, 4)
    with pytest.raises(InputError, match='topic'):
        find_rois(depth, 'topic', 'hand')
    with pytest.raises(InputError, match='mode'):
        find_rois(depth, 'nearest', 'foot')
    with pytest.raises(InputError, match='2-D'):
        find_rois(np.zeros(5), 'nearest', 'hand')


def test_clip_roi():
    assert clip_roi((10, 10, 20, 20), 100, 50) == (10, 10, 20, 20)
    assert clip_roi((-5, 40, 20, 20), 100, 50) == (0, 40, 15, 10)
    assert clip_roi((200, 10, 20, 20), 100, 50) is None
    assert clip_roi((10, 10, 0, 20), 100, 50) is None
    assert clip_roi((10, 10, -3, 20), 100, 50) is None


def test_as_rois_shapes_and_errors():
    assert as_rois(None).shape == (0, 4)
    assert as_rois([1, 2, 3, 4]).tolist() == [[1, 2, 3, 4]]
    with pytest.raises(InputError, match='shape'):
        as_rois([[1, 2, 3]])
    with pytest.raises(InputError, match='non-finite'):
        as_rois([[1, 2, np.nan, 4]])


def test_hand_centre_uses_the_nearest_band_of_the_roi():
    depth = _scene()
    centre = hand_centre(depth, (45, 35, 30, 40), band_mm=150.0, depth_offset_mm=15.0)
    # ROI centre pixel, median of the hand band (the wall at 1 m is outside it) + offset
    assert centre.tolist() == pytest.approx([45 + 29 / 2, 35 + 39 / 2, 415.0])
    assert hand_centre(np.zeros((20, 20), np.float32), (0, 0, 10, 10)) is None


def _hand_and_arm(height=480, width=640):
    """Return a wall at 1.2 m with a 'hand' dome at 450 mm on an 'arm' from the bottom edge.

    The hand is a sphere cap of 70 px (65 mm) radius centred at pixel (320, 160); the arm a
    half cylinder 60 px wide rising from 530 mm at the bottom edge to 480 mm at the hand, so
    arm and hand are one blob of the nearest depth band (a camera with f = 480 px).
    """
    depth = np.full((height, width), 1200.0, np.float32)
    rows, cols = np.mgrid[0:height, 0:width]
    across = np.clip(np.abs(cols - 320) / 30.0, 0.0, 1.0)
    arm = (np.abs(cols - 320) < 30) & (rows > 200)
    depth[arm] = (480.0 + 50.0 * (rows[arm] - 200) / (height - 200)
                  + 28.0 * (1.0 - np.sqrt(1.0 - across[arm] ** 2)))
    radius = np.hypot(rows - 160, cols - 320) / 70.0
    hand = radius < 1.0
    depth[hand] = 450.0 + 60.0 * (1.0 - np.sqrt(1.0 - radius[hand] ** 2))
    return depth


CAMERA_VGA = PinholeCamera(fx=480.0, fy=480.0, cx=319.5, cy=239.5, width=640, height=480)


@pytest.mark.parametrize('max_instances', [1, 2, 3])
def test_low_resolution_search_gives_the_full_resolution_blobs(max_instances):
    rng = np.random.default_rng(1)
    depth = _hand_and_arm()
    depth[40:120, 500:560] = 455.0                     # a second blob in the band
    depth[rng.integers(0, 480, 300), rng.integers(0, 640, 300)] = 0.0      # holes
    depth[300:301, 100:200] = 460.0                    # one-pixel-thin: between samples
    depth[10:60, 10:20] = 460.0
    depth[10:60, 21:30] = 460.0                        # two blobs one pixel apart
    exact = nearest_hand_rois(depth, RoiSearch(max_instances=max_instances, stride=1))
    for stride in (0, 3, 4, 7):
        fast = nearest_hand_rois(depth, RoiSearch(max_instances=max_instances, stride=stride))
        assert fast[0].tolist() == exact[0].tolist()
        assert fast[1] == pytest.approx(exact[1])


def test_low_percentile_is_exact():
    rng = np.random.default_rng(2)
    depth = rng.uniform(200, 1400, (120, 160)).astype(np.float32)
    depth[rng.random(depth.shape) < 0.2] = np.nan
    valid = np.isfinite(depth)
    count = int(valid.sum())
    for q in (0.0, 0.5, 2.0, 10.0):
        expected = np.percentile(depth[valid], q)
        for sample in (depth[::4, ::4][valid[::4, ::4]], np.zeros(0, np.float32)):
            assert _low_percentile(depth, valid, count, q, sample) == pytest.approx(expected)


def test_camera_boxes_the_hand_not_the_arm():
    depth = _hand_and_arm()
    blob, _ = nearest_hand_rois(depth, RoiSearch(hand_radius_mm=60.0))
    assert blob.tolist() == [[251, 91, 139, 389]]        # hand + arm down to the edge
    rois, scores = find_rois(depth, 'nearest', 'hand', RoiSearch(hand_radius_mm=60.0),
                             camera=CAMERA_VGA)
    x, y, w, h = rois[0]
    # the hand disc is centred at (320, 160) with a 70 px radius (64 mm at 450 mm)
    assert abs(x + (w - 1) / 2 - 320) <= 2 and abs(y + (h - 1) / 2 - 160) <= 12
    assert h < 200 and scores.tolist() == [1.0]
    whole, _ = nearest_hand_rois(depth, RoiSearch(hand_radius_mm=0.0), CAMERA_VGA)
    assert whole.tolist() == blob.tolist()                 # radius 0: the blob's box


def test_a_table_in_front_is_skipped():
    depth = _hand_and_arm()
    rows = np.arange(480, dtype=np.float32)[:, None]
    # a floor/table plane seen from above: 300 mm at the bottom row, farther up the image,
    # nearer than the hand in the lower part of the image
    table = CAMERA_VGA.fy * 150.0 / np.maximum(rows - CAMERA_VGA.cy, 1.0)
    below = (rows > 330) & (np.abs(np.arange(640) - 320) >= 30)
    depth = np.where(below, np.minimum(depth, table), depth).astype(np.float32)
    search = RoiSearch(hand_radius_mm=60.0)
    plain, _ = nearest_hand_rois(depth, search)
    assert plain[0, 1] > 300                               # without a camera: the table
    rois, _ = nearest_hand_rois(depth, search, CAMERA_VGA)
    assert abs(rois[0, 1] + (rois[0, 3] - 1) / 2 - 160) <= 12   # with it: the hand
    kept, _ = nearest_hand_rois(depth, RoiSearch(hand_radius_mm=60.0, reject_planes=False),
                                CAMERA_VGA)
    assert kept[0, 1] > 300


def test_camera_must_fit_the_image():
    with pytest.raises(InputError, match='640x480'):
        nearest_hand_rois(_scene(), camera=CAMERA_VGA)
    with pytest.raises(InputError, match='PinholeCamera'):
        find_rois(_scene(), 'nearest', 'hand', camera='camera')


def test_hand_centre_of_a_large_roi_reads_a_grid():
    rng = np.random.default_rng(3)
    depth = rng.normal(600.0, 20.0, (480, 640)).astype(np.float32)
    exact = np.median(depth[100:400, 100:400][depth[100:400, 100:400] <= np.percentile(
        depth[100:400, 100:400], 2.0) + 150.0])
    centre = hand_centre(depth, (100, 100, 300, 300), depth_offset_mm=0.0)
    assert centre[:2].tolist() == [249.5, 249.5]
    assert centre[2] == pytest.approx(exact, abs=1.0)
