"""Anchor-to-joint aggregation (paper Eq. 1-2), informative anchors and a per-joint confidence.

Shapes: N samples, A anchors, K joints. ``logits`` are the anchor responses P_j(a) (N, A, K),
``offsets`` the in-plane offsets O_j(a) (N, A, K, 2) in (u, v) crop pixels, ``depth`` the
depth estimates D_j(a) (N, A, K) in depth-target units (or None in 2D mode), ``anchors`` the
anchor positions S(a) (A, 2) in (u, v). Everything is batched; nothing loops over samples.

Confidence (0..1 per joint) is the product of two terms, both computed from the anchors only:

* concentration ``c_j = sum of P~_j(a) over the informative anchors (P~_j(a) > 0.02)``: the
  weight mass that the anchor-proposal branch put on anchors it picked out. It is near 0 when
  the weights are spread flat over the crop (nothing picked) and near 1 when a few anchors hold
  all the weight. Models without the proposal branch (ablation) leave it out (c_j = 1).
* agreement ``g_j = 1 / (1 + (s_j / spread_scale) ** 2)`` where
  ``s_j = sqrt(sum_a P~_j(a) * ||p_j(a) - p_j||^2)`` is the weighted spread of each anchor's own
  prediction ``p_j(a) = (S(a) + O_j(a), D_j(a))`` around the aggregated result
  ``p_j = (S^_j, D^_j)`` (in 2D mode only the in-plane part). Units are crop pixels and
  depth-target units, which the paper scales to comparable magnitudes (Eq. 3).
  ``spread_scale`` defaults to 4 (one anchor stride): anchors that disagree by one stride
  give g = 0.5, by two strides 0.2, by four 0.06.

confidence_j = c_j * g_j. Low confidence means the anchors did not agree or no anchor was
picked out; on synthetic data the error of the aggregated joint grows as confidence drops
(see test_aggregation.py).
"""
import torch

INFORMATIVE_THRESHOLD = 0.02    # paper Fig. 1: P~_j(a) > 0.02 marks an informative anchor
SPREAD_SCALE = 4.0              # crop pixels / depth-target units at which agreement is 0.5


def anchor_weights(logits):
    """Return P~ (N, A, K): the softmax of the anchor responses over all anchors (Eq. 2)."""
    return torch.softmax(logits, dim=1)


def anchor_predictions(offsets, depth, anchors):
    """Return each anchor's own prediction (N, A, K, 2 or 3): (S(a) + O_j(a), D_j(a))."""
    uv = offsets + anchors.to(offsets.dtype)[None, :, None, :]
    if depth is None:
        return uv
    return torch.cat((uv, depth.unsqueeze(-1)), dim=-1)


def aggregate(logits, offsets, depth, anchors):
    """Aggregate the anchors into joints (Eq. 1); return a dict of tensors.

    Keys: ``weights`` P~ (N, A, K); ``uv`` S^_j (N, K, 2); ``depth`` D^_j (N, K) or None;
    ``uvd`` (N, K, 3) with the depth column 0 in 2D mode.
    """
    weights = anchor_weights(logits)
    # sum_a P~ (S(a) + O) = sum_a P~ S(a) + sum_a P~ O, as two contractions (no (N,A,K,2) temp)
    uv = (torch.einsum('nak,ac->nkc', weights, anchors.to(weights.dtype))
          + torch.einsum('nak,nakc->nkc', weights, offsets))
    joint_depth = None if depth is None else (weights * depth).sum(dim=1)
    third = torch.zeros_like(uv[..., 0]) if joint_depth is None else joint_depth
    return {'weights': weights, 'uv': uv, 'depth': joint_depth,
            'uvd': torch.cat((uv, third.unsqueeze(-1)), dim=-1)}


def informative_anchors(weights, threshold=INFORMATIVE_THRESHOLD):
    """Return the boolean mask (N, A, K) of informative anchors: P~_j(a) > ``threshold``."""
    return weights > threshold


def joint_confidence(weights, offsets, depth, anchors, uv, joint_depth=None,
                     spread_scale=SPREAD_SCALE, use_concentration=True,
                     threshold=INFORMATIVE_THRESHOLD):
    """Return the per-joint confidence (N, K) in 0..1 defined in the module docstring."""
    own = anchor_predictions(offsets, depth, anchors)                      # N, A, K, C
    result = uv if depth is None else torch.cat((uv, joint_depth.unsqueeze(-1)), dim=-1)
    squared = (own - result.unsqueeze(1)).square().sum(dim=-1)           # N, A, K
    spread = (weights * squared).sum(dim=1).clamp_min(0).sqrt()          # N, K
    confidence = 1.0 / (1.0 + (spread / float(spread_scale)).square())
    if use_concentration:
        confidence = confidence * (weights * (weights > threshold)).sum(dim=1)
    return confidence.clamp(0.0, 1.0)


def decode(outputs, anchors, spread_scale=SPREAD_SCALE, use_concentration=True):
    """Turn a network's raw outputs into ``uvd`` (N, K, 3) and ``confidence`` (N, K).

    ``outputs`` is the dict of ``A2JNet.forward``: ``logits``, ``offsets``, ``depth``.
    """
    agg = aggregate(outputs['logits'], outputs['offsets'], outputs['depth'], anchors)
    confidence = joint_confidence(agg['weights'], outputs['offsets'], outputs['depth'], anchors,
                                  agg['uv'], agg['depth'], spread_scale=spread_scale,
                                  use_concentration=use_concentration)
    return {'uvd': agg['uvd'], 'confidence': confidence}


__all__ = ['INFORMATIVE_THRESHOLD', 'SPREAD_SCALE', 'aggregate', 'anchor_predictions',
           'anchor_weights', 'decode', 'informative_anchors', 'joint_confidence']
