"""The authors' A2J network, their decoding, and conversion of their weights into ours.

Facts from github.com/zhangboshen/A2J (``src/model.py``, ``src/anchor.py``, ``src/<dataset>.py``,
MIT licence), re-implemented here, not copied:

* ``A2J_model``: ``Backbone.model`` is a torchvision-style ResNet-50 (with its unused ``fc``)
  whose layer4 has stride 1 and dilation 2 in its later blocks; the depth crop (N, 1, H, W) is
  repeated to three channels. Heads ``classificationModel`` (on layer3), ``regressionModel``
  and ``DepthRegressionModel`` (on layer4), each ``conv1..conv4`` (3x3, 256, with bias),
  ``bn1..bn4``, ReLU, ``output``.
* Heads flatten their map with ``permute(0, 3, 2, 1)``: feature-map width outermost, then
  height, then the 16 anchors of the cell, then the joint (then y, x for offsets).
* Anchors and joints are (row, column) = (y, x); the 16 anchors of a cell are at offsets
  2, 6, 10, 14 in y (outer) and x (inner); cells are listed column-major to match the heads.
* Decoding is Eq. 1-2 per sample: softmax over anchors, weighted sum of (anchor + offset) and
  of depth. Output (N, K, 3) = (y, x, depth target) in crop pixels.

``AuthorsA2J`` keeps their module names, eager structure and three-channel input (for checking
and for benchmarks), without their ``.cuda()`` calls or ImageNet download.
``convert_authors_state_dict`` turns their state_dict into an ``A2JNet`` one.
"""
from dataclasses import dataclass

import torch
from torch import nn

from a2j_ros.core.anchors import cell_offsets, feature_size
from a2j_ros.core.config import CropConfig, ModelConfig
from a2j_ros.core.errors import CheckpointError, InputError
from a2j_ros.core.layouts import get_layout
from a2j_ros.core.model import A2JNet, build_resnet, trunk_channels
from a2j_ros.core.presets import get_preset

AUTHORS_ANCHORS_PER_CELL = 16


# The datasets of the authors' released weights (their src/<dataset>.py test scripts). Crop
# settings, normalisation and layout come from core.presets (same values as their scripts and
# data/<dataset>/*_mean.npy, *_std.npy files); joints and 2D/3D from core.layouts.
AUTHORS_DATASETS = ('nyu', 'icvl', 'hands2017', 'itop_side', 'itop_top', 'k2hpd')


@dataclass(frozen=True)
class AuthorsDataset:
    """What converting weights for one dataset needs: model shape and crop settings."""

    name: str
    num_joints: int
    layout: str
    input_size: int
    use_depth: bool
    crop: CropConfig


def authors_dataset(name):
    """Return the AuthorsDataset called ``name``; raise InputError naming the known ones."""
    if name not in AUTHORS_DATASETS:
        raise InputError(f'unknown dataset {name!r}; known: {", ".join(AUTHORS_DATASETS)}')
    preset = get_preset(name)
    layout = get_layout(preset.layout)
    return AuthorsDataset(name=name, num_joints=layout.num_joints, layout=layout.name,
                          input_size=preset.crop.input_size, use_depth=layout.dims == 3,
                          crop=preset.crop)


# ---------------------------------------------------------------- their network, for reference

class AuthorsHead(nn.Module):
    """One of the authors' heads: conv1..4 + bn1..4 + ReLU, output, their flattening."""

    def __init__(self, in_channels, num_joints, components, width=256,
                 anchors_per_cell=AUTHORS_ANCHORS_PER_CELL):
        super().__init__()
        self.num_joints, self.components, self.anchors_per_cell = (
            num_joints, components, anchors_per_cell)
        channels = in_channels
        for i in range(1, 5):
            setattr(self, f'conv{i}', nn.Conv2d(channels, width, kernel_size=3, padding=1))
            setattr(self, f'bn{i}', nn.BatchNorm2d(width))
            setattr(self, f'act{i}', nn.ReLU())
            channels = width
        self.output = nn.Conv2d(width, anchors_per_cell * num_joints * components,
                                kernel_size=3, padding=1)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.xavier_normal_(module.weight)

    def forward(self, x):
        """Return (N, A, K) or (N, A, K, 2) with anchors ordered width-major, as theirs."""
        for i in range(1, 5):
            x = getattr(self, f'act{i}')(getattr(self, f'bn{i}')(getattr(self, f'conv{i}')(x)))
        out = self.output(x).permute(0, 3, 2, 1)         # N, W, H, C
        n, width, height, _ = out.shape
        shape = (n, width, height, self.anchors_per_cell, self.num_joints, self.components)
        out = out.contiguous().view(*shape).view(n, -1, self.num_joints, self.components)
        return out.squeeze(-1) if self.components == 1 else out


