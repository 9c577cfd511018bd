
import numpy as np
import pytest

from a2j_ros.core.layouts import get_layout
from a2j_ros.core.presets import get_preset, GT_KINDS, METRICS, PRESETS


@pytest.mark.parametrize('name', sorted(PRESETS))
def test_every_preset_is_consistent(name):
    preset = PRESETS[name]
    layout = get_layout(preset.layout)
    assert preset.metric in METRICS and preset.gt_kind in GT_KINDS
    assert preset.crop.mode == layout.kind
    assert preset.crop.input_size == (176 if layout.kind == 'hand' else 288)
    assert preset.crop.norm_std > 0
    if layout.dims == 3:
        assert preset.camera.width > 0 and preset.camera.height > 0
    else:
        assert preset.camera is None and preset.metric == 'pdj'


@pytest.mark.parametrize('name, cube, mu', [('nyu', 110.0, 1.0), ('icvl', 95.0, 1.0),
                                            ('hands2017', 100.0, 1.0), ('itop_side', None, 50.0)])
def test_crop_settings_follow_the_paper(name, cube, mu):
    crop = get_preset(name).crop
    assert crop.mu == mu
    if cube:
        assert (crop.cube_xy_mm, crop.depth_thres_mm, crop.theta_is_centre) == (cube, 150.0, True)
    else:
        assert crop.theta_is_centre is False


def test_intrinsics():
    nyu, icvl, hands = get_preset('nyu').camera, get_preset('icvl').camera, \
        get_preset('hands2017').camera
    assert (nyu.fx, nyu.fy, nyu.cx, nyu.cy, nyu.width) == (588.03, 587.07, 320, 240, 640)
    assert (icvl.fx, icvl.fy, icvl.width, icvl.height) == (240.99, 240.96, 320, 240)
    assert (hands.fx, hands.fy, hands.cx, hands.cy) == (475.065948, 475.065857, 315.944855,
                                                        245.287079)
    itop = get_preset('itop_side').camera
    # ITOP: x = (u - 160) * z * 0.0035
    x = itop.unproject(np.array([260.0, 120.0, 2000.0]))[0]
    assert x == pytest.approx(100 * 2000 * 0.0035)


def test_synthetic_contract():
    hand, body = get_preset('synthetic_hand'), get_preset('synthetic_body')
    assert hand.camera.to_dict() == {'fx': 241.0, 'fy': 241.0, 'cx': 160.0, 'cy': 120.0,
                                     'width': 320, 'height': 240}
    assert (hand.layout, hand.crop.cube_xy_mm, hand.crop.depth_thres_mm, hand.crop.input_size,
            hand.crop.norm_mean, hand.crop.norm_std) == ('nyu_hand_14', 110.0, 150.0, 176, 0.0,
                                                         40.0)
    assert (body.camera.fx, body.camera.fy, body.camera.width, body.camera.height) == \
        (285.71, 285.71, 320, 240)
    assert (body.layout, body.crop.input_size, body.crop.mu) == ('itop_body_15', 288, 50.0)


@pytest.mark.parametrize('name', ['nyu', 'icvl', 'itop_side', 'k2hpd'])
def test_normalisation_equals_the_authors_files(name, a2j_published):
    preset = get_preset(name)
    mean = np.atleast_1d(np.load(a2j_published / preset.reference['mean']))
    std = np.atleast_1d(np.load(a2j_published / preset.reference['std']))
    channel = 3 if len(mean) == 4 else 0       # body files: [normal x, y, z, depth]
    assert preset.crop.norm_mean == pytest.approx(mean[channel], rel=1e-7)
    assert preset.crop.norm_std == pytest.approx(std[channel], rel=1e-7)


def test_unknown_preset_names_the_known_ones():
    with pytest.raises(KeyError, match='itop_side'):
        get_preset('nope')
