"""The A2J network (paper section 3.1): a ResNet trunk and three prediction branches.

* Backbone: torchvision ResNet-18/34/50 built with ``weights=None``; layer4 with stride 1 and
  its later blocks dilated by 2, so the feature map is 1/16 of the input (section 3.1.3). The
  stem takes ONE depth channel: its conv1 weights are ImageNet's three input channels summed,
  which gives exactly what the authors get by repeating the depth three times.
* Anchor-proposal branch on layer3 (common trunk): responses P_j(a), 16*K channels.
* In-plane offset branch and depth branch on layer4 (regression trunk): O_j(a), 16*K*2
  channels, and D_j(a), 16*K channels. Each branch is 4 x (3x3 conv 256, BN, ReLU) and a 3x3
  output conv.

Ablations (paper Table 7) from ``ModelConfig``: ``anchor_proposal=False`` drops the proposal
branch (uniform anchor weights), ``shared_regression_branch=True`` makes one branch output
offsets and depth (16*K*3 channels), ``use_depth=False`` is the 2D mode without depth (K2HPD).

Head outputs (N, 16*K*C, Hf, Wf) are flattened feature-row first, then feature-column, then
the 16 anchors of the cell, matching ``core.anchors``; channel ``(a * K + j) * C + c`` is
anchor ``a`` of the cell, joint ``j``, component ``c`` (u, v for offsets).
"""

import torch
from torch import nn
import torchvision

from a2j_ros.core.aggregation import decode
from a2j_ros.core.anchors import AnchorGrid, FEATURE_STRIDE
from a2j_ros.core.config import ModelConfig
from a2j_ros.core.errors import CheckpointError, InputError
from a2j_ros.core.torch_file import load_state_dict_file

BACKBONES = ('resnet18', 'resnet34', 'resnet50')


def build_resnet(name):
    """Return a torchvision ResNet (no weights, never downloaded) with A2J's layer4.

    layer4 keeps stride 1 (the first block's strided conv and its shortcut get stride 1) and
    its later blocks use dilation 2 on their 3x3 conv: what the authors' resnet.py does and
    what torchvision's ``replace_stride_with_dilation`` does for Bottleneck blocks, extended
    to the BasicBlocks of ResNet-18/34.
    """
    if name not in BACKBONES:
        raise InputError(f'unknown backbone {name!r}; known: {", ".join(BACKBONES)}')
    net = getattr(torchvision.models, name)(weights=None)
    first, *rest = net.layer4
    for conv in (getattr(first, 'conv1'), getattr(first, 'conv2'), first.downsample[0]):
        conv.stride = (1, 1)
    for block in rest:
        block.conv2.dilation = (2, 2)
        block.conv2.padding = (2, 2)
    return net


def trunk_channels(name):
    """Return the channels of (layer3, layer4) of a backbone."""
    return (1024, 2048) if name == 'resnet50' else (256, 512)


