"""A depth-sensor model: what a RealSense-class stereo camera does to a perfect z-buffer.

``SensorModel.apply(zbuf, rng)`` turns rendered depth (float32 mm, inf = no surface) into a
sensor-like image (float32 mm, 0 = no valid depth), in this order:

1. **Silhouettes.** A pixel across which the depth steps by more than ``edge_step_mm``
   (second difference along a row or column) lies on a silhouette. Stereo matching there
   mixes the two surfaces: with probability ``edge_invalid_prob`` the pixel is invalid (0),
   with probability ``edge_mixed_prob`` it is a *flying pixel* at a depth between the nearest
   and the farthest surface of its neighbourhood (uniformly in the middle 80 % of the gap),
   otherwise it keeps its depth. A silhouette against "no return" (inf) is invalid or kept,
   never mixed.
2. **Noise** growing with the square of depth: standard deviation
   ``noise_mm_at_half_m * (z / 500 mm) ** 2``. For a stereo camera the depth error is
   ``z**2 * e / (f * b)`` (disparity error e, focal f px, baseline b): a D435 at 848x480
   (f ~ 430 px, b = 50 mm, e ~ 0.08 px) gives ~0.9 mm at 0.5 m, hence the default 1 mm
   (2.25 mm at 0.75 m, 4 mm at 1 m).
3. **Quantisation** to ``quantum_mm`` (1 mm: the unit of a 16UC1 depth image).
4. **Holes**: ``hole_fraction`` of the pixels at random, plus depth beyond ``max_depth_mm``
   and no return, become 0.

Random numbers come from the renderer's fixed ``NoiseBank`` tables at offsets drawn from the
frame's generator, so a frame is a pure function of its generator's state.
"""
from dataclasses import dataclass

import numpy as np

from a2j_ros.core.errors import InputError
from a2j_ros.core.synthetic.renderer import noise_bank

HALF_METRE_MM = 500.0


@dataclass
class SensorModel:
    """How depth is corrupted (millimetres; probabilities per pixel)."""

    noise_mm_at_half_m: float = 1.0
    quantum_mm: float = 1.0
    hole_fraction: float = 0.005
    edge_step_mm: float = 20.0
    edge_invalid_prob: float = 0.35
    edge_mixed_prob: float = 0.4
    max_depth_mm: float = 10000.0

    def __post_init__(self):
        for name in ('noise_mm_at_half_m', 'quantum_mm', 'hole_fraction', 'edge_step_mm',
                     'edge_invalid_prob', 'edge_mixed_prob'):
            if not float(getattr(self, name)) >= 0.0:
                raise InputError(f'SensorModel.{name} must be >= 0, got {getattr(self, name)}')
        if self.edge_invalid_prob + self.edge_mixed_prob > 1.0:
            raise InputError('SensorModel: edge_invalid_prob + edge_mixed_prob must be <= 1')

    def sigma_mm(self, z_mm):
        """Return the noise standard deviation (mm) at depth ``z_mm``."""
        z = np.asarray(z_mm, dtype=np.float64)
        return self.noise_mm_at_half_m * (z / HALF_METRE_MM) ** 2

    def silhouette(self, depth):
        """Return (edge mask, nearest, farthest) over each pixel's 4-neighbourhood.

        ``depth`` is float32 with inf for no return. A pixel is on a silhouette when the depth
        bends by more than ``edge_step_mm`` across it along a row or a column
        (``|d[i+1] - 2 d[i] + d[i-1]|``: a step, not a steep but smooth surface such as a floor
        seen at a grazing angle), or when a neighbour has no return.
        """
        lo = depth.copy()
        hi = depth.copy()
        for shifted in _neighbours(depth):
            np.minimum(lo, shifted, out=lo)
            np.maximum(hi, shifted, out=hi)
        edge = np.zeros(depth.shape, dtype=bool)
        with np.errstate(invalid='ignore'):
            edge[:, 1:-1] = np.abs(depth[:, 2:] - 2 * depth[:, 1:-1] + depth[:, :-2]) \
                > self.edge_step_mm
            edge[1:-1, :] |= np.abs(depth[2:, :] - 2 * depth[1:-1, :] + depth[:-2, :]) \
                > self.edge_step_mm
        edge |= np.isfinite(lo) & ~np.isfinite(hi)          # next to "no return"
        return edge, lo, hi

    def apply(self, zbuf, rng):
        """Return the sensor's depth image (float32 mm, 0 = invalid) for a z-buffer."""
        depth = np.array(zbuf, dtype=np.float32, copy=True)
        depth[~(depth > 0)] = np.inf                          # NaN, <= 0: no return
        bank = noise_bank(depth.shape)
        normal, draw = bank.draw(rng, depth.shape)
        _, draw2 = bank.draw(rng, depth.shape)
        invalid = ~np.isfinite(depth)
        if self.edge_step_mm > 0 and (self.edge_invalid_prob > 0 or self.edge_mixed_prob > 0):
            edge, lo, hi = self.silhouette(depth)
            p_bad, p_mix = np.float32(self.edge_invalid_prob), np.float32(self.edge_mixed_prob)
            invalid |= edge & (draw < p_bad)
            mixed = edge & (draw >= p_bad) & (draw < p_bad + p_mix) & np.isfinite(hi)
            if mixed.any():
                weight = 0.1 + 0.8 * (draw[mixed] - p_bad) / p_mix     # uniform in [0.1, 0.9)
                depth[mixed] = lo[mixed] + weight * (hi[mixed] - lo[mixed])
        depth[invalid] = 0.0
        if self.noise_mm_at_half_m > 0:
            scale = np.float32(self.noise_mm_at_half_m / HALF_METRE_MM ** 2)
            depth += scale * depth * depth * normal
        if self.quantum_mm > 0:
            q = np.float32(self.quantum_mm)
            np.round(depth / q, out=depth)
            depth *= q
        invalid |= draw2 < np.float32(self.hole_fraction)
        invalid |= ~(depth <= self.max_depth_mm)
        depth[invalid] = 0.0
        np.maximum(depth, 0.0, out=depth)
        return depth


def _neighbours(depth):
    """Yield the image shifted by one pixel in each of 4 directions (edges repeat)."""
    padded = np.pad(depth, 1, mode='edge')
    yield padded[1:-1, :-2]
    yield padded[1:-1, 2:]
    yield padded[:-2, 1:-1]
    yield padded[2:, 1:-1]


# The defaults per subject: hands as seen by a RealSense-class camera at arm's length; bodies
# 2.5-4 m away, where a stereo camera's z**2 growth would reach 25-60 mm, are modelled on a
# time-of-flight camera like ITOP's Kinect (a gentler growth, 9-16 mm of noise at 3-4 m).
HAND_SENSOR = SensorModel()
BODY_SENSOR = SensorModel(noise_mm_at_half_m=0.25, edge_step_mm=60.0)

__all__ = ['BODY_SENSOR', 'HAND_SENSOR', 'SensorModel']
