"""Read torch files safely: ``torch.load(weights_only=True)``, one CheckpointError on failure.

Below both ``core.checkpoint`` (a2j_ros checkpoints) and ``core.model`` (ImageNet backbone
weights), so neither imports the other to read a file.
"""
from pathlib import Path
import pickle
import zipfile

import torch

from a2j_ros.core.errors import CheckpointError


def read_torch_file(path, mmap=False):
    """Return what ``torch.load`` finds in ``path``; raise CheckpointError when it cannot.

    ``mmap=True`` maps the file instead of reading it (zip-format files; cheap when only the
    metadata is wanted).
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f'checkpoint not found: {path}')
    try:
        if mmap and zipfile.is_zipfile(path):
            return torch.load(path, map_location='cpu', weights_only=True, mmap=True)
        return torch.load(path, map_location='cpu', weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError,
            zipfile.BadZipFile, AttributeError, TypeError, KeyError) as exc:
        raise CheckpointError(f'{path}: not a readable torch file (truncated or corrupt?): '
                              f'{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}'
                              ) from None


def load_state_dict_file(path):
    """Return a plain state_dict from a torch file (raw state_dict or {'state_dict': ...})."""
    data = read_torch_file(path)
    if isinstance(data, dict) and isinstance(data.get('state_dict'), dict):
        data = data['state_dict']
    if not isinstance(data, dict) or not data or not all(
            isinstance(v, torch.Tensor) for v in data.values()):
        raise CheckpointError(f'{path}: not a state_dict (expected a dict of tensors)')
    return dict(data)


__all__ = ['load_state_dict_file', 'read_torch_file']
