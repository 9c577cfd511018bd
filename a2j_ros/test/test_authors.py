import argparse

import numpy as np
import pytest
import torch
import torchvision

from a2j_ros.commands import convert_cmd
from a2j_ros.core.anchors import anchor_grid
from a2j_ros.core.authors import (
    authors_anchors,
    authors_dataset,
    AUTHORS_DATASETS,
    AuthorsA2J,
    convert_authors_state_dict,
    load_authors_model,
)
from a2j_ros.core.checkpoint import load_checkpoint, save_checkpoint
from a2j_ros.core.errors import CheckpointError, InputError


def _torchvision_dilated_resnet50():
    """Return their ResNet-50 trunk as torchvision itself builds it.

    Their src/resnet.py: layer4 stride 1, dilation 2 after its first block; torchvision:
    ``replace_stride_with_dilation=[False, False, True]``.
    """
    return torchvision.models.resnet50(weights=None,
                                       replace_stride_with_dilation=[False, False, True])


def _authors_net(num_joints, is_3d=True, seed=0, backbone='resnet18'):
    """Their network with random weights and BN statistics.

    ResNet-18 (fast) for the head and decoding checks; with ``backbone='resnet50'`` the
    trunk is torchvision's own dilated ResNet-50, not our builder.
    """
    torch.manual_seed(seed)
    net = AuthorsA2J(num_joints, is_3d, backbone=backbone)
    if backbone == 'resnet50':
        net.Backbone.model = _torchvision_dilated_resnet50()
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
        elif isinstance(m, torch.nn.Conv2d) and m.bias is not None:
            m.bias.data.uniform_(-0.1, 0.1)
    return net.eval()


def test_their_anchors_are_yx_and_column_major():
    anchors = authors_anchors(2, 2)
    assert anchors.shape == (64, 2)
    assert anchors[0].tolist() == [2, 2] and anchors[1].tolist() == [2, 6]
    assert anchors[4].tolist() == [6, 2]
    assert anchors[16].tolist() == [18, 2]         # next cell down (y), same column
    assert anchors[32].tolist() == [2, 18]         # next column
    ours = {tuple(p) for p in anchor_grid(11, 11).tolist()}
    theirs = {tuple(p) for p in authors_anchors(11, 11).flip(1).tolist()}
    assert ours == theirs and len(ours) == 1936


