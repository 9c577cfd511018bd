"""Detector-free ROI sources and the hand crop centre (core.roi)."""
import numpy as np
import pytest

from a2j_ros.core.errors import InputError
from a2j_ros.core.roi import (
    as_rois,
    clip_roi,
    find_rois,
    full_frame_roi,
    hand_centre,
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
