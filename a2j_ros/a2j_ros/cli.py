"""The ``a2j`` command: one entry point, one module per verb under ``a2j_ros.commands``.

Each verb module defines ``add_arguments(parser)`` and ``run(args) -> int``. Modules are
imported only when their verb runs, so ``a2j --help`` stays fast and never loads torch.
"""
import argparse
import importlib
import os
import sys

from a2j_ros import __version__
from a2j_ros.core.errors import A2JError

# verb -> (module under a2j_ros.commands, one-line help)
VERBS = {
    'eval': ('eval_cmd', 'evaluate predictions (or a checkpoint) against ground truth'),
    'train': ('train_cmd', 'train A2J on a dataset or on synthetic data'),
    'convert': ('convert_cmd', "convert the authors' released .pth into an a2j_ros checkpoint"),
    'bench': ('bench_cmd', 'measure latency, FPS and GFLOP/s of the network per backend'),
    'export': ('export_cmd', 'export a checkpoint to ONNX'),
    'quantize': ('quantize_cmd', 'find and judge the int8 plan of a checkpoint'),
    'make-bag': ('make_bag_cmd', 'write a rosbag2 (mcap or sqlite3) from a dataset'),
    'replay': ('replay_cmd', 'replay a rosbag through the pose pipeline and write a report'),
    'calibrate': ('calibrate_cmd', "fit a checkpoint's per-joint confidence calibration"),
}


def build_parser():
    """Return the top-level argument parser with every verb registered lazily."""
    parser = argparse.ArgumentParser(
        prog='a2j',
        description='A2J 3D hand and body pose estimation from depth images '
                    '(training, evaluation, export, benchmarks, rosbag tools).')
    parser.add_argument('--version', action='version', version=f'a2j_ros {__version__}')
    sub = parser.add_subparsers(dest='verb', metavar='VERB')
    for verb, (_module, help_text) in VERBS.items():
        sub.add_parser(verb, help=help_text, add_help=False)
    return parser


def _verb_parser(verb):
    module_name, help_text = VERBS[verb]
    try:
        module = importlib.import_module(f'a2j_ros.commands.{module_name}')
    except ModuleNotFoundError as exc:
        if exc.name == f'a2j_ros.commands.{module_name}':
            raise SystemExit(f'a2j {verb}: not built yet in this version') from None
        raise
    parser = argparse.ArgumentParser(prog=f'a2j {verb}', description=help_text)
    module.add_arguments(parser)
    return parser, module


def main(argv=None):
    """Run the ``a2j`` command line; return the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or argv[0] not in VERBS:
        args = parser.parse_args(argv)
        if args.verb is None:
            parser.print_help()
            return 0
    verb, rest = argv[0], argv[1:]
    verb_parser, module = _verb_parser(verb)
    args = verb_parser.parse_args(rest)
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print(f'a2j {verb}: interrupted', file=sys.stderr)
        return 130
    except (A2JError, FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        # Errors the user can act on: say what is wrong in one line, no traceback
        # (A2J_DEBUG=1 shows it).
        if os.environ.get('A2J_DEBUG'):
            raise
        print(f'a2j {verb}: error: {exc}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
