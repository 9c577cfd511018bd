"""A2J's training losses (paper Eq. 3-7) and the two recipes: ``paper`` and ``authors_code``.

loss  = lambda * loss1 + loss2                                                         (Eq. 7)
loss1 = alpha * sum_j L_tau1(S^_j - T^i_j) + sum_j L_tau2(D^_j - T^d_j)               (Eq. 4)
loss2 = sum_j L_tau1(sum_a P~_j(a) S(a) - T^i_j)      informative-anchor surrounding  (Eq. 6)
L_tau(x) = x^2 / (2 tau) if |x| < tau else |x| - tau / 2                              (Eq. 5)

with alpha = 0.5, lambda = 3, tau1 = 1, tau2 = 3; L_tau is applied to u and v separately.

Presets (``LossConfig.preset(name)``):

* ``paper`` (default): the equations as printed. Each sum runs over joints (and u, v); the
  batch is averaged. LR decay 0.1 (section 4.1.3); Gaussian noise added to the whole crop with
  probability 0.5.
* ``authors_code``: what the authors' released training code (``src_train/anchor.py``,
  ``src_train/nyu.py``) computes: every term is a MEAN over joints (and u, v) instead of a
  sum; the depth term is a plain mean absolute error (their smooth-L1 with tau 3 is computed
  but not used); total = surround + 3 * (0.5 * in-plane + depth). Their LR decays by 0.2
  every 10 epochs, and their "random erasing" adds N(0, 1) noise to one random rectangle
  (2-40 % of the crop, aspect 0.3-3.3) with probability 0.5.

The trainer and augmenter read the recipe fields (``lr``, ``weight_decay``, ``lr_decay``,
``lr_step_epochs``, ``noise_*``) from the same LossConfig.
"""
from dataclasses import asdict, dataclass, fields, replace
from typing import Tuple

import torch

from a2j_ros.core.aggregation import anchor_weights
from a2j_ros.core.errors import InputError

REDUCTIONS = ('sum', 'mean')
DEPTH_LOSSES = ('smooth_l1', 'l1')
NOISE_MODES = ('none', 'image', 'patch')


@dataclass
class LossConfig:
    """Loss weights and the training recipe that goes with them (see the module docstring)."""

    name: str = 'paper'
    alpha: float = 0.5                  # weight of the in-plane term inside loss1
    lam: float = 3.0                    # lambda: weight of loss1 against loss2
    tau1: float = 1.0                   # L_tau threshold, in-plane (pixels)
    tau2: float = 3.0                   # L_tau threshold, depth (target units)
    depth_loss: str = 'smooth_l1'       # smooth_l1 (L_tau2) | l1 (authors' code)
    reduction: str = 'sum'              # sum over joints (paper) | mean (authors' code)
    surround_loss: bool = True          # False: ablation of Table 7 (no loss2)
    # recipe read by the trainer (section 4.1.3 / authors' nyu.py)
    lr: float = 0.00035
    weight_decay: float = 0.0001
    lr_decay: float = 0.1               # StepLR gamma
    lr_step_epochs: int = 10            # StepLR step (paper: 7 on ICVL and HANDS 2017)
    # recipe read by the augmenter: Gaussian noise on the normalised crop
    noise_mode: str = 'image'           # image: whole crop | patch: one rectangle | none
    noise_prob: float = 0.5
    noise_std: float = 1.0
    noise_patch_area: Tuple[float, float] = (0.02, 0.4)   # fraction of the crop
    noise_patch_min_aspect: float = 0.3                   # aspect in [r, 1/r]

    @classmethod
    def preset(cls, name='paper', **overrides):
        """Return the named preset (``paper`` or ``authors_code``) with ``overrides`` applied."""
        try:
            base = LOSS_PRESETS[name]
        except KeyError:
            raise InputError(f'unknown loss preset {name!r}; known: {", ".join(LOSS_PRESETS)}'
                             ) from None
        config = replace(base, **overrides)
        config.validate()
        return config

    @classmethod
    def from_dict(cls, data):
        """Build from a dict, ignoring unknown keys (forward compatibility)."""
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in dict(data).items() if k in names}
        if 'noise_patch_area' in values:
            values['noise_patch_area'] = tuple(values['noise_patch_area'])
        config = cls(**values)
        config.validate()
        return config

    def to_dict(self):
        """Return a plain dict."""
        return asdict(self)

    def validate(self):
        """Raise InputError when a field has a value the loss cannot use."""
        if self.reduction not in REDUCTIONS:
            raise InputError(f'loss reduction must be one of {REDUCTIONS}, got {self.reduction!r}')
        if self.depth_loss not in DEPTH_LOSSES:
            raise InputError(f'depth_loss must be one of {DEPTH_LOSSES}, got {self.depth_loss!r}')
        if self.noise_mode not in NOISE_MODES:
            raise InputError(f'noise_mode must be one of {NOISE_MODES}, got {self.noise_mode!r}')
        if self.tau1 <= 0 or self.tau2 <= 0:
            raise InputError(f'tau1 and tau2 must be > 0, got {self.tau1}, {self.tau2}')


