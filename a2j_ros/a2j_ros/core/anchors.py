"""Anchor points of A2J: a dense grid on the input crop, S_t = 4 pixels apart (paper Fig. 3).

The backbone's feature map is 1/16 of the input, so each feature cell covers 16 x 16 input
pixels and holds ``(16 / S_t) ** 2`` anchors; with S_t = 4 these sit at offsets 2, 6, 10 and 14
inside the cell, in u and in v. A 176 x 176 crop gives an 11 x 11 map and 11 * 11 * 16 = 1936
anchors.

Coordinates are (u, v) = (column, row) in crop pixels, like the rest of a2j_ros.

Ordering (it matches how ``core.model`` flattens a head's output, so anchor ``i`` and row ``i``
of every head belong together)::

    index = ((cell_row * feature_width) + cell_col) * P * P + (row_in_cell * P + col_in_cell)

with ``P = 16 / S_t`` anchors per cell side: feature rows outermost, then feature columns, then
the anchors of one cell in row-major order (v outer, u inner). Within a cell this is also the
order of the authors' code (``core.authors`` converts their weights; only their cells are
ordered column-major and their coordinates are (row, column)).
"""
import torch
from torch import nn

from a2j_ros.core.errors import InputError

FEATURE_STRIDE = 16   # input pixels per feature-map cell (ResNet with a dilated layer4)


def feature_size(input_size, feature_stride=FEATURE_STRIDE):
    """Return the side of the feature map the backbone makes from an input side of this size.

    ResNet's stem and stages each halve the side rounding up (stride 2, padding that keeps
    ``ceil``), four times: ``ceil(input_size / 16)``.
    """
    return -(-int(input_size) // int(feature_stride))


def cell_offsets(anchor_stride=4, feature_stride=FEATURE_STRIDE):
    """Return the anchor positions inside one cell along one axis: (2, 6, 10, 14) for S_t = 4."""
    anchor_stride, feature_stride = int(anchor_stride), int(feature_stride)
    if anchor_stride <= 0 or feature_stride % anchor_stride:
        raise InputError(f'anchor stride {anchor_stride} must divide the feature stride '
                         f'{feature_stride} (1, 2, 4, 8 or 16)')
    per_side = feature_stride // anchor_stride
    return tuple(anchor_stride / 2 + anchor_stride * i for i in range(per_side))


def anchor_grid(feature_height, feature_width, anchor_stride=4, feature_stride=FEATURE_STRIDE,
                device=None, dtype=torch.float32):
    """Return the (A, 2) tensor of anchor (u, v) for a feature map of the given size.

    A = feature_height * feature_width * (feature_stride / anchor_stride) ** 2, in the order
    described in the module docstring.
    """
    offsets = torch.tensor(cell_offsets(anchor_stride, feature_stride), device=device,
                           dtype=dtype)
    per_side = offsets.numel()
    # one cell: (P*P, 2), row-major (v outer, u inner)
    cell_v, cell_u = torch.meshgrid(offsets, offsets, indexing='ij')
    cell = torch.stack((cell_u, cell_v), dim=-1).reshape(per_side * per_side, 2)
    # cell origins: (Hf*Wf, 2), feature rows outer, columns inner
    rows = torch.arange(int(feature_height), device=device, dtype=dtype) * feature_stride
    cols = torch.arange(int(feature_width), device=device, dtype=dtype) * feature_stride
    origin_v, origin_u = torch.meshgrid(rows, cols, indexing='ij')
    origins = torch.stack((origin_u, origin_v), dim=-1).reshape(-1, 1, 2)
    return (origins + cell.unsqueeze(0)).reshape(-1, 2)


class AnchorGrid(nn.Module):
    """Anchor points for a feature map; follows the feature map's device and dtype.

    ``forward(feature_map)`` takes any tensor whose last two dimensions are the feature map's
    height and width and returns the (A, 2) anchor (u, v) on its device, in its dtype.
    """

    def __init__(self, anchor_stride=4, feature_stride=FEATURE_STRIDE):
        super().__init__()
        self.anchor_stride = int(anchor_stride)
        self.feature_stride = int(feature_stride)
        self.per_cell = len(cell_offsets(anchor_stride, feature_stride)) ** 2

    def for_input(self, input_height, input_width, device=None, dtype=torch.float32):
        """Return the anchors of a network input (crop) of this size."""
        return anchor_grid(feature_size(input_height, self.feature_stride),
                           feature_size(input_width, self.feature_stride),
                           self.anchor_stride, self.feature_stride, device=device, dtype=dtype)

    def forward(self, feature_map):
        """Return the (A, 2) anchors of ``feature_map`` (..., Hf, Wf), on its device and dtype."""
        height, width = feature_map.shape[-2:]
        dtype = feature_map.dtype if feature_map.is_floating_point() else torch.float32
        return anchor_grid(height, width, self.anchor_stride, self.feature_stride,
                           device=feature_map.device, dtype=dtype)

    def extra_repr(self):
        """Describe the grid in ``print(model)``."""
        return (f'anchor_stride={self.anchor_stride}, feature_stride={self.feature_stride}, '
                f'per_cell={self.per_cell}')


__all__ = ['FEATURE_STRIDE', 'AnchorGrid', 'anchor_grid', 'cell_offsets', 'feature_size']
