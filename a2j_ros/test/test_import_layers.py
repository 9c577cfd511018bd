"""Imports go one way: ros -> bag -> core, no cycles in core and bag, no ROS below ros.

The import graph is read from the source with ``ast`` (every ``import`` statement, also those
inside functions), so an import that only runs on some code path still counts. The no-ROS
check imports every core and bag module in a fresh interpreter and lists what got loaded.
"""
import ast
from pathlib import Path
import pkgutil
import subprocess
import sys

import a2j_ros

PACKAGE_DIR = Path(a2j_ros.__file__).resolve().parent
ROS_LOADED = r"""
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
ros = ('rclpy', 'message_filters', 'launch', 'launch_ros', 'rosidl_runtime_py')
bad = sorted(m for m in sys.modules if m.split('.')[0] in ros or m.split('.')[0].endswith('_msgs'))
print('\n'.join(bad))
sys.exit(1 if bad else 0)
"""


def module_files(root, package):
    """Return {module name: path} of every .py file under ``root`` (the folder of ``package``)."""
    modules = {}
    for path in sorted(root.rglob('*.py')):
        parts = list(path.relative_to(root).with_suffix('').parts)
        if parts[-1] == '__init__':
            parts = parts[:-1]
        modules['.'.join([package, *parts])] = path
    return modules


def import_graph(modules):
    """Return {module: set of modules of ``modules`` it imports} from the source (ast)."""
    graph = {}
    for name, path in modules.items():
        is_package = path.name == '__init__.py'
        base = name if is_package else name.rpartition('.')[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    anchor = base.split('.')
                    anchor = anchor[:len(anchor) - (node.level - 1)]
                    origin = '.'.join(anchor + ([node.module] if node.module else []))
                else:
                    origin = node.module or ''
                # `from pkg import sub` imports the submodule when there is one
                targets = [f'{origin}.{a.name}' if f'{origin}.{a.name}' in modules else origin
                           for a in node.names]
            for target in targets:
                while target and target not in modules:    # a.b.func -> a.b
                    target = target.rpartition('.')[0]
                if target and target != name:
                    edges.add(target)
        graph[name] = edges
    return graph


def cycles(graph):
    """Return the strongly connected components of more than one module (Tarjan), sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def _layer(name):
    parts = name.split('.')
    return parts[1] if len(parts) > 1 else ''


def test_no_import_cycles_in_core_and_bag():
    graph = import_graph(module_files(PACKAGE_DIR, 'a2j_ros'))
    lower = {m: {t for t in e if _layer(t) in ('core', 'bag')}
             for m, e in graph.items() if _layer(m) in ('core', 'bag')}
    assert len(lower) > 40
    assert cycles(lower) == []


def test_layers_import_one_way():
    graph = import_graph(module_files(PACKAGE_DIR, 'a2j_ros'))
    allowed = {'core': {'core', ''}, 'bag': {'bag', 'core', ''}}
    wrong = sorted(f'{m} -> {t}' for m, edges in graph.items() if _layer(m) in allowed
                   for t in edges if _layer(t) not in allowed[_layer(m)])
    assert wrong == []


def test_the_check_finds_a_cycle_and_a_function_level_import(tmp_path):
    pkg = tmp_path / 'pkg'
    (pkg / 'sub').mkdir(parents=True)
    (pkg / '__init__.py').write_text('')
    (pkg / 'sub' / '__init__.py').write_text('')
    (pkg / 'a.py').write_text('from pkg.b import thing\n')
    (pkg / 'b.py').write_text('def f():\n    from .sub import c\n')
    (pkg / 'sub' / 'c.py').write_text('import pkg.a\n')
    (pkg / 'd.py').write_text('from pkg import a\n')
    graph = import_graph(module_files(pkg, 'pkg'))
    assert graph['pkg.a'] == {'pkg.b'} and graph['pkg.b'] == {'pkg.sub.c'}
    assert graph['pkg.d'] == {'pkg.a'}
    assert cycles(graph) == [['pkg.a', 'pkg.b', 'pkg.sub.c']]


def _core_and_bag_modules():
    names = ['a2j_ros', 'a2j_ros.cli']
    for sub in ('core', 'bag'):
        names.append(f'a2j_ros.{sub}')
        names += [info.name for info in pkgutil.walk_packages(
            [str(PACKAGE_DIR / sub)], prefix=f'a2j_ros.{sub}.')]
    return names


def test_core_and_bag_load_no_ros_module():
    names = _core_and_bag_modules()
    assert {'a2j_ros.core.config', 'a2j_ros.bag.reader', 'a2j_ros.core.roi_search'} <= set(names)
    proc = subprocess.run([sys.executable, '-c', ROS_LOADED, *names], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, 'ROS modules loaded:\n' + proc.stdout + proc.stderr


def test_the_fresh_process_check_sees_rclpy():
    proc = subprocess.run([sys.executable, '-c', ROS_LOADED, 'rclpy'], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1 and 'rclpy' in proc.stdout
