"""The package's bundled demo checkpoints: where they are, and whether a model is synthetic-only.

``resolve_checkpoint`` turns the node's ``checkpoint`` parameter into a path: empty = the
bundled demo model of the mode (``demo_hand_r18.pt`` / ``demo_body_r18.pt``), a bare file
name that is not a file here = that file in the package's ``data`` folder (installed share
folder, else the source tree). ``synthetic_warning`` is the one loud warning the node logs
for a model trained on synthetic data only (``trained_on`` in the checkpoint, or a bundled
demo file without that field).
"""
import os
from pathlib import Path

PACKAGE = 'a2j_ros'
DEMO_CHECKPOINTS = {'hand': 'demo_hand_r18.pt', 'body': 'demo_body_r18.pt'}
README_SECTION = 'Real hands and bodies'


def data_dirs():
    """Return the folders that may hold the bundled data, installed share folder first."""
    dirs = []
    try:
        from ament_index_python.packages import get_package_share_directory
        dirs.append(Path(get_package_share_directory(PACKAGE)) / 'data')
    except Exception:       # not in an ament index (PackageNotFoundError, no ament at all)
        pass
    dirs.append(Path(__file__).resolve().parents[2] / 'data')     # source checkout
    return dirs


def bundled_file(name):
    """Return the path of bundled data file ``name``, or None when no data folder has it."""
    for folder in data_dirs():
        if (folder / name).is_file():
            return folder / name
    return None


def resolve_checkpoint(value, mode=''):
    """Return the checkpoint path the parameter ``value`` means (see the module doc).

    A value that names neither a file nor a bundled file is returned unchanged (loading
    it then reports 'checkpoint not found' with the name given).
    """
    value = str(value or '').strip()
    if not value:
        name = DEMO_CHECKPOINTS[mode or 'hand']
        found = bundled_file(name)
        return str(found) if found else name
    path = Path(os.path.expanduser(value))
    if path.is_file() or os.sep in value:
        return str(path)
    found = bundled_file(value)
    return str(found) if found else value


def is_bundled_demo(path):
    """Return True if ``path`` is one of the bundled demo checkpoints (by file name)."""
    return Path(path).name in DEMO_CHECKPOINTS.values()


def is_synthetic(path, trained_on):
    """Return True for a model trained on synthetic data only."""
    if trained_on:
        return 'synthetic' in str(trained_on).lower()
    return is_bundled_demo(path)


def synthetic_warning(path, trained_on):
    """Return the warning for a synthetic-only model (one line)."""
    what = trained_on or 'synthetic data (bundled demo model)'
    return (f'DEMO MODEL: {path} was trained on {what} only. It shows the node working on '
            'synthetic scenes; on a real camera its joints are little better than the hand '
            f'or body centre. For real hands and bodies see the README section "{README_SECTION}"'
            " (the authors' trained models, `a2j convert`).")


__all__ = ['DEMO_CHECKPOINTS', 'README_SECTION', 'bundled_file', 'data_dirs', 'is_bundled_demo',
           'is_synthetic', 'resolve_checkpoint', 'synthetic_warning']
