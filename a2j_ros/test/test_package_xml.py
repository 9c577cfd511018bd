"""package.xml declares exactly the packages the code imports (optional ones marked so)."""
import ast
from pathlib import Path
import re
import sys

PACKAGE = Path(__file__).resolve().parents[1]
# imported top-level module -> rosdep key (None: pip only, named in a package.xml comment)
KEYS = {
    'rclpy': 'rclpy', 'rcl_interfaces': 'rcl_interfaces',
    'builtin_interfaces': 'builtin_interfaces', 'std_msgs': 'std_msgs',
    'sensor_msgs': 'sensor_msgs', 'geometry_msgs': 'geometry_msgs',
    'visualization_msgs': 'visualization_msgs', 'diagnostic_msgs': 'diagnostic_msgs',
    'rosgraph_msgs': 'rosgraph_msgs', 'a2j_ros_msgs': 'a2j_ros_msgs',
    'ament_index_python': 'ament_index_python', 'launch': 'launch', 'launch_ros': 'launch_ros',
    'message_filters': 'message_filters', 'vision_msgs': 'vision_msgs', 'tf2_msgs': 'tf2_msgs',
    'numpy': 'python3-numpy', 'scipy': 'python3-scipy', 'h5py': 'python3-h5py',
    'yaml': 'python3-yaml', 'tqdm': 'python3-tqdm', 'matplotlib': 'python3-matplotlib',
    'PIL': 'python3-pil', 'torch': 'python3-torch', 'torchvision': 'python3-torchvision',
    'rosbags': 'python3-rosbags-pip', 'onnxruntime': 'python3-onnxruntime-pip', 'onnx': None,
}
OPTIONAL = {'message_filters', 'vision_msgs', 'tf2_msgs'}


def imported_modules():
    """Return the top-level third-party modules imported by the package and launch files."""
    found = set()
    files = list((PACKAGE / 'a2j_ros').rglob('*.py')) + list((PACKAGE / 'launch').glob('*.py'))
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split('.')[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split('.')[0])
    return {m for m in found if m not in sys.stdlib_module_names and m != 'a2j_ros'}


def test_package_xml_matches_the_imports():
    text = (PACKAGE / 'package.xml').read_text()
    declared = dict(re.findall(r'<exec_depend>([^<]+)</exec_depend>(.*)', text))
    modules = imported_modules()
    unknown = sorted(modules - set(KEYS))
    assert not unknown, f'imported but not mapped to a rosdep key here: {unknown}'
    wanted = {KEYS[m] for m in modules if KEYS[m]}
    assert set(declared) == wanted, (f'missing: {sorted(wanted - set(declared))}, '
                                     f'not imported: {sorted(set(declared) - wanted)}')
    for module in OPTIONAL & modules:
        assert 'optional' in declared[KEYS[module]], f'{module} is not marked optional'
    for module in modules:
        if KEYS[module] is None:
            assert re.search(rf'pip only[^>]*\b{module}\b', text), f'{module} not named'
    assert 'cv_bridge' not in text
