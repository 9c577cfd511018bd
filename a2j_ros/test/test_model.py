import pytest
import torch
import torchvision

from a2j_ros.core.bench import count_flops
from a2j_ros.core.config import ModelConfig
from a2j_ros.core.errors import CheckpointError, InputError
from a2j_ros.core.losses import a2j_loss
from a2j_ros.core.model import A2JNet, build_resnet, ResNetTrunk


def _small(**kw):
    base = dict(backbone='resnet18', num_joints=3, input_size=64, head_channels=32)
    base.update(kw)
    return ModelConfig(**base)


def _check_shapes(model, size, k):
    with torch.no_grad():
        out = model(torch.zeros(1, 1, size, size))
    a = (size // 16) ** 2 * 16
    assert out['logits'].shape == (1, a, k)
    assert out['offsets'].shape == (1, a, k, 2)
    if model.config.use_depth:
        assert out['depth'].shape == (1, a, k)
    else:
        assert out['depth'] is None


@pytest.mark.parametrize('backbone,size', [
    ('resnet18', 176), ('resnet34', 176), ('resnet50', 176),
    ('resnet18', 288), ('resnet34', 288),
])
def test_output_shapes_3d_and_2d(backbone, size):
    for use_depth, k in ((True, 14), (False, 19)):
        model = A2JNet(ModelConfig(backbone=backbone, num_joints=k, input_size=size,
                                   use_depth=use_depth)).eval()
        _check_shapes(model, size, k)


def test_output_shapes_resnet50_288():
    # the slowest case on its own: body-sized crops with ResNet-50, 3D and 2D
    for use_depth, k in ((True, 15), (False, 19)):
        model = A2JNet(ModelConfig(backbone='resnet50', num_joints=k, input_size=288,
                                   use_depth=use_depth)).eval()
        _check_shapes(model, 288, k)


def test_head_channels_follow_the_paper():
    model = A2JNet(ModelConfig(backbone='resnet18', num_joints=14))
    assert model.proposal_head.output.out_channels == 16 * 14
    assert model.offset_head.output.out_channels == 16 * 14 * 2
    assert model.depth_head.output.out_channels == 16 * 14
    assert model.proposal_head.conv1.in_channels == 256           # layer3 of ResNet-18
    assert model.offset_head.conv1.in_channels == 512             # layer4
    assert all(getattr(model.offset_head, f'conv{i}').out_channels == 256 for i in range(1, 5))


def test_layer4_is_stride_1_and_dilated():
    for name in ('resnet18', 'resnet50'):
        net = build_resnet(name)
        first, second = net.layer4[0], net.layer4[1]
        assert first.downsample[0].stride == (1, 1)
        assert all(m.stride == (1, 1) for m in first.modules() if isinstance(m, torch.nn.Conv2d))
        assert second.conv2.dilation == (2, 2) and second.conv2.padding == (2, 2)
    trunk = ResNetTrunk('resnet18').eval()
    with torch.no_grad():
        c3, c4 = trunk(torch.zeros(1, 1, 64, 64))
    assert c3.shape[-2:] == (4, 4) and c4.shape[-2:] == (4, 4)


def test_resnet50_layer4_equals_torchvision_dilation():
    ours = build_resnet('resnet50')
    tv = torchvision.models.resnet50(weights=None, replace_stride_with_dilation=[False, False,
                                                                                True])
    for a, b in zip(ours.layer4.modules(), tv.layer4.modules()):
        if isinstance(a, torch.nn.Conv2d):
            assert (a.stride, a.dilation, a.padding) == (b.stride, b.dilation, b.padding)


def test_one_channel_conv1_equals_repeated_depth():
    net = build_resnet('resnet18').eval()
    trunk = ResNetTrunk('resnet18').eval()
    state = {k: v for k, v in net.state_dict().items() if not k.startswith('fc.')}
    state['conv1.weight'] = state['conv1.weight'].sum(1, keepdim=True)
    trunk.load_state_dict(state)
    x = torch.randn(2, 1, 64, 64)
    with torch.no_grad():
        expected = net.layer4(net.layer3(net.layer2(net.layer1(net.maxpool(net.relu(
            net.bn1(net.conv1(x.repeat(1, 3, 1, 1)))))))))
        _, got = trunk(x)
    assert torch.allclose(got, expected, atol=1e-4, rtol=1e-4)


def test_gradients_reach_every_branch():
    torch.manual_seed(0)
    model = A2JNet(_small()).train()
    x = torch.randn(2, 1, 64, 64)
    out = model(x)
    loss = a2j_loss(out, model.anchors_for(x), torch.rand(2, 3, 2) * 64, torch.randn(2, 3))
    loss['total'].backward()
    for name in ('backbone.conv1.weight', 'backbone.layer4.1.conv2.weight',
                 'proposal_head.conv1.weight', 'proposal_head.output.weight',
                 'offset_head.conv1.weight', 'offset_head.output.weight',
                 'depth_head.conv1.weight', 'depth_head.output.weight'):
        grad = dict(model.named_parameters())[name].grad
        assert grad is not None and grad.abs().sum() > 0, name


def test_ablation_switches():
    no_proposal = A2JNet(_small(anchor_proposal=False)).eval()
    assert no_proposal.proposal_head is None
    x = torch.randn(1, 1, 64, 64)
    with torch.no_grad():
        out = no_proposal(x)
    assert torch.equal(out['logits'], torch.zeros(1, 256, 3))
    shared = A2JNet(_small(shared_regression_branch=True)).eval()
    assert shared.offset_head is None and shared.depth_head is None
    assert shared.regression_head.output.out_channels == 16 * 3 * 3
    with torch.no_grad():
        out = shared(x)
    assert out['offsets'].shape == (1, 256, 3, 2) and out['depth'].shape == (1, 256, 3)
    shared_2d = A2JNet(_small(shared_regression_branch=True, use_depth=False))
    assert shared_2d.regression_head.output.out_channels == 16 * 3 * 2


def test_predict_shapes_and_ranges():
    model = A2JNet(_small()).eval()
    x = torch.randn(2, 1, 64, 64)
    pred = model.predict(x)
    assert pred['uvd'].shape == (2, 3, 3) and pred['confidence'].shape == (2, 3)
    assert ((pred['confidence'] >= 0) & (pred['confidence'] <= 1)).all()
    assert not pred['uvd'].requires_grad
    flat = A2JNet(_small(use_depth=False)).eval().predict(x)
    assert torch.equal(flat['uvd'][..., 2], torch.zeros(2, 3))
    assert model.crop_config is None and model.config.num_joints == 3


def test_anchors_match_outputs_for_odd_sizes():
    model = A2JNet(_small()).eval()
    x = torch.zeros(1, 1, 100, 72)
    with torch.no_grad():
        out = model(x)
    assert model.anchors_for(x).shape == (out['logits'].shape[1], 2)


def test_bad_input_and_config():
    model = A2JNet(_small())
    with pytest.raises(InputError, match=r'\(N, 1, H, W\)'):
        model(torch.zeros(1, 3, 64, 64))
    with pytest.raises(InputError, match=r'\(N, 1, H, W\)'):
        model(torch.zeros(64, 64))
    with pytest.raises(InputError, match='unknown backbone'):
        A2JNet(_small(backbone='vgg16'))
    with pytest.raises(InputError, match='anchor stride'):
        A2JNet(_small(anchor_stride=3))


def test_load_imagenet_sums_conv1(tmp_path):
    tv = torchvision.models.resnet18(weights=None)
    path = tmp_path / 'resnet18-imagenet.pth'
    torch.save(tv.state_dict(), path)
    model = A2JNet(_small()).load_imagenet(path)
    assert torch.allclose(model.backbone.conv1.weight, tv.conv1.weight.sum(1, keepdim=True))
    assert torch.equal(model.backbone.layer2[0].conv1.weight, tv.layer2[0].conv1.weight)
    with pytest.raises(CheckpointError, match='not a torchvision resnet50'):
        A2JNet(_small(backbone='resnet50', head_channels=8)).load_imagenet(path)
    with pytest.raises(CheckpointError, match='not found'):
        model.load_imagenet(tmp_path / 'missing.pth')


def test_flops_scale_with_area():
    # a fully convolutional network: 4x the pixels, about 4x the FLOPs
    model = A2JNet(_small()).eval()
    small = count_flops(model.predict, torch.zeros(1, 1, 64, 64))
    large = count_flops(model.predict, torch.zeros(1, 1, 128, 128))
    assert small > 0 and 3.5 < large / small < 4.5
