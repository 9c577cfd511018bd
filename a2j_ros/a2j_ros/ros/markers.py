"""Skeletons -> visualization_msgs/MarkerArray for RViz.

Per instance one namespace ``<ns_prefix><track id>`` (untracked: ``<ns_prefix><index>``),
coloured by it, with two markers: id 0 a SPHERE_LIST of the joints, id 1 a LINE_LIST of the
layout's bones. Every marker carries a lifetime, so a
node that stops publishing leaves no stale skeleton behind. The namespaces of tracks (or
instances) drawn last time and not now are DELETEd; when none is seen the array is a single
DELETEALL. Joints with a non-finite position (2D layouts without depth) are left out.
"""
from dataclasses import dataclass
import functools

import numpy as np

from a2j_ros.ros.messages import points, unchecked

# Instance colours (RGB), cycled: joint spheres take them, bones a lighter shade.
PALETTE = ((0.12, 0.47, 0.71), (1.0, 0.5, 0.05), (0.17, 0.63, 0.17), (0.84, 0.15, 0.16),
           (0.58, 0.4, 0.74), (0.55, 0.34, 0.29))


@dataclass(frozen=True)
class MarkerOptions:
    """How skeletons are drawn (metres, seconds, RGBA in 0..1)."""

    joint_scale: float = 0.012          # sphere diameter
    bone_width: float = 0.006           # line width
    lifetime_s: float = 0.5             # 0 = forever (not advised: stale skeletons stay)
    ns_prefix: str = 'a2j_'
    joint_color: tuple = ()             # empty = palette colour of the instance
    bone_color: tuple = ()              # empty = lighter palette colour
    alpha: float = 1.0

    def __post_init__(self):
        for name in ('joint_color', 'bone_color'):      # lists (parameters) -> hashable tuples
            object.__setattr__(self, name, tuple(float(c) for c in getattr(self, name) or ()))


def _rgba(rgba):
    r, g, b, a = (list(rgba) + [1.0])[:4]          # RGB or RGBA; alpha 1 when not given
    return (float(r), float(g), float(b), float(a))


def instance_colors(index, options):
    """Return the (joint, bone) RGB(A) tuples of instance ``index``."""
    base = PALETTE[index % len(PALETTE)]
    joint = tuple(options.joint_color) or base + (options.alpha,)
    bone = tuple(options.bone_color) or tuple(0.5 + 0.5 * c for c in base) + (options.alpha,)
    return joint, bone


def _sec_nanosec(seconds):
    seconds = max(float(seconds), 0.0)
    sec = int(seconds)
    return sec, int(round((seconds - sec) * 1e9)) % 1_000_000_000


@functools.lru_cache(maxsize=64)
def _style(index, options):
    """Return the static parts of instance ``index``'s markers (cached per options).

    Plain tuples: every marker gets its own message objects built from them.
    """
    joint_rgba, bone_rgba = instance_colors(index, options)
    return (f'{options.ns_prefix}{index}', _rgba(joint_rgba), _rgba(bone_rgba),
            _sec_nanosec(options.lifetime_s))


def _marker(header, ns, marker_id, kind, scale, rgba, lifetime, pts):
    from builtin_interfaces.msg import Duration
    from std_msgs.msg import ColorRGBA
    from visualization_msgs.msg import Marker
    r, g, b, a = rgba
    marker = Marker(header=header, ns=ns, id=marker_id, type=kind, action=Marker.ADD,
                    color=ColorRGBA(r=r, g=g, b=b, a=a, **unchecked(ColorRGBA)),
                    lifetime=Duration(sec=lifetime[0], nanosec=lifetime[1]),
                    frame_locked=False, points=pts, **unchecked(Marker))
    marker.pose.orientation.w = 1.0
    marker.scale.x = scale
    if kind == Marker.SPHERE_LIST:
        marker.scale.y = marker.scale.z = scale
    return marker


def _bone_index(bones):
    """Return the bones as an (B, 2) int array (cached for a layout's tuple of pairs)."""
    try:
        return _bone_array(bones)
    except TypeError:                       # unhashable (a list): convert every time
        return _bone_array.__wrapped__(bones)


@functools.lru_cache(maxsize=16)
def _bone_array(bones):
    return np.asarray(bones, dtype=np.int64).reshape(-1, 2)


def _reused(reuse, key, header, pts, build):
    """Return the marker ``key`` of ``reuse`` with a new header and points, or a new one."""
    if reuse is None:
        return build()
    marker = reuse.get(key)
    if marker is None:
        marker = reuse[key] = build()
    else:
        marker.header, marker.points = header, pts
    return marker


def skeleton_markers(joints_m, header, bones, options=None, previous_count=0, reuse=None,
                     ids=None, previous_ids=()):
    """Return a MarkerArray drawing ``joints_m``: a list of (K, 3) arrays in metres.

    ``bones`` are the layout's (parent, child) index pairs. Namespaces: with ``ids`` (track
    ids, one per skeleton) ``<ns_prefix><id>`` coloured by the id, so a hand keeps its colour
    while tracked, and the namespaces of ``previous_ids`` not drawn now (a lost track) are
    DELETEd; without, ``<ns_prefix><index>`` and the namespaces from ``len(joints_m)`` to
    ``previous_count`` are DELETEd.
    ``reuse``: a dict the caller keeps between calls; the ADD markers are then built once
    and only their header and points change, so each call overwrites the markers the last
    call returned (publish them before the next call, as the pose node does).
    """
    from visualization_msgs.msg import Marker, MarkerArray
    options = options or MarkerOptions()
    out = MarkerArray()
    if not joints_m:
        out.markers = [Marker(header=header, action=Marker.DELETEALL)]
        return out
    keys = list(range(len(joints_m))) if ids is None else [int(i) for i in ids]
    if ids is None:
        gone = range(len(joints_m), previous_count)
    else:
        gone = sorted(set(int(i) for i in previous_ids) - set(keys))
        if reuse is not None:           # forget the markers of ids not drawn now
            for key in [k for k in reuse if k[0] not in keys]:
                del reuse[key]
    pairs = _bone_index(bones)
    markers = []
    for key, joints in zip(keys, joints_m):
        joints = np.asarray(joints, dtype=np.float64)
        finite = np.all(np.isfinite(joints), axis=1)
        ns, joint_color, bone_color, lifetime = _style(key, options)
        drawn = pairs[finite[pairs[:, 0]] & finite[pairs[:, 1]]].reshape(-1).tolist()
        # one Point per joint, shared by the sphere list and the bone lines (read-only)
        pts = points(joints)
        spheres = pts if finite.all() else [pts[k] for k in np.flatnonzero(finite).tolist()]
        lines = [pts[k] for k in drawn]
        markers.append(_reused(reuse, (key, 0, options), header, spheres, lambda: _marker(
            header, ns, 0, Marker.SPHERE_LIST, float(options.joint_scale), joint_color,
            lifetime, spheres)))
        markers.append(_reused(reuse, (key, 1, options), header, lines, lambda: _marker(
            header, ns, 1, Marker.LINE_LIST, float(options.bone_width), bone_color, lifetime,
            lines)))
    for key in gone:
        for marker_id in (0, 1):
            markers.append(Marker(header=header, ns=f'{options.ns_prefix}{key}', id=marker_id,
                                  action=Marker.DELETE))
    out.markers = markers
    return out


__all__ = ['MarkerOptions', 'PALETTE', 'instance_colors', 'skeleton_markers']
