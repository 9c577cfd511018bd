"""``a2j bench`` and its measurement helpers (no timing assertions)."""
import json
from pathlib import Path
import subprocess

import numpy as np
import pytest
import torch

from a2j_ros.cli import main
from a2j_ros.core import bench
from a2j_ros.core.config import CropConfig
from a2j_ros.core.errors import InputError
from a2j_ros.core.text_table import format_table


def test_time_call_counts_calls_and_reports_ms():
    calls = []
    timing = bench.time_call(lambda: calls.append(1), warmup=2, iters=5)
    assert len(calls) == 7 and timing['iters'] == 5
    assert 0 <= timing['min_ms'] <= timing['median_ms']


def test_count_flops_counts_a_multiply_add_as_two():
    layer = torch.nn.Linear(8, 4, bias=False)
    assert bench.count_flops(layer, torch.zeros(3, 8)) == 2 * 3 * 8 * 4


def test_joint_difference_mm_hand_and_body():
    hand = CropConfig(mode='hand', input_size=176, cube_xy_mm=110.0, mu=1.0)
    ref = np.zeros((2, 3, 3))
    moved = ref.copy()
    moved[1, 2] = [1.0, 0.0, 0.0]                 # one crop pixel = 220 / 176 mm
    assert bench.joint_difference_mm(moved, ref, hand) == pytest.approx(1.25)
    moved[1, 2] = [0.0, 0.0, 3.0]                 # depth target in mm
    assert bench.joint_difference_mm(torch.from_numpy(moved), ref, hand) == pytest.approx(3.0)
    body = CropConfig(mode='body', input_size=288, mu=50.0, theta_is_centre=False)
    moved[1, 2] = [0.0, 2.88, 0.05]               # 2.88 px of a 2 m box; 0.05 / 50 m
    assert bench.joint_difference_mm(moved, ref, body) == pytest.approx(np.hypot(20.0, 1.0))
    with pytest.raises(InputError, match='both be'):
        bench.joint_difference_mm(ref[:, :2], ref, hand)


def test_calibrate_batchnorm_uses_the_crops_statistics():
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 1), torch.nn.BatchNorm2d(2))
    x = torch.randn(4, 1, 5, 5) * 3 + 7
    bench.calibrate_batchnorm(net, x)
    assert not net.training
    with torch.no_grad():
        y = net[0](x)
    assert torch.allclose(net[1].running_mean, y.mean(dim=(0, 2, 3)), atol=1e-4)
    assert net[1].momentum == 0.1


def test_bench_crops_look_like_normalised_depth():
    crops = bench.bench_crops(bench.bench_crop_config('hand', 64), count=2)
    assert crops.shape == (2, 1, 64, 64) and crops.dtype == np.float32
    assert np.isfinite(crops).all() and crops.std() > 0.1
    body = bench.bench_crops(bench.bench_crop_config('body', 64), count=1)
    assert body.shape == (1, 1, 64, 64) and np.isfinite(body).all()
    with pytest.raises(InputError, match='hand or body'):
        bench.bench_crop_config('foot', 64)


def test_format_table_aligns_and_marks_missing():
    text = format_table([{'a': 'x', 'b': 1.234}, {'a': 'long', 'b': None}],
                        [('a', 'name', None), ('b', 'value', '{:.1f}')])
    lines = text.splitlines()
    assert lines[0].split() == ['name', 'value'] and lines[2].split() == ['x', '1.2']
    assert lines[3].split() == ['long', '-'] and len(set(map(len, lines))) == 1
    markdown = format_table([{'a': 'x', 'b': 1.25}], [('a', 'name', None), ('b', 'v', '{}')],
                            markdown=True)
    assert markdown.splitlines() == ['| name | v |', '| --- | ---: |', '| x | 1.25 |']


def test_matmul_peak_is_positive():
    assert bench.matmul_peak(torch.float32, size=64, iters=2) > 0


