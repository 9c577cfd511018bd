"""Read torch files safely: ``torch.load(weights_only=True)``, one CheckpointError on failure.

Below both ``core.checkpoint`` (a2j_ros checkpoints) and ``core.model`` (ImageNet backbone
weights), so neither imports the other to read a file.
"""
from pathlib import Path
import warnings
import zipfile

import torch

from a2j_ros.core.errors import CheckpointError


def read_torch_file(path, mmap=False):
    """Return what ``torch.load`` finds in ``path``; raise CheckpointError when it cannot.

    ``mmap=True`` maps the file instead of reading it (zip-format files; cheap when only the
    metadata is wanted). Any failure of the loader is the file's fault here (random or
    truncated bytes make torch raise IndexError, KeyError, UnpicklingError, RuntimeError,
    ...): all of them become one CheckpointError naming the file, and the loader's warnings
    are silenced.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f'checkpoint not found: {path}')
    if path.stat().st_size == 0:
        raise CheckpointError(f'{path}: the file is empty')
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            if mmap and zipfile.is_zipfile(path):
                return torch.load(path, map_location='cpu', weights_only=True, mmap=True)
            return torch.load(path, map_location='cpu', weights_only=True)
    except MemoryError:
        raise CheckpointError(f'{path}: not a readable torch file (corrupt sizes)') from None
    except Exception as exc:  # noqa: B902 - every loader failure means a bad file
        raise CheckpointError(f'{path}: not a readable torch file (truncated or corrupt, or not '
                              f'a torch file): {first_line(exc)}') from None


def first_line(exc, limit=160):
    """Return the first line of an exception's message, shortened, or its type name."""
    text = str(exc).strip()
    if text.startswith('Weights only load failed'):
        return 'it holds data a weights-only load refuses'
    line = text.splitlines()[0] if text else type(exc).__name__
    return line if len(line) <= limit else line[:limit] + '...'


def load_state_dict_file(path):
    """Return a plain state_dict from a torch file (raw state_dict or {'state_dict': ...})."""
    data = read_torch_file(path)
    if isinstance(data, dict) and isinstance(data.get('state_dict'), dict):
        data = data['state_dict']
    if not isinstance(data, dict) or not data or not all(
            isinstance(v, torch.Tensor) for v in data.values()):
        raise CheckpointError(f'{path}: not a state_dict (expected a dict of tensors)')
    return dict(data)


__all__ = ['first_line', 'load_state_dict_file', 'read_torch_file']
