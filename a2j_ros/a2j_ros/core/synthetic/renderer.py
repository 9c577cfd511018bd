"""Ray-cast depth rendering of spheres, capsules and planes through a pinhole camera.

A shape is a union of spheres (x, y, z, r) and finite cylinders (a, b, r); a capsule is a
cylinder plus a sphere at each end. Every primitive is intersected with the camera rays of
its own projected bounding box only, and the nearest hit wins (a z-buffer), so a hand costs a
few thousand pixel tests per primitive, all vectorised with numpy.

The ray through pixel (u, v) is t * ((u - cx) / fx, (v - cy) / fy, 1), so the ray parameter
t of a hit is its depth z in millimetres (optical frame: x right, y down, z forward).
"""
import numpy as np

from a2j_ros.core.errors import InputError


class DepthRenderer:
    """Render depth images (float32 millimetres, 0 = no return) for one camera."""

    def __init__(self, camera):
        if not (camera.width > 0 and camera.height > 0):
            raise InputError('the synthetic renderer needs a camera with width and height')
        self.camera = camera
        self.width, self.height = camera.width, camera.height
        self.ray_u = ((np.arange(self.width) - camera.cx) / camera.fx).astype(np.float32)
        self.ray_v = ((np.arange(self.height) - camera.cy) / camera.fy).astype(np.float32)

    def empty(self):
        """Return a z-buffer full of +inf (H, W) float32."""
        return np.full((self.height, self.width), np.inf, dtype=np.float32)

    def add_sphere(self, zbuf, centre, radius):
        """Z-buffer one sphere (a capsule of zero length) into ``zbuf`` in place."""
        self.add_capsule(zbuf, centre, centre, radius)

    def add_capsule(self, zbuf, start, end, radius):
        """Z-buffer a capsule (cylinder + two end spheres)."""
        self.add_capsules(zbuf, np.asarray(start, float)[None], np.asarray(end, float)[None],
                          np.asarray([radius], float))

    def capsule_boxes(self, starts, ends, radii):
        """Return the pixel boxes (C, 4) int (u0, v0, u1, v1) of capsules, end-exclusive.

        A capsule's projection lies within the union of its end spheres' bounds, since
        (x +- r) / (z -+ r) is monotone along the segment. Empty boxes (behind the camera or
        outside the image) have u0 >= u1.
        """
        cam = self.camera
        centres = np.stack([starts, ends], axis=1)                       # (C, 2, 3)
        r = radii[:, None]
        x, y, z = centres[..., 0], centres[..., 1], centres[..., 2]
        near, far = np.maximum(z - r, 1e-3), z + r
        us = np.concatenate([(x - r) / near, (x - r) / far, (x + r) / near, (x + r) / far], 1)
        vs = np.concatenate([(y - r) / near, (y - r) / far, (y + r) / near, (y + r) / far], 1)
        us, vs = us * cam.fx + cam.cx, vs * cam.fy + cam.cy
        boxes = np.stack([np.floor(us.min(1)), np.floor(vs.min(1)),
                          np.ceil(us.max(1)) + 1, np.ceil(vs.max(1)) + 1], axis=1)
        boxes = np.clip(boxes, 0, [self.width, self.height, self.width, self.height])
        boxes[np.any(z - r <= 1.0, axis=1)] = 0                         # behind the camera
        return boxes.astype(np.int64)

    def add_capsules(self, zbuf, starts, ends, radii):
        """Z-buffer capsules given as starts (C, 3), ends (C, 3) and radii (C,), in place.

        The side of each cylinder is intersected in the capsule's pixel box (hits kept where
        they fall between the ends); the end spheres, shared by chained capsules, are drawn
        once each (the largest radius at a point) in their own smaller boxes.
        """
        starts = np.asarray(starts, dtype=np.float64).reshape(-1, 3)
        ends = np.asarray(ends, dtype=np.float64).reshape(-1, 3)
        radii = np.asarray(radii, dtype=np.float64).reshape(-1)
        lengths = np.linalg.norm(ends - starts, axis=1)
        tubes = np.flatnonzero(lengths > 1e-6)
        boxes = self.capsule_boxes(starts[tubes], ends[tubes], radii[tubes]).tolist()
        for (u0, v0, u1, v1), i in zip(boxes, tubes.tolist()):
            if u0 < u1 and v0 < v1:
                du, dv = self.ray_u[None, u0:u1], self.ray_v[v0:v1, None]
                t = self._cylinder_t(du, dv, starts[i], ends[i], radii[i])
                patch = zbuf[v0:v1, u0:u1]
                np.minimum(patch, t, out=patch)
        centres, sphere_radii = _unique_spheres(np.concatenate([starts, ends]),
                                                np.concatenate([radii, radii]))
        boxes = self.capsule_boxes(centres, centres, sphere_radii).tolist()
        for (u0, v0, u1, v1), centre, r in zip(boxes, centres, sphere_radii.tolist()):
            if u0 < u1 and v0 < v1:
                du, dv = self.ray_u[None, u0:u1], self.ray_v[v0:v1, None]
                t = self._sphere_t(du, dv, centre, r)
                patch = zbuf[v0:v1, u0:u1]
                np.minimum(patch, t, out=patch)

    @staticmethod
    def _sphere_t(du, dv, centre, radius):
        """Return the depth of the first hit with a sphere per ray (inf = miss)."""
        dd = du * du + dv * dv + 1.0
        b = du * np.float32(centre[0]) + dv * np.float32(centre[1]) + np.float32(centre[2])
        disc = b * b - dd * np.float32(centre @ centre - radius * radius)
        miss = disc < 0
        disc[miss] = 0
        t = (b - np.sqrt(disc)) / dd
        t[miss] = np.inf
        return t

    @staticmethod
    def _cylinder_t(du, dv, start, end, radius):
        """Return the depth of the first hit with a finite cylinder's side (inf = miss)."""
        dd = du * du + dv * dv + 1.0
        axis = end - start
        length = float(np.sqrt(axis @ axis))
        w = axis / length
        m = -start
        mw = float(m @ w)
        mp = m - mw * w
        dw = du * np.float32(w[0]) + dv * np.float32(w[1]) + np.float32(w[2])
        a = dd - dw * dw
        b = du * np.float32(mp[0]) + dv * np.float32(mp[1]) + np.float32(mp[2])
        disc = b * b - a * np.float32(mp @ mp - radius * radius)
        miss = (disc < 0) | (a < 1e-9)
        disc[miss] = 0
        a[miss] = 1.0
        t = (-b - np.sqrt(disc)) / a
        s = t * dw + np.float32(mw)
        miss |= (s < 0) | (s > length) | (t <= 0)
        t[miss] = np.inf
        return t

    def add_plane(self, zbuf, normal, point):
        """Z-buffer the infinite plane through ``point`` with ``normal`` over the whole image."""
        normal = np.asarray(normal, dtype=np.float64)
        offset = np.float32(normal @ np.asarray(point, dtype=np.float64))
        dn = (self.ray_u[None, :] * np.float32(normal[0])
              + (self.ray_v[:, None] * np.float32(normal[1]) + np.float32(normal[2])))
        with np.errstate(divide='ignore', invalid='ignore'):
            t = offset / dn
        t[~(t > 0)] = np.inf
        np.minimum(zbuf, t, out=zbuf)

    def plane_offset_for_depth(self, normal, nearest_mm):
        """Return the smallest offset d at which the plane ``normal . p = d`` is seen no nearer.

        A pixel's ray t * r meets the plane at depth t = d / (normal . r); over the image
        ``normal . r`` is largest at a corner (it is linear in the ray), so every hit of the
        plane with offset ``nearest_mm * max(normal . r)`` or more is at ``nearest_mm`` or
        farther. Returns 0 when the plane, on the far side of the camera, is never seen.
        """
        normal = np.asarray(normal, dtype=np.float64)
        du = self.ray_u[[0, -1]].astype(np.float64)
        dv = self.ray_v[[0, -1]].astype(np.float64)
        facing = (du[:, None] * normal[0] + dv[None, :] * normal[1] + normal[2]).max()
        return max(float(nearest_mm) * float(facing), 0.0)


