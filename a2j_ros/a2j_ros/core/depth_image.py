"""The one check of a depth image handed to the core (cropping, ROI search, pipeline)."""
import numpy as np

from a2j_ros.core.errors import InputError


def check_depth_image(depth):
    """Return ``depth`` as a float32 (H, W) array (H, W >= 2); raise InputError if it is not one.

    An (H, W, 1) array is taken as (H, W); integer depth (16UC1 millimetres) is converted.
    """
    if not isinstance(depth, np.ndarray):
        raise InputError(f'depth image must be a numpy array, got {type(depth).__name__}')
    if depth.ndim == 3 and depth.shape[2] == 1:
        depth = depth[:, :, 0]
    if depth.ndim != 2 or depth.shape[0] < 2 or depth.shape[1] < 2:
        raise InputError(f'depth image must be a 2-D (H, W) array, got shape {depth.shape}')
    if not (np.issubdtype(depth.dtype, np.floating) or np.issubdtype(depth.dtype, np.integer)):
        raise InputError(f'depth image must be numeric, got dtype {depth.dtype}')
    return depth.astype(np.float32, copy=False)


__all__ = ['check_depth_image']
