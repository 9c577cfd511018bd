"""The a2j entry point: help, version, unknown verbs."""
import subprocess
import sys

import pytest

from a2j_ros import __version__
from a2j_ros.cli import main, VERBS


def test_help_lists_every_verb(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for verb in VERBS:
        assert verb in out


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(['--version'])
    assert exc.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_unknown_verb_fails():
    with pytest.raises(SystemExit) as exc:
        main(['frobnicate'])
    assert exc.value.code == 2


def test_console_script_runs():
    proc = subprocess.run([sys.executable, '-m', 'a2j_ros.cli', '--help'], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and 'usage: a2j' in proc.stdout
