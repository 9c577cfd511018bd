"""The launch files load (with launch_ros where installed) or at least parse."""
import ast
import importlib.util
from pathlib import Path

import pytest
import yaml

PACKAGE = Path(__file__).resolve().parents[1]
LAUNCH_FILES = sorted((PACKAGE / 'launch').glob('*.launch.py'))


def test_launch_files_exist():
    names = {p.name for p in LAUNCH_FILES}
    assert {'hand_pose.launch.py', 'body_pose.launch.py'} <= names


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_file_parses_and_defines_generate(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert 'generate_launch_description' in functions


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_file_loads_with_launch_ros(path):
    pytest.importorskip('launch')
    pytest.importorskip('launch_ros')
    from launch.actions import DeclareLaunchArgument

    from launch import LaunchDescription
    try:
        from ament_index_python.packages import get_package_share_directory
        get_package_share_directory('a2j_ros')
    except Exception:
        pytest.skip('a2j_ros is not installed in an ament index here')
    spec = importlib.util.spec_from_file_location(path.stem.replace('.', '_'), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    description = module.generate_launch_description()
    assert isinstance(description, LaunchDescription)
    args = {a.name for a in description.entities if isinstance(a, DeclareLaunchArgument)}
    assert {'checkpoint', 'device', 'backend', 'depth_topic', 'camera_info_topic',
            'rois_topic', 'use_sim_time', 'rviz', 'params_file'} <= args


@pytest.mark.parametrize('name', ['hand_pose.yaml', 'body_pose.yaml'])
def test_params_files_declare_only_known_parameters(name):
    from a2j_ros.ros.node_params import PARAMETERS
    data = yaml.safe_load((PACKAGE / 'config' / name).read_text())
    params = data['/**']['ros__parameters']
    known = {p[0] for p in PARAMETERS}
    assert set(params) <= known, sorted(set(params) - known)
    assert params['mode'] == name.split('_')[0]


def test_rviz_config_shows_markers_in_the_optical_frame():
    data = yaml.safe_load((PACKAGE / 'config' / 'a2j_ros.rviz').read_text())
    manager = data['Visualization Manager']
    classes = {d['Class'] for d in manager['Displays']}
    assert {'rviz_default_plugins/MarkerArray', 'rviz_default_plugins/DepthCloud'} <= classes
    assert manager['Global Options']['Fixed Frame'].endswith('optical_frame')
