"""ONNX export: the file checks out, carries the checkpoint's metadata, and matches PyTorch."""
import numpy as np
import onnx
import pytest
import torch

from a2j_ros.cli import main
from a2j_ros.core.bench import (
    bench_crop_config,
    bench_crops,
    calibrate_batchnorm,
    joint_difference_mm,
)
from a2j_ros.core.checkpoint import save_checkpoint
from a2j_ros.core.config import ModelConfig
from a2j_ros.core.errors import CheckpointError, InputError
from a2j_ros.core.export import (
    check_onnx_parity,
    export_onnx,
    export_onnx_bytes,
    onnx_session,
    read_onnx_metadata,
)
from a2j_ros.core.model import A2JNet

SIZE = 64


@pytest.fixture(scope='module')
def hand():
    torch.manual_seed(1)
    crop = bench_crop_config('hand', SIZE)
    crops = bench_crops(crop, count=3)
    model = A2JNet(ModelConfig(backbone='resnet18', num_joints=14, input_size=SIZE,
                               head_channels=64))
    calibrate_batchnorm(model, crops)
    model.crop_config = crop
    return model, crop, crops


def test_export_with_aggregation_matches_pytorch(hand, tmp_path):
    model, crop, crops = hand
    path = export_onnx(model, tmp_path / 'hand.onnx', dynamic_batch=True)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto)
    assert [o.name for o in proto.graph.output] == ['uvd', 'confidence']
    result = check_onnx_parity(path, model, crops)
    assert result['uvd'].shape == (3, 14, 3) and result['confidence'].shape == (3, 14)
    assert joint_difference_mm(result['uvd'], model.predict(torch.from_numpy(crops))['uvd'],
                               crop) < 0.01
    assert result['max_abs'] < 1e-2


def test_metadata_rebuilds_model_and_crop_config(hand, tmp_path):
    model, crop, _ = hand
    meta = read_onnx_metadata(export_onnx(model, tmp_path / 'm.onnx'))
    assert ModelConfig.from_dict(meta['model_config']) == model.config
    assert meta['crop_config'] == crop.to_dict()
    assert meta['joint_names'][0] == 'pinky_tip' and len(meta['joint_names']) == 14
    assert (meta['outputs'], meta['precision'], meta['input_size']) == ('joints', 'fp32', '64')


def test_fixed_batch_is_fixed_and_dynamic_batch_is_not(hand):
    model, _, crops = hand
    fixed = onnx_session(export_onnx_bytes(model, dynamic_batch=False))
    dynamic = onnx_session(export_onnx_bytes(model, dynamic_batch=True))
    assert fixed.get_inputs()[0].shape == [1, 1, SIZE, SIZE]
    assert dynamic.get_inputs()[0].shape[0] == 'batch'
    assert dynamic.run(None, {'crops': crops})[0].shape == (3, 14, 3)


def test_heads_only_2d_model_has_no_depth_output(tmp_path):
    model = A2JNet(ModelConfig(backbone='resnet18', num_joints=4, input_size=SIZE,
                               use_depth=False, head_channels=16)).eval()
    path = export_onnx(model, tmp_path / 'h.onnx', heads_only=True, opset=13)
    assert [o.name for o in onnx.load(str(path)).graph.output] == ['logits', 'offsets']
    result = check_onnx_parity(path, model, np.random.default_rng(0).normal(
        size=(1, 1, SIZE, SIZE)).astype(np.float32))
    assert result['max_abs'] < 1e-3


def test_fp16_export_keeps_float32_io_and_accuracy(hand, tmp_path):
    model, crop, crops = hand
    path = export_onnx(model, tmp_path / 'f16.onnx', fp16=True, dynamic_batch=True)
    proto = onnx.load(str(path))
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert any(init.data_type == onnx.TensorProto.FLOAT16 for init in proto.graph.initializer)
    assert read_onnx_metadata(path)['precision'] == 'fp16'
    result = check_onnx_parity(path, model, crops)
    assert joint_difference_mm(result['uvd'], result['reference_uvd'], crop) < 0.5


def test_bad_requests_raise_clear_errors(hand, tmp_path):
    model = hand[0]
    with pytest.raises(InputError, match='opset'):
        export_onnx_bytes(model, opset=7)
    with pytest.raises(InputError, match='folder'):
        export_onnx(model, tmp_path / 'missing' / 'm.onnx')
    with pytest.raises(CheckpointError, match='not found'):
        read_onnx_metadata(tmp_path / 'nope.onnx')
    garbage = tmp_path / 'garbage.onnx'
    garbage.write_bytes(b'\x00\xffnot a model' * 10)
    with pytest.raises(CheckpointError, match='not an ONNX'):
        read_onnx_metadata(garbage)


def test_export_command(hand, tmp_path, capsys):
    model, crop, _ = hand
    ck = save_checkpoint(tmp_path / 'ck.pt', model, crop)
    out = tmp_path / 'cli.onnx'
    assert main(['export', '--checkpoint', str(ck), '--out', str(out), '--dynamic-batch']) == 0
    text = capsys.readouterr().out
    assert 'onnx.checker passed' in text and 'largest joint difference' in text
    assert read_onnx_metadata(out)['crop_config']['mode'] == 'hand'
    assert main(['export', '--checkpoint', str(tmp_path / 'nope.pt'), '--out', str(out)]) == 2
    assert 'not found' in capsys.readouterr().err
