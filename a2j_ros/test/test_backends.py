"""Inference backends: each one available here gives eager fp32's joints within 0.5 mm."""

import numpy as np
import pytest
import torch

from a2j_ros.core import predictors
from a2j_ros.core.backends import (
    available_backends,
    backend_status,
    BackendUnavailable,
    make_predictor,
)
from a2j_ros.core.batchnorm_folding import fold_batchnorm
from a2j_ros.core.bench import (
    bench_crop_config,
    bench_crops,
    calibrate_batchnorm,
    joint_difference_mm,
)
from a2j_ros.core.config import ModelConfig
from a2j_ros.core.errors import InputError
from a2j_ros.core.model import A2JNet

SIZE = 64
LIMIT_MM = 0.5
# The speed issue's requirement for every backend, int8 included: joints within 0.5 mm of
# eager fp32 (a requirement, not a measurement of what int8 reaches today).


@pytest.fixture(scope='module')
def hand():
    """Return (model, crop config, crops (4, 1, 64, 64), eager fp32 uvd) of a small hand net."""
    torch.manual_seed(0)
    crop = bench_crop_config('hand', SIZE)
    crops = bench_crops(crop, count=4)
    model = A2JNet(ModelConfig(backbone='resnet18', num_joints=14, input_size=SIZE))
    calibrate_batchnorm(model, crops)
    reference = model.predict(torch.from_numpy(crops))['uvd']
    return model, crop, crops, reference


def _parity_mm(model, crop, crops, reference, name, **kw):
    predictor = make_predictor(model, name, 'cpu', **kw)
    out = predictor.predict(crops)
    assert out['uvd'].shape == (4, 14, 3) and out['confidence'].shape == (4, 14)
    assert out['uvd'].dtype == torch.float32
    assert torch.all((out['confidence'] >= 0) & (out['confidence'] <= 1))
    return joint_difference_mm(out['uvd'], reference, crop)


@pytest.mark.parametrize('name', ['eager', 'channels_last', 'fused', 'onnx'])
def test_fp32_backends_match_eager(hand, name):
    model, crop, crops, reference = hand
    assert name in available_backends('cpu'), backend_status(name, 'cpu')
    assert _parity_mm(model, crop, crops, reference, name) < 0.01


def test_bf16_matches_eager_within_limit(hand):
    # Forced where the CPU lacks native bf16 (then oneDNN emulates it: slow but the same math).
    model, crop, crops, reference = hand
    diff = _parity_mm(model, crop, crops, reference, 'bf16', force=True)
    assert diff < LIMIT_MM


def test_int8_runs_with_the_stem_kept_fp32(hand, tmp_path):
    # How close int8 stays is judged on held-out frames of a trained model (test_quantize.py);
    # here: the backend builds, answers, and caches its graph where it is told to.
    model, crop, crops, reference = hand
    assert 'onnx_int8' in available_backends('cpu'), backend_status('onnx_int8', 'cpu')
    cache = tmp_path / 'int8.onnx'
    predictor = make_predictor(model, 'onnx_int8', 'cpu', calibration=crops, int8_cache=cache,
                               auto_cache=tmp_path)
    assert predictor.int8_plan.fp32_nodes == ['/model/backbone/conv1/Conv']
    assert cache.is_file() and b'QuantizeLinear' in cache.read_bytes()
    out = predictor.predict(crops)
    assert out['uvd'].shape == (4, 14, 3) and torch.isfinite(out['uvd']).all()
    again = make_predictor(model, 'onnx_int8', 'cpu', int8_cache=cache, auto_cache=tmp_path)
    assert torch.equal(again.predict(crops)['uvd'], out['uvd'])      # the cached graph


def test_compile_matches_eager(hand):
    # ~20 s with inductor's cache warm, ~45 s cold on 2 shared cores: inside the budget.
    model, crop, crops, reference = hand
    assert _parity_mm(model, crop, crops, reference, 'compile') < 0.01


@pytest.mark.skipif(not torch.cuda.is_available(), reason='no CUDA device here')
@pytest.mark.parametrize('name', ['eager', 'fp16', 'onnx'])
def test_cuda_backends_match_eager(hand, name):
    model, crop, crops, reference = hand
    if name not in available_backends('cuda'):
        pytest.skip(backend_status(name, 'cuda'))
    predictor = make_predictor(model, name, 'cuda')
    diff = joint_difference_mm(predictor.predict(crops)['uvd'], reference, crop)
    assert diff < LIMIT_MM


def test_onnx_takes_any_batch_and_numpy(hand):
    model, _, crops, reference = hand
    predictor = make_predictor(model, 'onnx', 'cpu')
    for n in (1, 3):
        out = predictor.predict(crops[:n])           # numpy in
        assert out['uvd'].shape == (n, 14, 3)
        assert torch.allclose(out['uvd'], reference[:n], atol=1e-3)


def test_2d_model_runs_without_depth_head():
    model = A2JNet(ModelConfig(backbone='resnet18', num_joints=5, input_size=SIZE,
                               use_depth=False, head_channels=32)).eval()
    x = torch.randn(2, 1, SIZE, SIZE)
    reference = model.predict(x)['uvd']
    for name in ('fused', 'onnx'):
        out = make_predictor(model, name, 'cpu').predict(x)['uvd']
        assert torch.all(out[..., 2] == 0)
        assert torch.allclose(out, reference, atol=1e-3)


def test_fold_batchnorm_removes_every_batchnorm_and_keeps_outputs(hand):
    model, _, crops, _ = hand
    folded = fold_batchnorm(model)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())   # copy only
    x = torch.from_numpy(crops)
    with torch.no_grad():
        a, b = model(x), folded(x)
    for key in ('logits', 'offsets', 'depth'):
        assert torch.allclose(a[key], b[key], rtol=1e-4, atol=1e-4)


def test_status_explains_what_cannot_run(monkeypatch):
    assert 'unknown backend' in backend_status('nope')
    assert 'cuda only' in backend_status('fp16', 'cpu')
    monkeypatch.setattr(predictors, 'cpu_has_native_bf16', lambda: False)
    assert 'native bf16' in backend_status('bf16', 'cpu')
    assert 'bf16' not in available_backends('cpu')
    monkeypatch.setattr(predictors, 'cpu_has_native_bf16', lambda: True)
    assert backend_status('bf16', 'cpu') is None
    if not torch.cuda.is_available():
        assert available_backends('cuda') == []
    with pytest.raises(InputError, match='unknown device'):
        backend_status('eager', 'gpu0')


def test_make_predictor_rejects_what_it_cannot_run(hand):
    model, _, crops, _ = hand
    with pytest.raises(BackendUnavailable, match='cuda only'):
        make_predictor(model, 'fp16', 'cpu')
    with pytest.raises(BackendUnavailable, match='unknown backend'):
        make_predictor(model, 'tpu', 'cpu')
    with pytest.raises(InputError, match='calibration'):
        make_predictor(model, 'onnx_int8', 'cpu')          # no crops, no crop settings
    with pytest.raises(InputError, match='A2JNet'):
        make_predictor(torch.nn.Linear(2, 2), 'eager')


def test_predict_rejects_bad_crops(hand):
    model = hand[0]
    predictor = make_predictor(model, 'fused', 'cpu', warmup=False)
    for bad in (np.zeros((1, SIZE, SIZE), np.float32), np.zeros((1, 1, 32, 32), np.float32),
                np.zeros((0, 1, SIZE, SIZE), np.float32)):
        with pytest.raises(InputError):
            predictor.predict(bad)
    with pytest.raises(InputError, match='tensor or numpy'):
        predictor.predict([[0.0]])
