import pytest
import torch

from a2j_ros.core.errors import InputError
from a2j_ros.core.losses import a2j_loss, LOSS_PRESETS, LossConfig, smooth_l1_tau


def test_smooth_l1_tau_hand_values():
    x = torch.tensor([0.5, -0.5, 2.0, 1.0, 0.0])
    assert smooth_l1_tau(x, 1.0).tolist() == pytest.approx([0.125, 0.125, 1.5, 0.5, 0.0])
    x3 = torch.tensor([1.5, -4.0, 3.0])
    assert smooth_l1_tau(x3, 3.0).tolist() == pytest.approx([0.375, 2.5, 1.5])


def _case():
    """One sample, one joint, two anchors with equal weight (hand-computed in the tests)."""
    anchors = torch.tensor([[0.0, 0.0], [4.0, 0.0]])
    outputs = {'logits': torch.zeros(1, 2, 1),
               'offsets': torch.tensor([[[[1.0, 1.0]], [[-1.0, 3.0]]]]),   # -> (1,1), (3,3)
               'depth': torch.tensor([[[10.0], [14.0]]])}                  # -> 12
    return outputs, anchors, torch.tensor([[[2.5, 0.0]]]), torch.tensor([[16.5]])


def test_paper_loss_hand_computed():
    outputs, anchors, uv, depth = _case()
    loss = a2j_loss(outputs, anchors, uv, depth, LossConfig.preset('paper'))
    # S^ = (2, 2): error (-0.5, 2) -> 0.125 + 1.5; depth error -4.5 -> 4.5 - 1.5 = 3
    # surround: sum P~ S(a) = (2, 0): error (-0.5, 0) -> 0.125
    assert loss['in_plane'].item() == pytest.approx(1.625)
    assert loss['depth'].item() == pytest.approx(3.0)
    assert loss['joint'].item() == pytest.approx(0.5 * 1.625 + 3.0)
    assert loss['surround'].item() == pytest.approx(0.125)
    assert loss['total'].item() == pytest.approx(3 * 3.8125 + 0.125)


def test_authors_code_loss_hand_computed():
    outputs, anchors, uv, depth = _case()
    loss = a2j_loss(outputs, anchors, uv, depth, LossConfig.preset('authors_code'))
    # means over (u, v): 1.625 / 2, 0.125 / 2; depth: plain |error| = 4.5
    assert loss['in_plane'].item() == pytest.approx(0.8125)
    assert loss['depth'].item() == pytest.approx(4.5)
    assert loss['surround'].item() == pytest.approx(0.0625)
    # their nyu.py: Cls_loss + 3 * (0.5 * in-plane + depth)
    assert loss['total'].item() == pytest.approx(0.0625 + 3 * (0.5 * 0.8125 + 4.5))


def test_batch_is_averaged_and_joints_summed():
    outputs, anchors, uv, depth = _case()
    doubled = {k: torch.cat([v, v]) for k, v in outputs.items()}
    single = a2j_loss(outputs, anchors, uv, depth)['total']
    batch = a2j_loss(doubled, anchors, torch.cat([uv, uv]), torch.cat([depth, depth]))['total']
    assert batch.item() == pytest.approx(single.item())
    two_joints = {k: torch.cat([v, v], dim=2) for k, v in outputs.items()}
    twice = a2j_loss(two_joints, anchors, torch.cat([uv, uv], 1), torch.cat([depth, depth], 1))
    assert twice['total'].item() == pytest.approx(2 * single.item())


def test_2d_mode_and_surround_ablation():
    outputs, anchors, uv, _ = _case()
    flat = dict(outputs, depth=None)
    loss = a2j_loss(flat, anchors, uv, None)
    assert loss['depth'].item() == 0.0
    assert loss['total'].item() == pytest.approx(3 * 0.5 * 1.625 + 0.125)
    no_surround = a2j_loss(flat, anchors, uv, None, LossConfig.preset('paper',
                                                                      surround_loss=False))
    assert no_surround['surround'].item() == 0.0
    assert no_surround['total'].item() == pytest.approx(3 * 0.5 * 1.625)


def test_gradients_reach_all_outputs():
    outputs, anchors, uv, depth = _case()
    leaves = {k: v.clone().requires_grad_(True) for k, v in outputs.items()}
    leaves['logits'] = torch.tensor([[[0.3], [-0.2]]], requires_grad=True)
    a2j_loss(leaves, anchors, uv, depth)['total'].backward()
    for name, leaf in leaves.items():
        assert leaf.grad is not None and leaf.grad.abs().sum() > 0, name


def test_presets_record_the_authors_recipe():
    paper, authors = LOSS_PRESETS['paper'], LOSS_PRESETS['authors_code']
    assert (paper.alpha, paper.lam, paper.tau1, paper.tau2) == (0.5, 3.0, 1.0, 3.0)
    assert (paper.reduction, paper.depth_loss, paper.lr_decay) == ('sum', 'smooth_l1', 0.1)
    assert (authors.reduction, authors.depth_loss, authors.lr_decay) == ('mean', 'l1', 0.2)
    assert authors.noise_mode == 'patch' and authors.noise_patch_area == (0.02, 0.4)
    assert LossConfig.from_dict(authors.to_dict()) == authors
    assert LossConfig.from_dict({'name': 'x', 'future_field': 1}).name == 'x'


def test_bad_config_and_shapes_raise_input_error():
    with pytest.raises(InputError, match='unknown loss preset'):
        LossConfig.preset('nope')
    with pytest.raises(InputError, match='reduction'):
        LossConfig.preset('paper', reduction='max')
    outputs, anchors, uv, depth = _case()
    with pytest.raises(InputError, match='target_uv'):
        a2j_loss(outputs, anchors, uv[..., :1], depth)
    with pytest.raises(InputError, match='anchors'):
        a2j_loss(outputs, anchors[:1], uv, depth)
    with pytest.raises(InputError, match='2D mode'):
        a2j_loss(dict(outputs, depth=None), anchors, uv, depth)
