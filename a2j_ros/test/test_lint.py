"""Lint as a test: ruff with the ament flake8 rules and pep257 docstrings (ruff.toml)."""
from pathlib import Path
import shutil
import subprocess

import pytest

PACKAGE = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which('ruff') is None, reason='ruff is not installed')
def test_ruff_clean():
    proc = subprocess.run(['ruff', 'check', '--no-cache', str(PACKAGE)], capture_output=True,
                          text=True, cwd=PACKAGE)
    assert proc.returncode == 0, proc.stdout + proc.stderr
