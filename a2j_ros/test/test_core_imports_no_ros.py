"""The core must never load ROS: import every core module in a fresh interpreter."""
from pathlib import Path
import pkgutil
import subprocess
import sys

import a2j_ros.core

CHECK = r"""
import importlib, sys
names = sys.argv[1:]
for name in names:
    importlib.import_module(name)
bad = sorted(m for m in sys.modules
             if m == 'rclpy' or m.startswith('rclpy.') or m.split('.')[0].endswith('_msgs'))
print('\n'.join(bad))
sys.exit(1 if bad else 0)
"""


def _core_modules():
    root = Path(a2j_ros.core.__file__).parent
    names = ['a2j_ros', 'a2j_ros.core', 'a2j_ros.cli']
    for info in pkgutil.walk_packages([str(root)], prefix='a2j_ros.core.'):
        names.append(info.name)
    return names


def test_core_modules_found():
    names = _core_modules()
    assert 'a2j_ros.core.config' in names
    assert 'a2j_ros.core.layouts' in names


def test_core_imports_no_ros_module():
    proc = subprocess.run([sys.executable, '-c', CHECK, *_core_modules()],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (
        'core modules loaded ROS modules:\n' + proc.stdout + proc.stderr)


def test_check_detects_a_ros_import():
    # The check itself must be able to fail: importing rclpy is reported.
    proc = subprocess.run([sys.executable, '-c', CHECK, 'rclpy'], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1 and 'rclpy' in proc.stdout
