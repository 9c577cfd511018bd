"""Training settings: one YAML file per dataset (a2j_ros/config/train/*.yaml).

Sections (every key optional except ``dataset``)::

    dataset: nyu                 # a core.presets name: layout, camera, crop settings, metric
    root: /data/nyu              # dataset folder (or --root); not used by synthetic sets
    train_split: train
    val_split: test              # evaluated after every epoch
    dataset_options: {}          # reader options (centres/boxes files; synthetic: seed, ...)
    num_train: 4000              # synthetic only: frames per epoch
    num_val: 300                 # synthetic only: held-out frames
    resample_each_epoch: true    # synthetic only: fresh frames every epoch
    model: {backbone: resnet50}  # core.config.ModelConfig fields (layout/joints from preset)
    crop: {}                     # CropConfig overrides (input_size follows the model)
    loss: {preset: paper}        # core.losses.LossConfig preset + field overrides (lr, ...)
    augment: {}                  # core.augment.AugmentConfig overrides (noise from the loss)
    train: {epochs: 34, batch_size: 32, workers: 1, seed: 0, amp: true,
            eval_batch_size: 32, max_val_frames: null, log_every: 20}
"""
from dataclasses import dataclass, field, fields, replace
import os

from a2j_ros.core.errors import InputError


@dataclass
class TrainSettings:
    """The ``train`` section."""

    epochs: int = 34
    batch_size: int = 32
    workers: int = 1
    seed: int = 0
    amp: bool = True                 # mixed precision, CUDA only
    eval_batch_size: int = 32
    max_val_frames: int = 0          # 0 = all
    log_every: int = 20              # steps between TensorBoard loss points
    threads: int = 0                 # torch CPU threads (0 = torch's default)


@dataclass
class TrainConfig:
    """A whole training configuration (see the module docstring)."""

    dataset: str
    root: str = ''
    train_split: str = 'train'
    val_split: str = 'test'
    dataset_options: dict = field(default_factory=dict)
    num_train: int = 4000
    num_val: int = 300
    resample_each_epoch: bool = True
    model: dict = field(default_factory=dict)
    crop: dict = field(default_factory=dict)
    loss: dict = field(default_factory=dict)
    augment: dict = field(default_factory=dict)
    train: TrainSettings = field(default_factory=TrainSettings)
    source: str = ''                 # the YAML file it came from

    @property
    def synthetic(self):
        """True for the rendered datasets."""
        return self.dataset.startswith('synthetic_')

    def to_dict(self):
        """Return a plain dict (stored in checkpoints and the run folder)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out['train'] = {f.name: getattr(self.train, f.name) for f in fields(TrainSettings)}
        return out

    @classmethod
    def from_dict(cls, data, source=''):
        """Build from a dict (parsed YAML); unknown keys raise InputError naming them."""
        if not isinstance(data, dict):
            raise InputError(f'{source or "config"}: expected a mapping at the top level')
        data = dict(data)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(f'{source or "config"}: unknown keys {unknown}; known: '
                             f'{sorted(known - {"source"})}')
        if 'dataset' not in data:
            raise InputError(f'{source or "config"}: needs a "dataset" (a preset name)')
        train = dict(data.pop('train', None) or {})
        tknown = {f.name for f in fields(TrainSettings)}
        if set(train) - tknown:
            raise InputError(f'{source or "config"}: unknown train keys '
                             f'{sorted(set(train) - tknown)}; known: {sorted(tknown)}')
        for key in ('model', 'crop', 'loss', 'augment', 'dataset_options'):
            if data.get(key) is None:
                data.pop(key, None)
            elif not isinstance(data[key], dict):
                raise InputError(f'{source or "config"}: {key} must be a mapping')
        return cls(**data, train=TrainSettings(**train), source=str(source))

    def with_overrides(self, root=None, epochs=None):
        """Return a copy with the command-line overrides applied."""
        config = replace(self)
        if root:
            config.root = str(root)
        if epochs:
            config.train = replace(self.train, epochs=int(epochs))
        return config


def load_train_config(path):
    """Read a training YAML file; raise InputError naming the file when it is unusable."""
    import yaml
    if not os.path.isfile(path):
        raise InputError(f'{path}: training config not found')
    try:
        with open(path, encoding='utf-8') as f:
            data = yaml.safe_load(f)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f'{path}: not valid YAML ({str(exc).splitlines()[0]})') from None
    try:
        return TrainConfig.from_dict(data, source=path)
    except TypeError as exc:
        raise InputError(f'{path}: {exc}') from None


__all__ = ['TrainConfig', 'TrainSettings', 'load_train_config']
