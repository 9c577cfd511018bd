import pytest
import torch

from a2j_ros.core.anchors import anchor_grid, AnchorGrid, cell_offsets, feature_size
from a2j_ros.core.errors import InputError
from a2j_ros.core.model import ResNetTrunk


def test_cell_offsets_paper_values():
    assert cell_offsets(4) == (2.0, 6.0, 10.0, 14.0)
    assert cell_offsets(8) == (4.0, 12.0)
    assert cell_offsets(16) == (8.0,)


@pytest.mark.parametrize('stride', [0, 3, 5, 32])
def test_cell_offsets_rejects_strides_that_do_not_divide_16(stride):
    with pytest.raises(InputError, match='anchor stride'):
        cell_offsets(stride)


def test_tiny_grid_exact_values_row_major():
    # 1 x 2 feature map, anchor stride 8: 4 anchors per cell at 4 and 12 (u, v)
    expected = torch.tensor([[4, 4], [12, 4], [4, 12], [12, 12],
                             [20, 4], [28, 4], [20, 12], [28, 12]], dtype=torch.float32)
    assert torch.equal(anchor_grid(1, 2, anchor_stride=8), expected)


def test_tiny_grid_second_row_comes_after_first_row():
    expected = torch.tensor([[4, 4], [12, 4], [4, 12], [12, 12],
                             [4, 20], [12, 20], [4, 28], [12, 28]], dtype=torch.float32)
    assert torch.equal(anchor_grid(2, 1, anchor_stride=8), expected)


def test_one_cell_paper_stride():
    grid = anchor_grid(1, 1)
    assert grid.shape == (16, 2)
    assert grid[:4].tolist() == [[2, 2], [6, 2], [10, 2], [14, 2]]
    assert grid[4].tolist() == [2, 6]
    assert grid[-1].tolist() == [14, 14]


def test_176_crop_has_1936_anchors_every_4_pixels():
    grid = AnchorGrid().for_input(176, 176)
    assert feature_size(176) == 11
    assert grid.shape == (1936, 2)
    values = torch.arange(2, 176, 4, dtype=torch.float32)
    assert torch.equal(torch.unique(grid[:, 0]), values)
    assert torch.equal(torch.unique(grid[:, 1]), values)
    assert torch.unique(grid, dim=0).shape[0] == 1936


def test_anchor_module_follows_dtype_and_device():
    grid = AnchorGrid()
    feature = torch.zeros(1, 8, 3, 2, dtype=torch.float64)
    anchors = grid(feature)
    assert anchors.dtype == torch.float64 and anchors.shape == (3 * 2 * 16, 2)
    meta = grid(torch.zeros(1, 8, 3, 2, device='meta', dtype=torch.float16))
    assert meta.device.type == 'meta' and meta.dtype == torch.float16


@pytest.mark.parametrize('size', [64, 100])
def test_feature_size_matches_the_backbone(size):
    trunk = ResNetTrunk('resnet18').eval()
    with torch.no_grad():
        _, c4 = trunk(torch.zeros(1, 1, size, size))
    assert tuple(c4.shape[-2:]) == (feature_size(size), feature_size(size))
