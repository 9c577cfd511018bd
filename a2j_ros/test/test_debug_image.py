"""The debug image drawn on tiny hand-made frames."""
from types import SimpleNamespace

import numpy as np

from a2j_ros.ros.debug_image import (
    colorize_depth,
    CROP_COLOR,
    draw_box,
    draw_line,
    JOINT_COLOR,
    render_debug_image,
    ROI_COLOR,
)


def test_colorize_depth_near_red_far_blue_invalid_black():
    depth = np.array([[0.0, 100.0, 1500.0, np.nan, 5000.0, 50.0]], np.float32)
    rgb = colorize_depth(depth, 100.0, 1500.0)
    assert rgb.shape == (1, 6, 3) and rgb.dtype == np.uint8
    assert rgb[0, 0].tolist() == [0, 0, 0] and rgb[0, 3].tolist() == [0, 0, 0]
    near, far = rgb[0, 1], rgb[0, 2]
    assert near[0] > 200 and near[2] < 50              # red
    assert far[2] > 200 and far[0] < 50                # blue
    assert rgb[0, 4].tolist() == far.tolist()          # beyond far: clipped to far
    assert rgb[0, 5].tolist() == near.tolist()         # nearer than near: clipped


def test_draw_box_outline_clipped():
    image = np.zeros((5, 6, 3), np.uint8)
    draw_box(image, (1, 1, 3, 3), (9, 9, 9))
    mask = (image == 9).all(axis=2).astype(int)
    assert mask.tolist() == [[0, 0, 0, 0, 0, 0],
                             [0, 1, 1, 1, 0, 0],
                             [0, 1, 0, 1, 0, 0],
                             [0, 1, 1, 1, 0, 0],
                             [0, 0, 0, 0, 0, 0]]
    image[:] = 0
    draw_box(image, (4, 3, 10, 10), (9, 9, 9))         # runs off the bottom-right
    mask = (image == 9).all(axis=2)
    assert mask[3, 4:].all() and mask[3:, 4].all() and mask.sum() == 2 + 2 - 1


def test_draw_line_diagonal_and_outside():
    image = np.zeros((4, 4, 3), np.uint8)
    draw_line(image, (0, 0), (3, 3), (7, 7, 7))
    assert np.argwhere((image == 7).all(axis=2)).tolist() == [[0, 0], [1, 1], [2, 2], [3, 3]]
    draw_line(image, (float('nan'), 0), (3, 3), (5, 5, 5))
    assert not (image == 5).any()


def test_render_debug_image_draws_roi_crop_and_joints():
    depth = np.full((40, 50), 800.0, np.float32)
    result = SimpleNamespace(crop_box=(10, 5, 20, 20),
                             joints_uvd=np.array([[15.0, 12.0, 800.0], [25.0, 20.0, 800.0]]))
    rgb = render_debug_image(depth, 100.0, 1500.0, [(8, 3, 30, 30)], [result], [(0, 1)])
    assert tuple(rgb[3, 20]) == ROI_COLOR
    assert tuple(rgb[15, 10]) == CROP_COLOR
    assert tuple(rgb[12, 15]) == JOINT_COLOR and tuple(rgb[20, 25]) == JOINT_COLOR
    assert tuple(rgb[16, 20]) == (255, 255, 255)       # the bone between them