class ResNetTrunk(nn.Module):
    """ResNet stem + layer1..4 with a one-channel conv1; returns (layer3, layer4) features."""

    def __init__(self, name):
        super().__init__()
        net = build_resnet(name)
        self.name = name
        self.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
        with torch.no_grad():
            self.conv1.weight.copy_(net.conv1.weight.sum(dim=1, keepdim=True))
        self.bn1, self.relu, self.maxpool = net.bn1, net.relu, net.maxpool
        self.layer1, self.layer2, self.layer3, self.layer4 = (
            net.layer1, net.layer2, net.layer3, net.layer4)

    def forward(self, x):
        """Return (common trunk = layer3 output, regression trunk = layer4 output)."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        c3 = self.layer3(self.layer2(self.layer1(x)))
        return c3, self.layer4(c3)


class PredictionBranch(nn.Module):
    """Four 3x3 conv (``width`` ch) + BN + ReLU, then a 3x3 output conv (section 3.1.1-2).

    Parameter names (conv1..conv4, bn1..bn4, output) are those of the authors' heads.
    """

    def __init__(self, in_channels, out_channels, width=256):
        super().__init__()
        channels = in_channels
        for i in range(1, 5):
            setattr(self, f'conv{i}', nn.Conv2d(channels, width, kernel_size=3, padding=1))
            setattr(self, f'bn{i}', nn.BatchNorm2d(width))
            channels = width
        self.relu = nn.ReLU(inplace=True)
        self.output = nn.Conv2d(width, out_channels, kernel_size=3, padding=1)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.xavier_normal_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x):
        """Return the raw output map (N, out_channels, Hf, Wf)."""
        for i in range(1, 5):
            x = self.relu(getattr(self, f'bn{i}')(getattr(self, f'conv{i}')(x)))
        return self.output(x)


def flatten_head(out, num_joints, components):
    """Turn a head map (N, P*K*C, Hf, Wf) into (N, Hf*Wf*P, K, C) in anchor order."""
    n = out.shape[0]
    return out.permute(0, 2, 3, 1).reshape(n, -1, num_joints, components)


class A2JNet(nn.Module):
    """A2J: backbone, anchor-proposal, in-plane offset and depth branches.

    ``forward(x)`` with x (N, 1, H, W) normalised depth crops returns a dict: ``logits``
    (N, A, K), ``offsets`` (N, A, K, 2) in (u, v) crop pixels, ``depth`` (N, A, K) in
    depth-target units or None in 2D mode. ``predict(x)`` aggregates them (Eq. 1-2).
    """

    def __init__(self, config=None):
        super().__init__()
        config = ModelConfig() if config is None else config
        if isinstance(config, dict):
            config = ModelConfig.from_dict(config)
        _check_config(config)
        self.config = config
        self.crop_config = None
        k, width = config.num_joints, config.head_channels
        per_cell = (FEATURE_STRIDE // config.anchor_stride) ** 2     # 16 anchors per cell
        c3, c4 = trunk_channels(config.backbone)
        self.backbone = ResNetTrunk(config.backbone)
        self.anchor_grid = AnchorGrid(config.anchor_stride, FEATURE_STRIDE)
        self.proposal_head = (PredictionBranch(c3, per_cell * k, width)
                              if config.anchor_proposal else None)
        if config.shared_regression_branch:
            parts = 3 if config.use_depth else 2
            self.regression_head = PredictionBranch(c4, per_cell * k * parts, width)
            self.offset_head = self.depth_head = None
        else:
            self.regression_head = None
            self.offset_head = PredictionBranch(c4, per_cell * k * 2, width)
            self.depth_head = (PredictionBranch(c4, per_cell * k, width)
                               if config.use_depth else None)
        # NHWC convolutions run faster on CPU (oneDNN) and suit tensor cores; the head maps
        # then flatten into anchor order without a copy. Weights stay NHWC through
        # load_state_dict and .to(device).
        self.to(memory_format=torch.channels_last)

    def forward(self, x):
        """Return the raw anchor outputs for a batch of crops x (N, 1, H, W)."""
        if x.dim() != 4 or x.shape[1] != 1:
            raise InputError(f'A2JNet expects crops shaped (N, 1, H, W), got {tuple(x.shape)}')
        k = self.config.num_joints
        common, regression = self.backbone(x.contiguous(memory_format=torch.channels_last))
        if self.regression_head is not None:
            parts = 3 if self.config.use_depth else 2
            both = flatten_head(self.regression_head(regression), k, parts)
            offsets = both[..., :2]
            depth = both[..., 2] if self.config.use_depth else None
        else:
            offsets = flatten_head(self.offset_head(regression), k, 2)
            depth = (flatten_head(self.depth_head(regression), k, 1).squeeze(-1)
                     if self.depth_head is not None else None)
        if self.proposal_head is not None:
            logits = flatten_head(self.proposal_head(common), k, 1).squeeze(-1)
        else:
            logits = offsets.new_zeros(offsets.shape[:3])      # uniform weights after softmax
        return {'logits': logits, 'offsets': offsets, 'depth': depth}

    def anchors_for(self, x):
        """Return the (A, 2) anchor (u, v) for an input batch x, on its device and dtype."""
        return self.anchor_grid.for_input(x.shape[-2], x.shape[-1], device=x.device,
                                          dtype=x.dtype)

    @torch.no_grad()
    def predict(self, x):
        """Return ``uvd`` (N, K, 3) in crop pixels + depth target, and ``confidence`` (N, K).

        In 2D mode the third column of ``uvd`` is 0. The model is not switched to eval mode
        here; ``load_checkpoint`` returns it in eval mode.
        """
        outputs = self(x)
        return decode(outputs, self.anchors_for(x), use_concentration=self.config.anchor_proposal)

    def predict_crops(self, x):
        """Return ``uvd`` (N, K, 3): u, v in crop pixels (u = column), then the depth target."""
        return self.predict(x)['uvd']

    def load_imagenet(self, path):
        """Initialise the backbone from a local torchvision ResNet state_dict file.

        The file is the user's (never downloaded); its 3-channel conv1 is summed into our
        one-channel conv1 and its ``fc`` is ignored. Raise CheckpointError when the file is
        missing, unreadable or does not fit this backbone.
        """
        state = load_state_dict_file(path)
        state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
        state = {k: v for k, v in state.items() if not k.startswith('fc.')}
        if 'conv1.weight' in state and state['conv1.weight'].dim() == 4 \
                and state['conv1.weight'].shape[1] == 3:
            state['conv1.weight'] = state['conv1.weight'].float().sum(dim=1, keepdim=True)
        try:
            self.backbone.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise CheckpointError(
                f'{path}: not a torchvision {self.config.backbone} state_dict: '
                f'{_first_line(exc)}') from None
        return self


def _first_line(exc):
    text = str(exc).strip().splitlines()
    return ' '.join(line.strip() for line in text[:3])


def _check_config(config):
    if config.backbone not in BACKBONES:
        raise InputError(f'unknown backbone {config.backbone!r}; known: {", ".join(BACKBONES)}')
    if int(config.num_joints) < 1:
        raise InputError(f'num_joints must be >= 1, got {config.num_joints}')
    if int(config.head_channels) < 1:
        raise InputError(f'head_channels must be >= 1, got {config.head_channels}')
    AnchorGrid(config.anchor_stride, FEATURE_STRIDE)    # raises InputError on a bad stride


__all__ = ['A2JNet', 'BACKBONES', 'PredictionBranch', 'ResNetTrunk', 'build_resnet',
           'flatten_head', 'trunk_channels']