def test_bench_command_single_row_with_authors(tmp_path, capsys):
    out = tmp_path / 'bench.json'
    rc = main(['bench', '--backbone', 'resnet18', '--size', '64', '--backend', 'onnx',
               '--iters', '1', '--warmup', '0', '--authors', '--json', str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert 'matmul peak' in text and 'ms/frame' in text and 'authors resnet18' in text
    data = json.loads(out.read_text())
    ours, theirs = data['rows']
    assert ours['backend'] == 'onnx' and ours['diff_mm'] < 0.5
    assert ours['fps'] > 0 and ours['gflops'] > 0 and 0 < ours['peak_share']
    assert theirs['model'] == 'authors resnet18' and theirs['gflops'] > ours['gflops'] * 0.9
    assert data['machine']['peaks']['fp32'] > 0 and data['pre_post']['crop_ms_per_roi'] > 0


def test_bench_command_rejects_bad_options(capsys):
    assert main(['bench', '--backend', 'nope']) == 2
    assert 'unknown backend' in capsys.readouterr().err
    assert main(['bench', '--batch', '0']) == 2
    assert main(['bench', '--instances', '0']) == 2
    assert main(['bench', '--instances', '2', '--batch', '2']) == 2
    assert 'leave --batch' in capsys.readouterr().err
    assert main(['bench', '--device', 'gpu0']) == 2
    assert 'unknown device' in capsys.readouterr().err
    # a run that measured nothing is an error, with the reason
    assert main(['bench', '--backend', 'fp16', '--device', 'cpu', '--size', '64',
                 '--backbone', 'resnet18', '--iters', '1']) == 2
    assert 'cuda only' in capsys.readouterr().err


def test_bench_auto_with_two_instances_and_aggregation(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path))
    out = tmp_path / 'bench.json'
    rc = main(['bench', '--backbone', 'resnet18', '--size', '64', '--instances', '2',
               '--iters', '1', '--warmup', '0', '--threads', '1', '--json', str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert 'N instances ms' in text and 'agg ms' in text and 'auto -> ' in text
    row = json.loads(out.read_text())['rows'][0]
    assert row['backend'].startswith('auto:') and row['diff_mm'] < 0.5
    assert row['instances'] == 2 and row['ratio'] > 0 and row['ms_frame'] > 0
    assert 0 < row['agg_ms'] < row['ms']            # the aggregation is part of predict
    assert (tmp_path / 'a2j_ros' / 'backends.json').is_file()


def test_bench_list_says_what_runs_here(capsys):
    assert main(['bench', '--list']) == 0
    text = capsys.readouterr().out
    assert 'eager' in text and 'tensorrt' in text and 'no ' in text and 'auto' in text


GPU_CHECK = Path(__file__).resolve().parents[2] / 'scripts' / 'gpu_check.sh'


@pytest.mark.skipif(not GPU_CHECK.is_file(), reason='scripts/ not in this install')
def test_gpu_check_script_parses_and_refuses_cleanly_without_cuda(tmp_path):
    assert subprocess.run(['bash', '-n', str(GPU_CHECK)]).returncode == 0
    if torch.cuda.is_available():
        pytest.skip('a CUDA device is here: run the script itself')
    proc = subprocess.run(['bash', str(GPU_CHECK), str(tmp_path / 'out')], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2
    assert 'no CUDA device here' in proc.stdout
    assert 'no CUDA device here' in (tmp_path / 'out' / 'summary.txt').read_text()


def test_cuda_backends_refuse_cleanly_on_a_cpu_only_machine(capsys):
    if torch.cuda.is_available():
        pytest.skip('a CUDA device is here')
    for backend in ('eager', 'fp16', 'tensorrt', 'auto'):
        assert main(['bench', '--device', 'cuda', '--backend', backend, '--size', '64',
                     '--backbone', 'resnet18', '--iters', '1']) == 2
        err = capsys.readouterr().err
        assert err.count('\n') == 1 and 'CUDA is not available' in err
