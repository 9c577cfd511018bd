import os

import pytest
import torch

from a2j_ros.core.checkpoint import (
    FORMAT,
    load_checkpoint,
    read_checkpoint,
    resolve_device,
    save_checkpoint,
)
from a2j_ros.core.config import CropConfig, ModelConfig
from a2j_ros.core.errors import CheckpointError, InputError
from a2j_ros.core.model import A2JNet


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    net = A2JNet(ModelConfig(backbone='resnet18', num_joints=14, input_size=64,
                             head_channels=16)).eval()
    for m in net.modules():                     # non-trivial BN statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return net


def test_round_trip_rebuilds_model_and_crop(model, tmp_path):
    crop = CropConfig(cube_xy_mm=95.0, norm_mean=4.8, norm_std=16.3)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    path = save_checkpoint(tmp_path / 'sub' / 'a.pt', model, crop, epoch=3,
                           optimizer=opt.state_dict(), metrics={'mean_error_mm': 9.5})
    loaded = load_checkpoint(path)
    assert not loaded.training
    assert loaded.config == model.config and loaded.crop_config == crop
    x = torch.randn(2, 1, 64, 64)
    assert torch.allclose(loaded.predict_crops(x), model.predict_crops(x), atol=1e-5)
    raw = read_checkpoint(path)
    assert raw['format'] == FORMAT and raw['version'] == 1 and raw['epoch'] == 3
    assert raw['joint_names'][0] == 'pinky_tip' and len(raw['joint_names']) == 14
    assert raw['metrics'] == {'mean_error_mm': 9.5} and 'state' in raw['optimizer']
    assert [p.name for p in path.parent.iterdir()] == ['a.pt']          # no temp file left
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_crop_config_defaults_to_the_models(model, tmp_path):
    model.crop_config = CropConfig(mode='body', input_size=288, mu=50.0)
    try:
        loaded = load_checkpoint(save_checkpoint(tmp_path / 'b.pt', model))
    finally:
        model.crop_config = None
    assert loaded.crop_config.mode == 'body' and loaded.crop_config.mu == 50.0
    assert load_checkpoint(save_checkpoint(tmp_path / 'c.pt', model)).crop_config is None


def test_fp16_weights_load_as_fp32(model, tmp_path):
    path = save_checkpoint(tmp_path / 'h.pt', model, half=True)
    stored = read_checkpoint(path)['state_dict']
    assert stored['backbone.conv1.weight'].dtype == torch.float16
    loaded = load_checkpoint(path)
    assert loaded.backbone.conv1.weight.dtype == torch.float32
    x = torch.randn(1, 1, 64, 64)
    assert torch.allclose(loaded.predict_crops(x), model.predict_crops(x), atol=0.5)


def test_missing_truncated_and_garbage_files(model, tmp_path):
    with pytest.raises(CheckpointError, match='not found'):
        load_checkpoint(tmp_path / 'missing.pt')
    path = save_checkpoint(tmp_path / 'ok.pt', model)
    data = path.read_bytes()
    truncated = tmp_path / 'truncated.pt'
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match='truncated or corrupt'):
        load_checkpoint(truncated)
    garbage = tmp_path / 'garbage.pt'
    garbage.write_bytes(os.urandom(4096))
    with pytest.raises(CheckpointError, match='truncated or corrupt'):
        load_checkpoint(garbage)
    empty = tmp_path / 'empty.pt'
    empty.write_bytes(b'')
    with pytest.raises(CheckpointError):
        load_checkpoint(empty)


def test_wrong_format_and_version(tmp_path):
    other = tmp_path / 'other.pt'
    torch.save({'weights': torch.zeros(3)}, other)
    with pytest.raises(CheckpointError, match='not an a2j_ros checkpoint'):
        load_checkpoint(other)
    authors = tmp_path / 'NYU.pth'
    torch.save({'Backbone.model.conv1.weight': torch.zeros(1)}, authors)
    with pytest.raises(CheckpointError, match='a2j convert'):
        load_checkpoint(authors)
    newer = tmp_path / 'newer.pt'
    torch.save({'format': FORMAT, 'version': 99, 'model_config': {}, 'state_dict': {}}, newer)
    with pytest.raises(CheckpointError, match='newer'):
        load_checkpoint(newer)


def test_shape_mismatch(model, tmp_path):
    path = save_checkpoint(tmp_path / 'm.pt', model)
    raw = read_checkpoint(path)
    raw['model_config']['num_joints'] = 16
    torch.save(raw, tmp_path / 'bad.pt')
    with pytest.raises(CheckpointError, match='do not fit'):
        load_checkpoint(tmp_path / 'bad.pt')
    raw['model_config'].update(num_joints=14, backbone='resnet101')
    torch.save(raw, tmp_path / 'bad2.pt')
    with pytest.raises(CheckpointError, match='invalid model_config'):
        load_checkpoint(tmp_path / 'bad2.pt')


def test_failed_save_keeps_the_old_file(model, tmp_path):
    path = save_checkpoint(tmp_path / 'keep.pt', model, epoch=1)
    before = path.read_bytes()
    with pytest.raises(Exception):
        save_checkpoint(path, model, epoch=2, hook=lambda: None)        # not serialisable
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ['keep.pt']
    with pytest.raises(ValueError, match='reserved'):
        save_checkpoint(path, model, state_dict={})


def test_resolve_device():
    assert resolve_device('cpu').type == 'cpu'
    assert resolve_device('auto').type == ('cuda' if torch.cuda.is_available() else 'cpu')
    with pytest.raises(InputError, match='unknown device'):
        resolve_device('gpu0')
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match='CUDA is not available'):
            resolve_device('cuda')


def test_trained_on_is_metadata_read_without_the_weights(model, tmp_path):
    from a2j_ros.core.checkpoint import checkpoint_metadata
    path = save_checkpoint(tmp_path / 'm.pt', model, trained_on='synthetic hands')
    meta = checkpoint_metadata(path)
    assert meta['trained_on'] == 'synthetic hands' and 'state_dict' not in meta
    assert 'trained_on' not in checkpoint_metadata(save_checkpoint(tmp_path / 'n.pt', model))
    with pytest.raises(ValueError, match='reserved'):
        save_checkpoint(tmp_path / 'o.pt', model, **{'format': 'x'})
    with pytest.raises(CheckpointError, match='not found'):
        checkpoint_metadata(tmp_path / 'missing.pt')
