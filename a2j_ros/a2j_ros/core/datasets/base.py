"""What every dataset reader returns: full depth frames with joints and a crop ROI.

A reader is a sequence of ``Sample``: ``len(reader)`` and ``reader[i]``. Depth is float32
millimetres (H, W) with 0 = invalid, joints are full-image (u, v, depth mm) in the dataset's
own joint layout, and each sample carries the ROI the crop is made from: a hand centre
(u, v, d mm) or a body box (u_min, v_min, u_max, v_max). 2D datasets (K2HPD) have NaN depth.
"""
from dataclasses import dataclass
import os
from typing import Optional

import numpy as np

from a2j_ros.core.errors import DatasetError


@dataclass
class Sample:
    """One frame of a dataset."""

    depth: np.ndarray                       # (H, W) float32 mm, 0 = invalid
    joints_uvd: np.ndarray                  # (K, 3) u, v px, depth mm (NaN depth in 2D sets)
    centre_uvd: Optional[np.ndarray] = None  # (3,) hand crop centre
    box: Optional[np.ndarray] = None        # (4,) body box u_min, v_min, u_max, v_max
    name: str = ''                          # file name or index, for messages
    valid: bool = True                      # False: the dataset flags this frame invalid


class PoseDataset:
    """Base class of the readers: a sequence of ``Sample`` with its camera and layout.

    Subclasses set ``layout`` (core.layouts name), ``camera`` (PinholeCamera), ``mode``
    ('hand' or 'body'), ``input_scale`` (depth unit passed to body cropping: 1e-3 for
    millimetres to metres) and implement ``__len__`` and ``load(index)``.
    """

    layout = ''
    mode = 'hand'
    input_scale = 1e-3
    camera = None

    def __len__(self):
        raise NotImplementedError

    def load(self, index):
        """Return the ``Sample`` at ``index`` (0 <= index < len(self))."""
        raise NotImplementedError

    def __getitem__(self, index):
        index = int(index)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f'{type(self).__name__}: index {index} out of range '
                             f'(0..{len(self) - 1})')
        return self.load(index)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]


def require_file(path, what):
    """Return ``path`` if it is a file; raise DatasetError naming it and ``what`` it should be."""
    if not os.path.isfile(path):
        raise DatasetError(f'{path}: missing ({what})')
    return path


def read_png(path, what='depth PNG'):
    """Read a PNG with PIL as a numpy array; raise DatasetError naming the file if it fails."""
    from PIL import Image, UnidentifiedImageError
    require_file(path, what)
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode in ('I;16', 'I;16B', 'I;16L'):
                return np.array(image, dtype=np.uint16)
            return np.array(image)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise DatasetError(f'{path}: not a readable PNG ({exc})') from None


def read_depth_png16(path, expected_shape=None):
    """Read a 16-bit single-channel PNG of depth in millimetres as float32 (H, W)."""
    array = read_png(path)
    if array.ndim != 2 or array.dtype not in (np.uint16, np.int32, np.uint8):
        raise DatasetError(f'{path}: expected a 16-bit one-channel depth PNG, got '
                           f'shape {array.shape} dtype {array.dtype}')
    if expected_shape is not None and array.shape != tuple(expected_shape):
        raise DatasetError(f'{path}: expected a {expected_shape[1]}x{expected_shape[0]} image, '
                           f'got {array.shape[1]}x{array.shape[0]}')
    return array.astype(np.float32)


def load_mat(path, what, keys=()):
    """Load a MATLAB .mat file with scipy; check ``keys`` exist; raise DatasetError if not.

    MATLAB v7.3 files are HDF5 and are read with h5py (arrays transposed back to MATLAB's
    order).
    """
    import scipy.io
    require_file(path, what)
    try:
        data = scipy.io.loadmat(path)
    except NotImplementedError:          # v7.3 (HDF5)
        data = _load_mat73(path)
    except Exception as exc:  # noqa: B902 - scipy raises many kinds on damaged files
        raise DatasetError(f'{path}: not a readable .mat file ({exc})') from None
    for key in keys:
        if key not in data:
            found = sorted(k for k in data if not k.startswith('__'))
            raise DatasetError(f'{path}: has no variable {key!r} (found {found})')
    return data