def _unique_spheres(centres, radii):
    """Merge spheres at the same point (to 0.01 mm), keeping the largest radius."""
    keys = np.round(centres * 100.0)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    best = np.zeros(len(first))
    np.maximum.at(best, inverse, radii)
    return centres[first], best


class NoiseBank:
    """Fixed tables of standard normal and uniform numbers, read at a random offset.

    Drawing 77k fresh normals per frame costs more than rendering a hand; a frame instead
    reads a contiguous slice of a table 4x its size at an offset drawn from its own
    generator, so frames stay deterministic by seed and differ from each other.
    """

    def __init__(self, size, seed=20190927):
        rng = np.random.default_rng(seed)
        self.size = int(size)
        self.normal = rng.standard_normal(4 * self.size, dtype=np.float32)
        self.uniform = rng.random(4 * self.size, dtype=np.float32)

    def draw(self, rng, shape):
        """Return (normal, uniform) arrays of ``shape`` (views, do not modify)."""
        count = int(np.prod(shape))
        i, j = rng.integers(0, len(self.normal) - count, 2)
        return self.normal[i:i + count].reshape(shape), self.uniform[j:j + count].reshape(shape)


_BANKS = {}


def noise_bank(shape):
    """Return the shared NoiseBank for images of ``shape`` (made on first use)."""
    size = int(np.prod(shape))
    if size not in _BANKS:
        _BANKS[size] = NoiseBank(size)
    return _BANKS[size]


