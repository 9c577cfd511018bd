"""DDP through torchrun: two gloo processes on the CPU train a tiny model together."""
import json
import os
import subprocess
import sys

import yaml

from a2j_ros.core.training.run_log import read_metrics

TINY = {
    'dataset': 'synthetic_hand', 'val_split': 'val', 'num_train': 16, 'num_val': 6,
    'model': {'backbone': 'resnet18', 'input_size': 32, 'head_channels': 8},
    'train': {'epochs': 2, 'batch_size': 4, 'workers': 0, 'threads': 1},
}


def test_two_gloo_processes(tmp_path):
    config = json.loads(json.dumps(TINY))
    path = tmp_path / 'tiny.yaml'
    path.write_text(yaml.safe_dump(config))
    out = tmp_path / 'run'
    env = dict(os.environ, OMP_NUM_THREADS='1')
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2',
           '-m', 'a2j_ros.cli', 'train', '--config', str(path), '--out', str(out),
           '--device', 'cpu', '--no-progress']
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=110)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert '2 process(es)' in (out / 'train.log').read_text()
    rows = read_metrics(out / 'metrics.csv')
    assert [int(r['epoch']) for r in rows] == [0, 1]                # one writer: rank 0
    assert (out / 'last.pt').is_file()