class AuthorsBackbone(nn.Module):
    """Their ``ResNetBackBone``: repeats the depth to 3 channels, returns (layer3, layer4)."""

    def __init__(self, backbone='resnet50'):
        super().__init__()
        self.model = build_resnet(backbone)

    def forward(self, x):
        """Return the (layer3, layer4) features of x (N, 1 or more, H, W); uses channel 0."""
        n, _, h, w = x.shape
        x = x[:, 0:1].expand(n, 3, h, w)
        m = self.model
        x = m.maxpool(m.relu(m.bn1(m.conv1(x))))
        x3 = m.layer3(m.layer2(m.layer1(x)))
        return x3, m.layer4(x3)


class AuthorsA2J(nn.Module):
    """The authors' ``A2J_model`` (their module names and key layout), for reference.

    ``forward`` returns their tuple (classification (N, A, K), regression (N, A, K, 2) in
    (y, x), depth (N, A, K)), without depth in 2D mode. ``backbone`` other than resnet50 is
    ours (for small tests); their released files are ResNet-50.
    """

    def __init__(self, num_joints, is_3d=True, backbone='resnet50'):
        super().__init__()
        self.num_joints, self.is_3d = num_joints, is_3d
        c3, c4 = trunk_channels(backbone)
        self.Backbone = AuthorsBackbone(backbone)
        self.regressionModel = AuthorsHead(c4, num_joints, 2)
        self.classificationModel = AuthorsHead(c3, num_joints, 1)
        if is_3d:
            self.DepthRegressionModel = AuthorsHead(c4, num_joints, 1)

    def forward(self, x):
        """Return their head outputs for x (N, 1, H, W)."""
        x3, x4 = self.Backbone(x)
        classification = self.classificationModel(x3)
        regression = self.regressionModel(x4)
        if self.is_3d:
            return classification, regression, self.DepthRegressionModel(x4)
        return classification, regression

    def anchors_for(self, x):
        """Return their (A, 2) anchors (y, x) for an input x, on its device and dtype."""
        return authors_anchors(feature_size(x.shape[-2]), feature_size(x.shape[-1]),
                               device=x.device, dtype=x.dtype)

    @torch.no_grad()
    def predict(self, x):
        """Return their (N, K, 3) (y, x, depth target) or (N, K, 2) predictions for x."""
        return authors_decode(self(x), self.anchors_for(x))


def authors_anchors(feature_height, feature_width, device=None, dtype=torch.float32):
    """Return their anchors (A, 2) as (y, x), cells column-major (x outer), to match their heads.

    Note: their scripts size the grid with ``input // 16``, the backbone with ``ceil``; both
    agree for inputs that are multiples of 16 (176, 288). This follows the backbone.
    """
    offsets = torch.tensor(cell_offsets(4), device=device, dtype=dtype)
    in_y, in_x = torch.meshgrid(offsets, offsets, indexing='ij')             # y outer, x inner
    cell = torch.stack((in_y, in_x), dim=-1).reshape(-1, 2)
    ys = torch.arange(int(feature_height), device=device, dtype=dtype) * 16
    xs = torch.arange(int(feature_width), device=device, dtype=dtype) * 16
    grid_x, grid_y = torch.meshgrid(xs, ys, indexing='ij')                   # x outer, y inner
    origins = torch.stack((grid_y, grid_x), dim=-1).reshape(-1, 1, 2)
    return (origins + cell.unsqueeze(0)).reshape(-1, 2)


def authors_decode(heads, anchors):
    """Decode their head outputs as their ``post_process`` does, one sample at a time.

    Deliberately a loop over the batch, like their code, so benchmarks compare like with like.
    Return (N, K, 3) = (y, x, depth target), or (N, K, 2) without a depth head.
    """
    classifications, regressions = heads[0], heads[1]
    depths = heads[2] if len(heads) > 2 else None
    results = []
    for i in range(classifications.shape[0]):
        weights = torch.softmax(classifications[i], dim=0)                  # A, K
        positions = anchors.unsqueeze(1) + regressions[i]                   # A, K, 2
        yx = (weights.unsqueeze(2) * positions).sum(0)                      # K, 2
        if depths is None:
            results.append(yx)
        else:
            depth = (weights * depths[i]).sum(0)
            results.append(torch.cat((yx, depth.unsqueeze(1)), dim=1))
    return torch.stack(results)


# ---------------------------------------------------------------- conversion into A2JNet

_HEADS = {'classificationModel.': 'proposal_head.', 'regressionModel.': 'offset_head.',
          'DepthRegressionModel.': 'depth_head.'}


def _strip_module(state_dict):
    return {k[len('module.'):] if k.startswith('module.') else k: v
            for k, v in state_dict.items()}


def infer_backbone(state_dict):
    """Return the ResNet name a state_dict in the authors' layout was built with."""
    keys = set(state_dict)
    if 'Backbone.model.layer1.0.conv3.weight' in keys:
        return 'resnet50'
    if 'Backbone.model.layer3.5.conv1.weight' in keys:
        return 'resnet34'
    if 'Backbone.model.layer1.0.conv1.weight' in keys:
        return 'resnet18'
    raise CheckpointError("not the authors' A2J state_dict: no 'Backbone.model.*' ResNet keys")