def finish_depth(zbuf, rng, noise_mm=1.0, noise_mm_at_1m=1.5, hole_fraction=0.01,
                 edge_hole_mm=25.0, edge_hole_prob=0.5, max_depth_mm=np.inf):
    """Turn a z-buffer into a sensor-like depth image (float32 mm, 0 = hole), in place.

    Adds Gaussian noise of standard deviation ``noise_mm + noise_mm_at_1m * (z / 1 m) ** 2``
    (growing with the square of depth, like structured-light sensors), drops
    ``hole_fraction`` of the pixels at random and, with probability ``edge_hole_prob``, the
    pixels beside a depth jump larger than ``edge_hole_mm`` (the shadow of a depth edge). No
    return (inf) and depth beyond ``max_depth_mm`` become 0.
    """
    depth = zbuf
    invalid = ~(depth <= max_depth_mm)            # inf, NaN and too far
    depth[invalid] = 0.0
    normal, draw = noise_bank(depth.shape).draw(rng, depth.shape)
    if noise_mm > 0 or noise_mm_at_1m > 0:
        sigma = np.float32(noise_mm_at_1m * 1e-6) * depth * depth
        sigma += np.float32(noise_mm)
        sigma *= normal
        depth += sigma
    # one uniform number per pixel: below hole_fraction = random hole, above
    # 1 - edge_hole_prob = dropped if it lies on a depth edge
    drop = draw < hole_fraction
    drop |= invalid
    if edge_hole_mm > 0 and edge_hole_prob > 0:
        jump = np.abs(np.diff(depth, axis=1)) > edge_hole_mm
        jump &= draw[:, 1:] >= 1.0 - edge_hole_prob
        drop[:, 1:] |= jump
    depth[drop] = 0.0
    np.maximum(depth, 0.0, out=depth)
    return depth


__all__ = ['DepthRenderer', 'NoiseBank', 'finish_depth', 'noise_bank']
