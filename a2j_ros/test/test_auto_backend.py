"""backend auto: the fastest backend within parity of eager fp32, cached per model + machine."""
import json

import pytest
import torch

from a2j_ros.core import auto_backend, backend_cache
from a2j_ros.core.backends import make_predictor
from a2j_ros.core.bench import bench_crop_config, bench_crops, calibrate_batchnorm
from a2j_ros.core.config import ModelConfig
from a2j_ros.core.model import A2JNet
from a2j_ros.core.quantize import Int8Plan


@pytest.fixture(scope='module')
def model():
    """Return a small hand model (ResNet-18, 64 px) with crop settings and calibrated BatchNorm."""
    torch.manual_seed(0)
    crop = bench_crop_config('hand', 64)
    net = A2JNet(ModelConfig(backbone='resnet18', num_joints=14, input_size=64,
                             head_channels=32))
    calibrate_batchnorm(net, bench_crops(crop, count=4))
    net.crop_config = crop
    return net


def test_auto_measures_then_reuses_its_cached_choice(model, tmp_path):
    first, sel = auto_backend.choose_backend(model, 'cpu', cache=tmp_path, iters=1)
    assert not sel.cached and first.name == sel.backend and first.selection is sel
    assert sel.parity_mm <= auto_backend.PARITY_MM and sel.backend in sel.ms
    assert sel.backend == min(sel.ms, key=sel.ms.get)          # the fastest that passed
    assert 'eager' in sel.ms and 'no int8 plan' in sel.rejected['onnx_int8']
    entries = json.loads((tmp_path / 'backends.json').read_text())['entries']
    assert list(entries) == [sel.key] and entries[sel.key]['backend'] == sel.backend
    again, sel2 = auto_backend.choose_backend(model, 'cpu', cache=tmp_path)
    assert sel2.cached and again.name == sel.backend and sel2.parity_mm <= 0.5
    assert 'cached choice' in again.describe() and sel.backend in again.describe()


def test_auto_chooses_again_when_the_cache_is_broken_or_wrong(model, tmp_path, monkeypatch):
    (tmp_path / 'backends.json').write_text('{broken')
    _, sel = auto_backend.choose_backend(model, 'cpu', cache=tmp_path, iters=1, budget_s=0)
    assert not sel.cached and sel.backend in ('onnx', 'eager')
    # a cached backend that now misses parity is measured again, not trusted
    data = json.loads((tmp_path / 'backends.json').read_text())
    data['entries'][sel.key]['backend'] = 'fused'
    (tmp_path / 'backends.json').write_text(json.dumps(data))
    monkeypatch.setattr(auto_backend, 'PARITY_MM', -1.0)      # nothing passes but eager...
    with pytest.raises(Exception, match='no backend'):        # ...which is 0 > -1: none
        auto_backend.choose_backend(model, 'cpu', cache=tmp_path, iters=1)


def test_budget_bounds_the_search(model, tmp_path):
    _, sel = auto_backend.choose_backend(model, 'cpu', cache=tmp_path, budget_s=0.0,
                                         use_cache=False, iters=1)
    assert 'eager' in sel.ms                                  # the fallback always runs
    assert any('budget' in reason for reason in sel.rejected.values())


def test_int8_only_with_a_plan_that_passed(model, tmp_path):
    failing = Int8Plan(fp32_nodes=[], passes=False, held_out={'frames': 5, 'delta_mm': 2.0})
    stale = backend_cache.int8_graph_path(model, tmp_path)
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b'an int8 graph of an older plan')
    backend_cache.store_int8_plan(model, failing, tmp_path)
    assert not stale.exists()                     # a new plan never runs an old graph
    assert backend_cache.int8_plan_for(model, tmp_path) == failing
    _, sel = auto_backend.choose_backend(model, 'cpu', cache=tmp_path, iters=1,
                                         use_cache=False, budget_s=0)
    assert sel.backend != 'onnx_int8' and 'fails the held-out bound' in sel.rejected['onnx_int8']


def test_keys_follow_weights_and_machine(model, monkeypatch):
    key = backend_cache.model_key(model)
    assert key == backend_cache.model_key(model) and len(key) == 24
    other = A2JNet(model.config)
    assert backend_cache.model_key(other) != key
    machine = backend_cache.machine_key('cpu')
    monkeypatch.setattr(torch, 'get_num_threads', lambda: 97)
    assert backend_cache.machine_key('cpu') != machine


def test_make_predictor_auto_and_cache_folder(model, tmp_path, monkeypatch):
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'xdg'))
    monkeypatch.setattr(auto_backend, 'DEFAULT_BUDGET_S', 0.0)
    assert backend_cache.cache_dir() == tmp_path / 'xdg' / 'a2j_ros'
    predictor = make_predictor(model, 'auto', 'cpu')
    assert predictor.selection is not None and predictor.name != 'auto'
    assert (tmp_path / 'xdg' / 'a2j_ros' / 'backends.json').is_file()
    out = predictor.predict(torch.zeros(2, 1, 64, 64))
    assert out['uvd'].shape == (2, 14, 3)
