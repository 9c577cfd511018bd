"""Pinhole camera geometry: full-image (u, v, depth) <-> 3D points in the optical frame.

Conventions of the whole core: (u, v) = (column, row) in pixels, depth and xyz in
millimetres, optical frame x right, y down, z forward. Every function here is vectorised over
any leading shape (..., 3) and works on numpy arrays and on torch tensors alike (only
indexing, arithmetic and stacking are used), so training can convert batches on its device.

Dataset intrinsics live in ``core.presets``.
"""
from dataclasses import dataclass
import math

import numpy as np

from a2j_ros.core.errors import InputError


def stack_last(parts, like):
    """Stack ``parts`` on a new last axis with the array library of ``like``."""
    if isinstance(like, np.ndarray):
        return np.stack(parts, axis=-1)
    import torch  # only reached when the caller passed a tensor
    return torch.stack(parts, dim=-1)


def _as_points(points, name):
    """Return ``points`` as a float array or tensor of shape (..., 3); raise InputError if not."""
    if not hasattr(points, 'shape') or not hasattr(points, 'dtype'):
        points = np.asarray(points, dtype=np.float64)
    elif isinstance(points, np.ndarray) and not np.issubdtype(points.dtype, np.floating):
        points = points.astype(np.float64)
    elif not isinstance(points, np.ndarray) and not points.is_floating_point():
        points = points.double()
    if points.ndim == 0 or points.shape[-1] != 3:
        raise InputError(f'{name} must have shape (..., 3), got {tuple(points.shape)}')
    return points


@dataclass(frozen=True)
class PinholeCamera:
    """A pinhole camera without distortion, intrinsics in pixels.

    ``width`` and ``height`` are the image size in pixels (0 = unknown); cropping needs them
    to clamp boxes, projection does not.
    """

    fx: float
    fy: float
    cx: float
    cy: float
    width: int = 0
    height: int = 0

    def __post_init__(self):
        for name in ('fx', 'fy', 'cx', 'cy'):
            value = getattr(self, name)
            if not isinstance(value, (int, float, np.floating, np.integer)) \
                    or not math.isfinite(value):
                raise InputError(f'camera {name} must be a finite number, got {value!r}')
        if self.fx == 0 or self.fy == 0:
            raise InputError(f'camera focal lengths must be non-zero, got fx={self.fx} '
                             f'fy={self.fy}')
        if int(self.width) < 0 or int(self.height) < 0:
            raise InputError(f'camera size must be >= 0, got {self.width}x{self.height}')
        # Plain Python numbers, so equality, hashing and JSON behave.
        for name in ('fx', 'fy', 'cx', 'cy'):
            object.__setattr__(self, name, float(getattr(self, name)))
        object.__setattr__(self, 'width', int(self.width))
        object.__setattr__(self, 'height', int(self.height))

    @classmethod
    def from_camera_info(cls, k, width=0, height=0):
        """Build from the 9 numbers of a sensor_msgs/CameraInfo ``k`` (3x3, row-major).

        ``k = [fx, 0, cx, 0, fy, cy, 0, 0, 1]``. A skew term or a K of all zeros (an
        uncalibrated camera) raises InputError.
        """
        values = np.asarray(k, dtype=np.float64).reshape(-1)
        if values.size != 9:
            raise InputError(f'camera K must have 9 numbers, got {values.size}')
        if not np.all(np.isfinite(values)):
            raise InputError(f'camera K has non-finite values: {values.tolist()}')
        if values[0] == 0 or values[4] == 0:
            raise InputError('camera K has a zero focal length (uncalibrated camera?)')
        if values[1] != 0:
            raise InputError(f'camera K has a skew term ({values[1]}); not supported')
        return cls(fx=values[0], fy=values[4], cx=values[2], cy=values[5],
                   width=width, height=height)

    @property
    def k(self):
        """Return the 3x3 intrinsic matrix as a numpy array."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def scaled(self, factor_u, factor_v=None):
        """Return the camera of the same sensor after resizing the image by ``factor``.

        Uses the pixel-centre convention (u + 0.5) * factor - 0.5 for the principal point.
        """
        factor_v = factor_u if factor_v is None else factor_v
        if not (factor_u > 0 and factor_v > 0):
            raise InputError(f'scale factors must be > 0, got {factor_u}, {factor_v}')
        return PinholeCamera(
            fx=self.fx * factor_u, fy=self.fy * factor_v,
            cx=(self.cx + 0.5) * factor_u - 0.5, cy=(self.cy + 0.5) * factor_v - 0.5,
            width=round(self.width * factor_u), height=round(self.height * factor_v))

    def unproject(self, uvd):
        """Map full-image (u, v, depth mm) of shape (..., 3) to xyz mm in the optical frame.

        A depth of 0 gives the camera centre; NaN propagates.
        """
        uvd = _as_points(uvd, 'uvd')
        depth = uvd[..., 2]
        x = (uvd[..., 0] - self.cx) * depth / self.fx
        y = (uvd[..., 1] - self.cy) * depth / self.fy
        return stack_last([x, y, depth], uvd)

    def project(self, xyz):
        """Map xyz mm (..., 3) in the optical frame to full-image (u, v, depth mm).

        Points at z = 0 give inf or NaN pixels (no exception: check with ``np.isfinite``).
        """
        xyz = _as_points(xyz, 'xyz')
        z = xyz[..., 2]
        with np.errstate(divide='ignore', invalid='ignore'):
            u = xyz[..., 0] * self.fx / z + self.cx
            v = xyz[..., 1] * self.fy / z + self.cy
        return stack_last([u, v, z], xyz)

    def check_image_size(self, width, height, name='camera'):
        """Raise InputError when this camera (size known) is not for a width x height image."""
        if self.width and self.height and (self.width, self.height) != (width, height):
            raise InputError(f'{name} is {self.width}x{self.height} but the depth image is '
                             f'{width}x{height}')

    def to_dict(self):
        """Return a plain dict (JSON/YAML friendly)."""
        return {'fx': self.fx, 'fy': self.fy, 'cx': self.cx, 'cy': self.cy,
                'width': self.width, 'height': self.height}

    @classmethod
    def from_dict(cls, data):
        """Build from a dict written by ``to_dict``."""
        try:
            return cls(**{k: data[k] for k in ('fx', 'fy', 'cx', 'cy')},
                       width=data.get('width', 0), height=data.get('height', 0))
        except KeyError as exc:
            raise InputError(f'camera dict lacks {exc.args[0]!r}') from None


__all__ = ['PinholeCamera', 'stack_last']
