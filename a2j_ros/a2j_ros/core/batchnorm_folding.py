"""Fold every BatchNorm of a network into the convolution before it (inference only).

Used by the fast backends (``core.backends``) and by ONNX export (``core.export``); it sits
below both so neither imports the other for it.
"""
import copy

import torch
from torch import nn


def fold_batchnorm(model):
    """Return a copy of ``model`` (eval mode) with every BatchNorm folded into its conv.

    Pairs are found by name: sibling modules ``convN``/``bnN`` (torchvision ResNet blocks,
    the stem, A2J's branches, the authors' heads) and ``Sequential(Conv2d, BatchNorm2d)``
    (ResNet shortcuts). The BatchNorm becomes ``nn.Identity``. Exact up to float rounding.
    """
    from torch.nn.utils.fusion import fuse_conv_bn_eval
    folded = copy.deepcopy(model).eval()
    for module in list(folded.modules()):
        children = dict(module.named_children())
        pairs = []
        for name, child in children.items():
            if isinstance(child, nn.BatchNorm2d) and name.startswith('bn'):
                conv = children.get('conv' + name[2:])
                if isinstance(conv, nn.Conv2d):
                    pairs.append(('conv' + name[2:], name))
        if isinstance(module, nn.Sequential):
            names = list(children)
            for a, b in zip(names[:-1], names[1:]):
                if isinstance(children[a], nn.Conv2d) and isinstance(children[b], nn.BatchNorm2d):
                    pairs.append((a, b))
        for conv_name, bn_name in pairs:
            fused = fuse_conv_bn_eval(children[conv_name], children[bn_name])
            setattr(module, conv_name, fused)
            setattr(module, bn_name, nn.Identity())
    return folded.to(memory_format=torch.channels_last)


__all__ = ['fold_batchnorm']