def convert_authors_state_dict(state_dict, dataset):
    """Convert the authors' state_dict for ``dataset``; return (ModelConfig, CropConfig, ours).

    Handles a ``module.`` (DataParallel) prefix, sums conv1's three input channels into one,
    drops the unused ``fc``, renames the heads, and swaps the (y, x) pairs of the offset head's
    output channels into (u, v). Their anchor order needs no weight change: aggregation sums
    over anchors, and each side pairs its anchors with its own head flattening.
    """
    preset = authors_dataset(dataset)
    if not isinstance(state_dict, dict):
        raise CheckpointError("the authors' file does not hold a state_dict")
    theirs = _strip_module(state_dict)
    backbone = infer_backbone(theirs)
    required = ('classificationModel.output.weight', 'regressionModel.output.weight')
    missing = [k for k in required if k not in theirs]
    if missing:
        raise CheckpointError(f"not the authors' A2J state_dict: missing {missing}")
    out_channels = theirs['classificationModel.output.weight'].shape[0]
    num_joints = out_channels // AUTHORS_ANCHORS_PER_CELL
    if num_joints != preset.num_joints or out_channels % AUTHORS_ANCHORS_PER_CELL:
        raise CheckpointError(f'the weights predict {out_channels / 16:g} joints but dataset '
                              f'{dataset!r} has {preset.num_joints}; wrong --dataset?')
    has_depth = 'DepthRegressionModel.output.weight' in theirs
    if has_depth != preset.use_depth:
        raise CheckpointError(f'the weights {"have" if has_depth else "lack"} a depth branch but '
                              f'dataset {dataset!r} is {"3D" if preset.use_depth else "2D"}')
    config = ModelConfig(backbone=backbone, num_joints=num_joints, layout=preset.layout,
                         input_size=preset.input_size, use_depth=preset.use_depth,
                         head_channels=int(theirs['classificationModel.conv1.weight'].shape[0]),
                         anchor_stride=4)
    ours = {}
    for key, value in theirs.items():
        if key.startswith('Backbone.model.fc.'):
            continue
        if key.startswith('Backbone.model.'):
            new = 'backbone.' + key[len('Backbone.model.'):]
        else:
            prefix = next((p for p in _HEADS if key.startswith(p)), None)
            if prefix is None:
                raise CheckpointError(f"unexpected key {key!r} in the authors' state_dict")
            new = _HEADS[prefix] + key[len(prefix):]
        ours[new] = value.detach().float() if value.is_floating_point() else value.detach()
    conv1 = ours['backbone.conv1.weight']
    if conv1.dim() != 4 or conv1.shape[1] != 3:
        raise CheckpointError(f'conv1 weight has shape {tuple(conv1.shape)}, '
                              'expected (64, 3, 7, 7)')
    ours['backbone.conv1.weight'] = conv1.sum(dim=1, keepdim=True)
    for name in ('offset_head.output.weight', 'offset_head.output.bias'):
        value = ours[name]                                # channel (a*K + j)*2 + (y, x)
        pairs = value.reshape(-1, 2, *value.shape[1:])
        ours[name] = pairs.flip(1).reshape(value.shape).contiguous()
    return config, preset.crop, _fit_state_dict(config, ours)


def _fit_state_dict(config, ours):
    """Check ``ours`` against a fresh A2JNet; fill BN counters old PyTorch did not save."""
    reference = A2JNet(config).state_dict()
    for key, value in reference.items():
        if key not in ours and key.endswith('num_batches_tracked'):
            ours[key] = torch.zeros_like(value)
    missing = sorted(set(reference) - set(ours))
    unexpected = sorted(set(ours) - set(reference))
    wrong = sorted(k for k in set(reference) & set(ours)
                   if tuple(reference[k].shape) != tuple(ours[k].shape))
    if missing or unexpected or wrong:
        raise CheckpointError(
            "the authors' weights do not fit A2J "
            f'({config.backbone}, K={config.num_joints}): missing {missing[:3]}, '
            f'unexpected {unexpected[:3]}, wrong shape {wrong[:3]}')
    return {k: ours[k] for k in reference}


def load_authors_model(state_dict, dataset):
    """Return an A2JNet (eval mode, crop_config set) holding the authors' converted weights."""
    config, crop, ours = convert_authors_state_dict(state_dict, dataset)
    model = A2JNet(config)
    model.load_state_dict(ours, strict=True)
    model.crop_config = crop
    return model.eval()


__all__ = ['AUTHORS_DATASETS', 'AuthorsA2J', 'AuthorsBackbone', 'AuthorsDataset', 'AuthorsHead',
           'authors_anchors', 'authors_dataset', 'authors_decode', 'convert_authors_state_dict',
           'infer_backbone', 'load_authors_model']
