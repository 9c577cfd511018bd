"""a2j_ros checkpoints: one file that alone rebuilds the network and its pre-processing.

A checkpoint is a ``torch.save`` dict::

    format        'a2j_ros.checkpoint'
    version       1
    model_config  ModelConfig.to_dict()     backbone, joints, layout, input size, 2D/3D, ...
    crop_config   CropConfig.to_dict() or None   crop mode, cube/depth thresholds, mean/std, mu
    joint_names   list of K names (from core.layouts, or joint_00.. for unknown layouts)
    state_dict    the weights (fp32, or fp16 with ``half=True``; loaded back as fp32)
    trained_on    optional: what the weights were trained on (e.g. 'synthetic hands'); the
                  pose node warns when it is synthetic (``checkpoint_metadata`` reads it)
    ...           any extra keys given to save_checkpoint (optimizer, scheduler, epoch, ...)

Files are read with ``torch.load(weights_only=True)``: plain tensors and containers only, so
a checkpoint cannot run code. Writes are atomic (temp file in the same folder, fsync,
``os.replace``): a crash leaves the old file or the new one, never half of one.
"""
from pathlib import Path

import torch

from a2j_ros.core.atomic import atomic_write
from a2j_ros.core.config import CropConfig, ModelConfig
from a2j_ros.core.errors import CheckpointError, InputError
from a2j_ros.core.layouts import LAYOUTS
from a2j_ros.core.torch_file import first_line, read_torch_file

FORMAT = 'a2j_ros.checkpoint'
VERSION = 1
RESERVED = ('format', 'version', 'model_config', 'crop_config', 'joint_names', 'state_dict',
            'trained_on')


def joint_names_for(config):
    """Return the K joint names of a ModelConfig (generic names for an unknown layout)."""
    layout = LAYOUTS.get(config.layout)
    if layout is not None and layout.num_joints == config.num_joints:
        return list(layout.joint_names)
    return [f'joint_{i:02d}' for i in range(config.num_joints)]


def resolve_device(device='cpu'):
    """Return a torch.device for 'auto' (cuda when available), 'cpu', 'cuda' or 'cuda:N'."""
    name = 'cpu' if device is None else str(device)
    if name == 'auto':
        name = 'cuda' if torch.cuda.is_available() else 'cpu'
    try:
        resolved = torch.device(name)
    except RuntimeError:
        raise InputError(f'unknown device {device!r}; use auto, cpu, cuda or cuda:N') from None
    if resolved.type == 'cuda' and not torch.cuda.is_available():
        raise InputError(f'device {device!r} asked for but CUDA is not available here')
    return resolved


def read_checkpoint(path):
    """Return the raw checkpoint dict (for training resume); validate its format tag."""
    data = read_torch_file(path)
    if not isinstance(data, dict) or data.get('format') != FORMAT:
        hint = ''
        if isinstance(data, dict) and any(str(k).startswith(('Backbone.', 'module.Backbone.'))
                                          for k in data):
            hint = "; it looks like the authors' A2J weights: convert them with `a2j convert`"
        raise CheckpointError(f'{path}: not an a2j_ros checkpoint (no {FORMAT!r} tag){hint}')
    version = data.get('version')
    if not isinstance(version, int) or version > VERSION:
        raise CheckpointError(f'{path}: checkpoint format version {version!r} is newer than '
                              f'this a2j_ros reads ({VERSION}); update a2j_ros')
    for key in ('model_config', 'state_dict'):
        if not isinstance(data.get(key), dict):
            raise CheckpointError(f'{path}: checkpoint has no {key!r}')
    return data


def checkpoint_metadata(path):
    """Return a checkpoint's entries without its weights (read memory-mapped: cheap)."""
    data = read_torch_file(path, mmap=True)
    if not isinstance(data, dict) or data.get('format') != FORMAT:
        raise CheckpointError(f'{path}: not an a2j_ros checkpoint (no {FORMAT!r} tag)')
    return {k: v for k, v in data.items() if k != 'state_dict'}


def save_checkpoint(path, model, crop_config=None, *, half=False, trained_on=None, **extra):
    """Write ``model`` (+ crop settings and ``extra`` entries) to ``path`` atomically.

    ``crop_config`` defaults to ``model.crop_config``. ``half=True`` stores floating weights
    as fp16 (half the file; loaded back as fp32). ``trained_on`` says what the weights were
    trained on (stored only when given). ``extra`` holds anything plain that
    ``torch.load(weights_only=True)`` can read back: optimizer/scheduler state_dicts, epoch,
    metrics, ... Return the path.
    """
    clash = sorted(set(extra) & set(RESERVED))
    if clash:
        raise ValueError(f'save_checkpoint: extra keys {clash} are reserved')
    crop = crop_config if crop_config is not None else getattr(model, 'crop_config', None)
    if isinstance(crop, dict):
        crop = CropConfig.from_dict(crop)
    state = {k: v.detach().to('cpu') for k, v in model.state_dict().items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    payload = {'format': FORMAT, 'version': VERSION,
               'model_config': model.config.to_dict(),
               'crop_config': None if crop is None else crop.to_dict(),
               'joint_names': joint_names_for(model.config),
               'state_dict': state}
    if trained_on is not None:
        payload['trained_on'] = str(trained_on)
    payload.update(extra)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_torch_save(payload, path)
    return path


def _atomic_torch_save(payload, path):
    with atomic_write(path) as stream:
        torch.save(payload, stream)


def model_from_checkpoint(data, path='checkpoint'):
    """Build an A2JNet from a checkpoint dict (see read_checkpoint); return it on the CPU."""
    from a2j_ros.core.model import A2JNet
    try:
        config = ModelConfig.from_dict(data['model_config'])
        model = A2JNet(config)
    except (TypeError, ValueError, KeyError, AttributeError, RuntimeError) as exc:
        raise CheckpointError(f'{path}: invalid model_config: {first_line(exc)}') from None
    bad = [k for k, v in data['state_dict'].items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointError(f'{path}: state_dict entry {bad[0]!r} is not a tensor')
    state = {k: v.float() if v.is_floating_point() else v
             for k, v in data['state_dict'].items()}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        raise CheckpointError(f'{path}: weights do not fit the model its config describes '
                              f'({config.backbone}, K={config.num_joints}): '
                              f'{" ".join(lines[1:3]) or lines[0]}') from None
    crop = data.get('crop_config')
    try:
        model.crop_config = CropConfig.from_dict(crop) if isinstance(crop, dict) else None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise CheckpointError(f'{path}: invalid crop_config: {first_line(exc)}') from None
    return model


def load_checkpoint(path, device='cpu'):
    """Return the A2JNet stored in ``path``, in eval mode on ``device``, crop_config set."""
    model = model_from_checkpoint(read_checkpoint(path), path)
    return model.to(resolve_device(device)).eval()


__all__ = ['FORMAT', 'VERSION', 'checkpoint_metadata', 'joint_names_for', 'load_checkpoint',
           'model_from_checkpoint', 'read_checkpoint', 'resolve_device', 'save_checkpoint']
