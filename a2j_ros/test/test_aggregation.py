import math

import numpy as np
import pytest
import torch

from a2j_ros.core.aggregation import (
    aggregate,
    anchor_predictions,
    decode,
    informative_anchors,
    joint_confidence,
)


def _tiny(n=2, a=6, k=3, depth=True, seed=0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, a, k, generator=g, dtype=torch.float64) * 2
    offsets = torch.randn(n, a, k, 2, generator=g, dtype=torch.float64) * 5
    d = torch.randn(n, a, k, generator=g, dtype=torch.float64) * 10 if depth else None
    anchors = torch.rand(a, 2, generator=g, dtype=torch.float64) * 30
    return logits, offsets, d, anchors


def test_aggregate_equals_naive_loop():
    logits, offsets, depth, anchors = _tiny()
    out = aggregate(logits, offsets, depth, anchors)
    n, a, k = logits.shape
    for i in range(n):
        for j in range(k):
            exps = [math.exp(logits[i, m, j].item()) for m in range(a)]
            total = sum(exps)
            u = v = d = 0.0
            for m in range(a):
                w = exps[m] / total
                assert out['weights'][i, m, j].item() == pytest.approx(w, rel=1e-12)
                u += w * (anchors[m, 0].item() + offsets[i, m, j, 0].item())
                v += w * (anchors[m, 1].item() + offsets[i, m, j, 1].item())
                d += w * depth[i, m, j].item()
            assert out['uv'][i, j].tolist() == pytest.approx([u, v], rel=1e-10)
            assert out['depth'][i, j].item() == pytest.approx(d, rel=1e-10)
            assert out['uvd'][i, j].tolist() == pytest.approx([u, v, d], rel=1e-10)


def test_2d_mode_has_zero_depth_column():
    logits, offsets, _, anchors = _tiny(depth=False)
    out = aggregate(logits, offsets, None, anchors)
    assert out['depth'] is None
    assert torch.equal(out['uvd'][..., 2], torch.zeros(2, 3, dtype=torch.float64))
    assert anchor_predictions(offsets, None, anchors).shape == (2, 6, 3, 2)


def test_uniform_logits_average_the_anchors():
    _, offsets, _, anchors = _tiny()
    out = aggregate(torch.zeros(2, 6, 3, dtype=torch.float64), torch.zeros_like(offsets), None,
                    anchors)
    assert torch.allclose(out['uv'], anchors.mean(0).expand(2, 3, 2))


def test_informative_anchors_threshold():
    weights = torch.tensor([[[0.5], [0.02], [0.021], [0.459]]])
    assert informative_anchors(weights).flatten().tolist() == [True, False, True, True]


def test_confidence_is_one_for_one_sure_anchor_and_low_for_flat_weights():
    a, k = 200, 2
    anchors = torch.rand(a, 2) * 100
    offsets = torch.zeros(1, a, k, 2)
    sure = torch.full((1, a, k), -50.0)
    sure[0, 7] = 50.0
    conf = decode({'logits': sure, 'offsets': offsets, 'depth': None}, anchors)['confidence']
    assert torch.allclose(conf, torch.ones(1, k))
    flat = decode({'logits': torch.zeros(1, a, k), 'offsets': offsets, 'depth': None},
                  anchors)['confidence']
    assert (flat < 0.01).all()
    # without the concentration term (no proposal branch) it is the agreement term only
    agree = decode({'logits': torch.zeros(1, a, k), 'offsets': anchors[0] - anchors[None, :, None],
                    'depth': None}, anchors, use_concentration=False)['confidence']
    assert torch.allclose(agree, torch.ones(1, k), atol=1e-5)


def test_lower_confidence_goes_with_larger_error():
    """Anchors that disagree more give larger errors and lower confidence (synthetic)."""
    g = torch.Generator().manual_seed(3)
    n, a, k = 64, 256, 4
    anchors = torch.rand(a, 2, generator=g) * 96
    truth = 20 + torch.rand(n, k, 2, generator=g) * 56
    spread = torch.linspace(0.5, 12.0, n).view(n, 1, 1, 1)             # disagreement per sample
    own = truth.unsqueeze(1) + spread * torch.randn(n, a, k, 2, generator=g)
    offsets = own - anchors[None, :, None, :]
    logits = torch.randn(n, a, k, generator=g) * 1.5                   # a few anchors stand out
    out = decode({'logits': logits, 'offsets': offsets, 'depth': None}, anchors)
    error = (out['uvd'][..., :2] - truth).norm(dim=-1).flatten().numpy()
    confidence = out['confidence'].flatten().numpy()
    assert ((confidence >= 0) & (confidence <= 1)).all()
    rank_e = np.argsort(np.argsort(error))
    rank_c = np.argsort(np.argsort(confidence))
    spearman = np.corrcoef(rank_e, rank_c)[0, 1]
    assert spearman < -0.5, spearman
    low, high = confidence < np.median(confidence), confidence >= np.median(confidence)
    assert error[low].mean() > 2 * error[high].mean()


def test_confidence_uses_depth_disagreement_in_3d():
    a, k = 50, 1
    anchors = torch.rand(a, 2) * 50
    offsets = (torch.tensor([25.0, 25.0]) - anchors)[None, :, None, :].clone()
    logits = torch.zeros(1, a, k)
    same = torch.full((1, a, k), 10.0)
    varied = same + torch.linspace(-20, 20, a).view(1, a, 1)
    out_same = aggregate(logits, offsets, same, anchors)
    out_varied = aggregate(logits, offsets, varied, anchors)
    c_same = joint_confidence(out_same['weights'], offsets, same, anchors, out_same['uv'],
                              out_same['depth'], use_concentration=False)
    c_varied = joint_confidence(out_varied['weights'], offsets, varied, anchors,
                                out_varied['uv'], out_varied['depth'], use_concentration=False)
    assert c_same.item() == pytest.approx(1.0, abs=1e-5)
    assert c_varied.item() < 0.2
