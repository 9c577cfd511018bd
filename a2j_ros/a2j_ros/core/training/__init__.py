"""Training A2J: configuration, the epoch loop, evaluation, logs, checkpoints and DDP."""
from a2j_ros.core.training.config import load_train_config, TrainConfig, TrainSettings
from a2j_ros.core.training.engine import NonFiniteLossError

__all__ = ['NonFiniteLossError', 'TrainConfig', 'TrainSettings', 'load_train_config']