def _load_mat73(path):
    import h5py
    try:
        with h5py.File(path, 'r') as f:
            return {k: np.array(v).T for k, v in f.items() if isinstance(v, h5py.Dataset)}
    except Exception as exc:  # noqa: B902 - h5py raises many kinds on damaged files
        raise DatasetError(f'{path}: not a readable .mat file ({exc})') from None


def check_array(array, shape, path, what):
    """Raise DatasetError if ``array`` does not match ``shape`` (None = any size)."""
    array = np.asarray(array)
    ok = array.ndim == len(shape) and all(s is None or s == a for s, a in zip(shape, array.shape))
    if not ok:
        want = '(' + ', '.join('N' if s is None else str(s) for s in shape) + ')'
        raise DatasetError(f'{path}: {what} must have shape {want}, got {array.shape}')
    return array


def select_split(split, known):
    """Return ``split`` if it is one of ``known``; raise DatasetError listing them."""
    if split not in known:
        raise DatasetError(f'unknown split {split!r}; this dataset has {", ".join(known)}')
    return split




def read_centres_mat(path, count):
    """Read the authors' crop centres (``*_center_*.mat``, key ``centre_pixel``, (N, 1, 3)).

    The centres are (u, v, depth mm) from V2V-PoseNet's refinement, republished by A2J
    (github.com/zhangboshen/A2J, data/<dataset>/). Returns (N, 3) float32; the count must
    match the dataset's frames.
    """
    data = load_mat(path, 'crop centres (A2J data/<dataset>/*_center_*.mat)', ['centre_pixel'])
    centres = np.asarray(data['centre_pixel'], dtype=np.float32).reshape(-1, 3)
    if count is not None and len(centres) != count:
        raise DatasetError(f'{path}: has {len(centres)} centres for {count} frames')
    return centres


def read_boxes_mat(path, count):
    """Read the authors' body boxes (``*_bndbox_*.mat``, key ``FRbndbox_test``/``_train``).

    (N, 4) = (u_min, v_min, u_max, v_max) pixels (A2J data/itop_side, itop_top, k2hpd).
    """
    data = load_mat(path, 'body boxes (A2J data/<dataset>/*_bndbox_*.mat)')
    keys = [k for k in data if k.startswith('FRbndbox')]
    if not keys:
        found = sorted(k for k in data if not k.startswith('__'))
        raise DatasetError(f'{path}: has no FRbndbox_* variable (found {found})')
    boxes = check_array(np.asarray(data[keys[0]], dtype=np.float32), (None, 4), path,
                        keys[0])
    if count is not None and len(boxes) != count:
        raise DatasetError(f'{path}: has {len(boxes)} boxes for {count} frames')
    return boxes


def joint_box(joints_uvd, camera, pad_mm=120.0, width=None, height=None):
    """Return a body box (4,) around projected joints, padded by ``pad_mm`` at their depth.

    Used when no box file is given; 2D joints (no camera) are padded by 10 % of the extent.
    """
    uv = np.asarray(joints_uvd, dtype=np.float64)[:, :2]
    lo, hi = uv.min(axis=0), uv.max(axis=0)
    depth = np.asarray(joints_uvd, dtype=np.float64)[:, 2] if joints_uvd.shape[1] == 3 else None
    if camera is not None and depth is not None and np.all(np.isfinite(depth)) \
            and np.all(depth > 0):
        pad = pad_mm * np.array([abs(camera.fx), abs(camera.fy)]) / depth.mean()
    else:
        pad = 0.1 * (hi - lo)
    box = np.concatenate([lo - pad, hi + pad])
    if width and height:
        box = np.clip(box, 0, [width - 1, height - 1, width - 1, height - 1])
    return box.astype(np.float32)


def find_first(paths):
    """Return the first existing path of ``paths``, or None."""
    for path in paths:
        if path and os.path.isfile(path):
            return path
    return None


__all__ = ['PoseDataset', 'Sample', 'check_array', 'find_first', 'joint_box', 'load_mat',
           'read_boxes_mat', 'read_centres_mat', 'read_depth_png16', 'read_png', 'require_file',
           'select_split']
