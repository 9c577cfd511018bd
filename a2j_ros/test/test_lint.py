"""Lint as a test: ruff with the ament flake8 rules and pep257 docstrings (ruff.toml)."""
from pathlib import Path
import shutil
import subprocess

import pytest

PACKAGE = Path(__file__).resolve().parents[1]
TOOLS = PACKAGE.parent / 'tools'


@pytest.mark.skipif(shutil.which('ruff') is None, reason='ruff is not installed')
@pytest.mark.parametrize('folder', [PACKAGE, TOOLS], ids=['a2j_ros', 'tools'])
def test_ruff_clean(folder):
    proc = subprocess.run(['ruff', 'check', '--no-cache', str(folder)], capture_output=True,
                          text=True, cwd=folder)
    assert proc.returncode == 0, proc.stdout + proc.stderr
