"""Settings shared by the model, cropping, training and the nodes, as plain dataclasses.

A checkpoint stores ``ModelConfig`` and ``CropConfig`` as dicts, so the file alone rebuilds
the network and the exact pre-processing it was trained with.
"""
from dataclasses import asdict, dataclass, fields


class _DictMixin:
    """from_dict/to_dict for the settings dataclasses."""

    @classmethod
    def from_dict(cls, data):
        """Build from a dict, ignoring unknown keys (forward compatibility)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in dict(data).items() if k in names})

    def to_dict(self):
        """Return a plain dict (JSON/YAML/torch.save friendly)."""
        return asdict(self)


@dataclass
class ModelConfig(_DictMixin):
    """Architecture of one A2J network (paper section 3.1)."""

    backbone: str = 'resnet50'          # resnet18 | resnet34 | resnet50 (torchvision)
    num_joints: int = 14                # K
    layout: str = 'nyu_hand_14'         # joint layout name, see core.layouts
    input_size: int = 176               # square crop side in pixels (176 hand, 288 body)
    use_depth: bool = True              # False: 2D mode without the depth branch (K2HPD)
    anchor_proposal: bool = True        # False: ablation, uniform anchor weights
    shared_regression_branch: bool = False  # True: ablation, one branch for offsets+depth
    head_channels: int = 256            # channels of the 4 intermediate convs per branch
    anchor_stride: int = 4              # pixels between anchors (paper: S_t = 4)


@dataclass
class CropConfig(_DictMixin):
    """How a depth image is cropped, resized and normalised for the network (section 3.2).

    Hands: a cube of +-``cube_xy_mm`` in world x/y around a centre (u, v, d), depth outside
    centre +-``depth_thres_mm`` set to the centre depth, centre subtracted; depth target
    T^d = mu * (Z - theta) with mu = 1 and theta = centre depth (millimetres).
    Bodies: a bounding box, depth in metres, mu = 50, theta = 0.
    The centred crop is then normalised as (x - norm_mean) / norm_std.
    """

    mode: str = 'hand'                  # hand | body
    input_size: int = 176
    cube_xy_mm: float = 110.0           # hand: half side of the cube in world x and y
    depth_thres_mm: float = 150.0       # hand: depth band around the centre
    norm_mean: float = 0.0
    norm_std: float = 1.0
    mu: float = 1.0                     # depth target scale (1 hand, 50 body)
    theta_is_centre: bool = True        # hand: theta = centre depth; body: theta = 0
    box_pad: float = 0.0                # body: extra margin around the box, fraction of side
    depth_max_m: float = 10.0           # body: depth beyond this is background


__all__ = ['ModelConfig', 'CropConfig']