def test_our_resnet50_trunk_equals_torchvision_dilated_resnet50():
    from a2j_ros.core.model import build_resnet
    torch.manual_seed(3)
    reference = _torchvision_dilated_resnet50().eval()
    ours = build_resnet('resnet50').eval()
    ours.load_state_dict(reference.state_dict())
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(ours(x), reference(x), atol=1e-5)
        a, b = x, x
        for name in ('conv1', 'bn1', 'relu', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4'):
            a, b = getattr(ours, name)(a), getattr(reference, name)(b)
        assert a.shape == (1, 2048, 4, 4) and torch.equal(a, b)      # stride 16, not 32


@pytest.mark.parametrize('dataset,size,backbone', [('nyu', 96, 'resnet18'),
                                                   ('k2hpd', 64, 'resnet18'),
                                                   ('nyu', 64, 'resnet50')])
def test_conversion_gives_their_predictions(dataset, size, backbone):
    preset = authors_dataset(dataset)
    theirs = _authors_net(preset.num_joints, preset.use_depth, backbone=backbone)
    state = {'module.' + k: v for k, v in theirs.state_dict().items()}     # DataParallel file
    ours = load_authors_model(state, dataset)
    x = torch.randn(2, 1, size, size)
    expected = theirs.predict(x)                                            # (y, x[, d])
    got = ours.predict(x)['uvd']
    assert torch.allclose(got[..., 0], expected[..., 1], atol=1e-3)
    assert torch.allclose(got[..., 1], expected[..., 0], atol=1e-3)
    if preset.use_depth:
        assert torch.allclose(got[..., 2], expected[..., 2], atol=1e-3)
    else:
        assert torch.equal(got[..., 2], torch.zeros_like(got[..., 2]))
    assert ours.config.num_joints == preset.num_joints
    assert ours.crop_config == preset.crop and ours.config.backbone == backbone


def test_conversion_round_trip_through_checkpoint(tmp_path):
    theirs = _authors_net(14)
    config, crop, weights = convert_authors_state_dict(theirs.state_dict(), 'nyu')
    assert weights['backbone.conv1.weight'].shape == (64, 1, 7, 7)
    assert not any(k.startswith(('fc.', 'backbone.fc.')) for k in weights)
    model = load_authors_model(theirs.state_dict(), 'nyu')
    loaded = load_checkpoint(save_checkpoint(tmp_path / 'nyu.pt', model))
    assert loaded.config == config and loaded.crop_config == crop
    x = torch.randn(1, 1, 96, 96)
    expected = theirs.predict(x)[..., [1, 0, 2]]
    assert torch.allclose(loaded.predict_crops(x), expected, atol=1e-3)


def test_old_files_without_bn_counters_convert():
    theirs = _authors_net(14)
    state = {k: v for k, v in theirs.state_dict().items()
             if not k.endswith('num_batches_tracked')}
    model = load_authors_model(state, 'nyu')
    assert model.backbone.bn1.num_batches_tracked.item() == 0


def test_conversion_rejects_mismatches():
    theirs = _authors_net(14).state_dict()
    with pytest.raises(CheckpointError, match='wrong --dataset'):
        convert_authors_state_dict(theirs, 'icvl')
    with pytest.raises(CheckpointError, match='depth branch'):
        convert_authors_state_dict(_authors_net(15, is_3d=False).state_dict(), 'itop_side')
    with pytest.raises(InputError, match='unknown dataset'):
        convert_authors_state_dict(theirs, 'msra')
    with pytest.raises(CheckpointError, match='Backbone.model'):
        convert_authors_state_dict({'conv1.weight': torch.zeros(1)}, 'nyu')
    extra = dict(theirs, **{'extraModel.weight': torch.zeros(1)})
    with pytest.raises(CheckpointError, match='unexpected key'):
        convert_authors_state_dict(extra, 'nyu')


@pytest.mark.parametrize('dataset,index', [('nyu', None), ('icvl', None), ('itop_side', 3),
                                           ('k2hpd', None)])
def test_dataset_normalisation_matches_their_files(dataset, index, a2j_published):
    folder = a2j_published / dataset
    mean, std = (np.load(folder / f'{dataset}_{name}.npy') for name in ('mean', 'std'))
    if index is not None:
        mean, std = mean[index], std[index]
    crop = authors_dataset(dataset).crop
    assert crop.norm_mean == pytest.approx(float(mean), rel=1e-7)
    assert crop.norm_std == pytest.approx(float(std), rel=1e-7)


def test_dataset_table_matches_their_test_scripts():
    table = {d: authors_dataset(d) for d in AUTHORS_DATASETS}
    assert {d: p.num_joints for d, p in table.items()} == {
        'nyu': 14, 'icvl': 16, 'hands2017': 21, 'itop_side': 15, 'itop_top': 15, 'k2hpd': 19}
    # xy_thres / depth_thres of their src/nyu.py, icvl.py, hands2017.py
    assert [(table[d].crop.cube_xy_mm, table[d].crop.depth_thres_mm)
            for d in ('nyu', 'icvl', 'hands2017')] == [(110, 150), (95, 150), (100, 150)]
    # their body scripts: depthFactor = 50, theta = 0; K2HPD is 2D
    assert table['itop_top'].crop.mu == 50 and not table['itop_top'].crop.theta_is_centre
    assert not table['k2hpd'].use_depth and table['nyu'].use_depth
    assert all(p.input_size == (176 if p.crop.mode == 'hand' else 288) for p in table.values())


def _args(**kw):
    parser = argparse.ArgumentParser()
    convert_cmd.add_arguments(parser)
    return parser.parse_args([x for k, v in kw.items() for x in (f'--{k}', str(v))])


def test_convert_command(tmp_path, capsys):
    theirs = _authors_net(14)
    src = tmp_path / 'NYU.pth'
    torch.save(theirs.state_dict(), src)
    out = tmp_path / 'nyu_a2j.pt'
    assert convert_cmd.run(_args(authors=src, dataset='nyu', out=out)) == 0
    assert 'resnet18, 14 joints (nyu_hand_14)' in capsys.readouterr().out
    assert load_checkpoint(out).crop_config.cube_xy_mm == 110
    from a2j_ros.core.checkpoint import checkpoint_metadata
    assert checkpoint_metadata(out)['trained_on'].startswith('NYU Hand Pose')
    assert convert_cmd.run(_args(authors=tmp_path / 'none.pth', dataset='nyu', out=out)) == 2
    assert 'not found' in capsys.readouterr().err
    assert convert_cmd.run(_args(authors=src, dataset='icvl', out=tmp_path / 'x.pt')) == 2
    assert 'wrong --dataset' in capsys.readouterr().err