LOSS_PRESETS = {
    'paper': LossConfig(),
    'authors_code': LossConfig(name='authors_code', depth_loss='l1', reduction='mean',
                               lr_decay=0.2, noise_mode='patch'),
}


def smooth_l1_tau(x, tau):
    """Return L_tau(x) element-wise (Eq. 5)."""
    ax = x.abs()
    return torch.where(ax < tau, ax.square() / (2.0 * tau), ax - tau / 2.0)


def _reduce(per_element, reduction):
    """Sum (paper) or average (authors) over joints/coordinates, then average over the batch."""
    flat = per_element.reshape(per_element.shape[0], -1)
    per_sample = flat.sum(dim=1) if reduction == 'sum' else flat.mean(dim=1)
    return per_sample.mean()


def _check_shapes(outputs, anchors, target_uv, target_depth):
    logits, offsets = outputs['logits'], outputs['offsets']
    n, a, k = logits.shape
    if tuple(offsets.shape) != (n, a, k, 2):
        raise InputError(f'offsets shape {tuple(offsets.shape)} does not match logits {(n, a, k)}')
    if tuple(anchors.shape) != (a, 2):
        raise InputError(f'anchors shape {tuple(anchors.shape)}, expected {(a, 2)}')
    if tuple(target_uv.shape) != (n, k, 2):
        raise InputError(f'target_uv shape {tuple(target_uv.shape)}, expected {(n, k, 2)}')
    if target_depth is not None and tuple(target_depth.shape) != (n, k):
        raise InputError(f'target_depth shape {tuple(target_depth.shape)}, expected {(n, k)}')
    if target_depth is not None and outputs.get('depth') is None:
        raise InputError('target_depth given but the model has no depth branch (2D mode)')


def a2j_loss(outputs, anchors, target_uv, target_depth=None, config=None):
    """Return the A2J loss terms for one batch as a dict of scalar tensors.

    ``outputs``: A2JNet.forward's dict; ``anchors`` (A, 2) (u, v); ``target_uv`` (N, K, 2)
    in crop pixels; ``target_depth`` (N, K) depth targets T^d, or None in 2D mode.
    Keys: ``total`` (Eq. 7), ``joint`` (loss1), ``surround`` (loss2, 0 when disabled),
    ``in_plane`` and ``depth`` (the two parts of loss1 before alpha; depth 0 in 2D mode).
    """
    config = LossConfig() if config is None else config
    config.validate()
    _check_shapes(outputs, anchors, target_uv, target_depth)
    weights = anchor_weights(outputs['logits'])                             # N, A, K
    anchors = anchors.to(weights.dtype)
    anchor_centre = torch.einsum('nak,ac->nkc', weights, anchors)           # sum P~ S(a)
    uv = anchor_centre + torch.einsum('nak,nakc->nkc', weights, outputs['offsets'])
    target_uv = target_uv.to(uv.dtype)
    in_plane = _reduce(smooth_l1_tau(uv - target_uv, config.tau1), config.reduction)
    zero = uv.new_zeros(())
    depth = zero
    if target_depth is not None:
        error = (weights * outputs['depth']).sum(dim=1) - target_depth.to(uv.dtype)
        per_joint = (error.abs() if config.depth_loss == 'l1'
                     else smooth_l1_tau(error, config.tau2))
        depth = _reduce(per_joint, config.reduction)
    joint = config.alpha * in_plane + depth
    surround = zero
    if config.surround_loss:
        surround = _reduce(smooth_l1_tau(anchor_centre - target_uv, config.tau1), config.reduction)
    total = config.lam * joint + surround
    return {'total': total, 'joint': joint, 'surround': surround, 'in_plane': in_plane,
            'depth': depth}


__all__ = ['LOSS_PRESETS', 'LossConfig', 'a2j_loss', 'smooth_l1_tau']
