"""The README's launch and run lines work as written (what can run here).

``ros2 launch`` lines: the launch files' argument handling (launch_common.node_configuration)
accepts every argument and finds the checkpoint (``/path/...`` and ``$PWD/...`` are the
user's files). ``pose_node`` lines run as written from the repository root, and ``ros2 run
a2j_ros pose_node`` lines run as ``pose_node`` (no ros2 CLI here) with a placeholder
checkpoint replaced by the bundled one: each must configure, activate and stop on SIGINT.
"""
import os
from pathlib import Path
import re
import shlex
import signal
import subprocess
import time

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDERS = ('/path/', '$PWD/')


def readme_commands(prefix):
    """Return the README's code-block commands starting with ``prefix`` (joined, no comment)."""
    text = (ROOT / 'README.md').read_text()
    commands = []
    for block in re.findall(r'```(?:bash)?\n(.*?)```', text, re.S):
        for line in block.replace('\\\n', ' ').splitlines():
            line = re.sub(r'\s+#.*$', '', line).strip()
            if line.startswith(prefix):
                commands.append(line)
    return commands


LAUNCH_LINES = readme_commands('ros2 launch a2j_ros')
RUN_LINES = readme_commands('pose_node ') + readme_commands('ros2 run a2j_ros pose_node')


def test_the_readme_has_the_lines():
    assert len(LAUNCH_LINES) >= 4 and len(RUN_LINES) >= 3


@pytest.mark.parametrize('line', LAUNCH_LINES)
def test_launch_lines(line):
    from a2j_ros.ros.launch_common import node_configuration
    words = shlex.split(line)
    launch_file = words[3]
    assert (ROOT / 'a2j_ros' / 'launch' / launch_file).is_file(), launch_file
    args = dict(w.split(':=', 1) for w in words[4:] if ':=' in w)
    mode = launch_file.split('_')[0]
    config = node_configuration(args, mode, 'params.yaml')
    checkpoint = config['parameters'][1]['checkpoint']
    if not checkpoint.startswith(PLACEHOLDERS) and mode == 'hand':
        assert Path(checkpoint).is_file(), f'{line}: {checkpoint} not found'


def _runnable(line):
    """Return the argv that runs a README run line here (see the module docstring)."""
    words = shlex.split(line)
    if words[:2] == ['ros2', 'run']:
        words = words[3:]
    return [w.replace('checkpoint:=/path/hand.pt', 'checkpoint:=demo_hand_r18.pt')
            for w in words]


@pytest.fixture(scope='module')
def run_logs():
    """Start every run line at once from the repository root; return {line: (log, code)}.

    Each is stopped with SIGINT once it logged 'active: listening' (or failed to configure).
    """
    pytest.importorskip('rclpy')
    env = dict(os.environ, RCUTILS_LOGGING_BUFFERED_STREAM='0')
    procs = {line: subprocess.Popen(_runnable(line), cwd=ROOT, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, env=env)
             for line in RUN_LINES}
    logs = {}
    try:
        for line, proc in procs.items():
            lines, deadline = [], time.monotonic() + 120.0
            while time.monotonic() < deadline:
                text = proc.stdout.readline()
                if not text:
                    break
                lines.append(text)
                if 'active: listening' in text or 'cannot configure' in text:
                    break
            proc.send_signal(signal.SIGINT)
            rest = proc.communicate(timeout=30)[0]
            logs[line] = (''.join(lines) + rest, proc.returncode)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return logs


@pytest.mark.parametrize('line', RUN_LINES)
def test_run_lines(run_logs, line):
    log, code = run_logs[line]
    assert 'active: listening' in log, log[-2000:]
    assert 'DEMO MODEL' in log                      # the bundled model says what it is
    assert code == 0, log[-2000:]
