"""`a2j train` end to end on a tiny synthetic setup: logs, checkpoints, resume, errors."""
import json

import numpy as np
import pytest
import torch
import yaml

from a2j_ros.cli import main
from a2j_ros.core.checkpoint import load_checkpoint, read_checkpoint
from a2j_ros.core.errors import InputError
from a2j_ros.core.training import load_train_config, NonFiniteLossError
from a2j_ros.core.training.engine import train_one_epoch
from a2j_ros.core.training.loop import run_training
from a2j_ros.core.training.run_log import read_metrics

TINY = {
    'dataset': 'synthetic_hand', 'val_split': 'val', 'num_train': 16, 'num_val': 6,
    'dataset_options': {'seed': 1},
    'model': {'backbone': 'resnet18', 'input_size': 32, 'head_channels': 8},
    'loss': {'preset': 'paper', 'lr': 0.001, 'lr_step_epochs': 1, 'lr_decay': 0.5},
    'augment': {'rotation_deg': 20},
    'train': {'epochs': 2, 'batch_size': 8, 'workers': 0, 'seed': 0, 'eval_batch_size': 8,
              'threads': 1},
}


def _config(tmp_path, **changes):
    data = json.loads(json.dumps(TINY))
    for key, value in changes.items():
        data[key] = value
    path = tmp_path / 'tiny.yaml'
    path.write_text(yaml.safe_dump(data))
    return path


def test_cli_run_writes_logs_and_checkpoints(tmp_path, capsys):
    out = tmp_path / 'run'
    rc = main(['train', '--config', str(_config(tmp_path)), '--out', str(out), '--device', 'cpu',
               '--no-progress'])
    assert rc == 0
    printed = capsys.readouterr().out
    assert 'mean-pose baseline on the validation split: mean_error_mm' in printed
    for name in ('last.pt', 'best.pt', 'train.log', 'metrics.csv', 'config.yaml', 'summary.json'):
        assert (out / name).is_file(), name
    assert any((out / 'tensorboard').iterdir())
    rows = read_metrics(out / 'metrics.csv')
    assert [int(r['epoch']) for r in rows] == [0, 1]
    assert float(rows[1]['lr']) == pytest.approx(0.0005)              # StepLR x0.5 per epoch
    assert all(np.isfinite(float(r['val_value'])) for r in rows)
    state = read_checkpoint(out / 'last.pt')
    assert state['epoch'] == 1 and 'optimizer' in state and 'scheduler' in state
    model = load_checkpoint(out / 'best.pt')
    assert model.crop_config.input_size == 32 and model.config.num_joints == 14
    summary = json.loads((out / 'summary.json').read_text())
    assert summary['epochs_done'] == 2 and summary['baseline'][0] == 'mean_error_mm'
    # a second run into the same folder without --resume is refused
    rc = main(['train', '--config', str(_config(tmp_path)), '--out', str(out), '--no-progress'])
    assert rc == 2 and 'already holds a training run' in capsys.readouterr().err


def test_resume_continues_exactly(tmp_path):
    config = load_train_config(_config(tmp_path))
    three = config.with_overrides(epochs=3)
    full = run_training(three, tmp_path / 'full', device='cpu', progress=False)
    run_training(config, tmp_path / 'cut', device='cpu', progress=False)     # epochs 0, 1
    resumed = run_training(three, tmp_path / 'cut', resume=True, device='cpu', progress=False)
    assert resumed['epochs_done'] == 3 and full['epochs_done'] == 3
    assert 'resumed from' in (tmp_path / 'cut' / 'train.log').read_text()
    assert [int(r['epoch']) for r in read_metrics(tmp_path / 'cut' / 'metrics.csv')] == [0, 1, 2]
    a = read_checkpoint(tmp_path / 'full' / 'last.pt')['state_dict']
    b = read_checkpoint(tmp_path / 'cut' / 'last.pt')['state_dict']
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=1e-5, msg=key)
    assert resumed['last'] == pytest.approx(full['last'], rel=1e-3)


def test_time_limit_stops_before_training(tmp_path):
    config = load_train_config(_config(tmp_path))
    summary = run_training(config, tmp_path / 'run', device='cpu', max_minutes=1e-5,
                           progress=False)
    assert summary['stopped_by_time_limit'] and summary['epochs_done'] == 0


def test_non_finite_loss_stops_with_a_clear_error():
    from a2j_ros.core.config import ModelConfig
    from a2j_ros.core.losses import LossConfig
    from a2j_ros.core.model import A2JNet
    model = A2JNet(ModelConfig(backbone='resnet18', input_size=32, head_channels=8))
    target = torch.full((2, 14, 3), float('nan'))
    batch = {'image': torch.zeros(2, 1, 32, 32), 'target': target}
    optimizer = torch.optim.Adam(model.parameters())
    with pytest.raises(NonFiniteLossError, match='non-finite loss .* epoch 3, step 0'):
        train_one_epoch(model, [batch], optimizer, LossConfig(), torch.device('cpu'), 3,
                        progress=False)


def test_bad_configs_name_the_problem(tmp_path):
    with pytest.raises(InputError, match='unknown keys'):
        load_train_config(_config(tmp_path, epochs=3))
    with pytest.raises(InputError, match='not found'):
        load_train_config(tmp_path / 'nope.yaml')
    (tmp_path / 'bad.yaml').write_text('dataset: [unclosed')
    with pytest.raises(InputError, match='not valid YAML'):
        load_train_config(tmp_path / 'bad.yaml')
    config = load_train_config(_config(tmp_path, model={'backbone': 'resnet18', 'depth': 3}))
    with pytest.raises(InputError, match='unknown model settings'):
        run_training(config, tmp_path / 'r', device='cpu', progress=False)


def test_shipped_configs_follow_the_paper():
    from pathlib import Path
    root = Path(__file__).resolve().parents[1] / 'config' / 'train'
    expected = {'nyu': (34, 10, 176), 'icvl': (17, 7, 176), 'hands2017': (17, 7, 176),
                'itop_side': (26, 10, 288), 'itop_top': (26, 10, 288), 'k2hpd': (26, 10, 288)}
    for name, (epochs, step, size) in expected.items():
        config = load_train_config(root / f'{name}.yaml')
        assert config.dataset == name and config.train.epochs == epochs
        assert config.loss['lr'] == 0.00035 and config.loss['weight_decay'] == 0.0001
        assert config.loss['lr_step_epochs'] == step and config.loss['lr_decay'] == 0.1
        assert config.model['input_size'] == size
    for name in ('synthetic_hand', 'synthetic_body'):
        assert load_train_config(root / f'{name}.yaml').synthetic
    for name in ('demo_hand', 'demo_body'):
        config = load_train_config(root / f'{name}.yaml')
        assert config.synthetic and config.dataset_options['sensor'] is True


def test_init_starts_from_a_checkpoint_of_the_same_model(tmp_path, capsys):
    from a2j_ros.core.checkpoint import save_checkpoint
    from a2j_ros.core.config import ModelConfig
    from a2j_ros.core.model import A2JNet
    from a2j_ros.core.training.loop import _init_weights
    config = ModelConfig.from_dict({'layout': 'nyu_hand_14', 'num_joints': 14,
                                    'use_depth': True, **TINY['model']})
    torch.manual_seed(5)
    source = A2JNet(config)
    path = save_checkpoint(tmp_path / 'start.pt', source, half=True)
    target = A2JNet(config)
    _init_weights(target, path)
    for key, value in source.state_dict().items():
        expected = value.half().float() if value.is_floating_point() else value
        assert torch.equal(target.state_dict()[key], expected), key
    other = _config(tmp_path, model={**TINY['model'], 'head_channels': 16})
    rc = main(['train', '--config', str(other), '--out', str(tmp_path / 'run'), '--init',
               str(path), '--no-progress'])
    assert rc == 2 and 'head_channels' in capsys.readouterr().err
