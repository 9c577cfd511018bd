"""Skeletons -> visualization_msgs/MarkerArray for RViz.

Per instance ``i`` one namespace ``<ns_prefix><i>`` with two markers: id 0 a SPHERE_LIST of
the joints, id 1 a LINE_LIST of the layout's bones. Every marker carries a lifetime, so a
node that stops publishing leaves no stale skeleton behind. When fewer instances are seen
than last time the vanished namespaces are DELETEd; when none is seen the array is a single
DELETEALL. Joints with a non-finite position (2D layouts without depth) are left out.
"""
from dataclasses import dataclass

import numpy as np

# Instance colours (RGB), cycled: joint spheres take them, bones a lighter shade.
PALETTE = ((0.12, 0.47, 0.71), (1.0, 0.5, 0.05), (0.17, 0.63, 0.17), (0.84, 0.15, 0.16),
           (0.58, 0.4, 0.74), (0.55, 0.34, 0.29))


@dataclass
class MarkerOptions:
    """How skeletons are drawn (metres, seconds, RGBA in 0..1)."""

    joint_scale: float = 0.012          # sphere diameter
    bone_width: float = 0.006           # line width
    lifetime_s: float = 0.5             # 0 = forever (not advised: stale skeletons stay)
    ns_prefix: str = 'a2j_'
    joint_color: tuple = ()             # empty = palette colour of the instance
    bone_color: tuple = ()              # empty = lighter palette colour
    alpha: float = 1.0


def _color(rgba):
    from std_msgs.msg import ColorRGBA
    r, g, b, a = (list(rgba) + [1.0])[:4]          # RGB or RGBA; alpha 1 when not given
    return ColorRGBA(r=float(r), g=float(g), b=float(b), a=float(a))


def instance_colors(index, options):
    """Return the (joint, bone) RGB(A) tuples of instance ``index``."""
    base = PALETTE[index % len(PALETTE)]
    joint = tuple(options.joint_color) or base + (options.alpha,)
    bone = tuple(options.bone_color) or tuple(0.5 + 0.5 * c for c in base) + (options.alpha,)
    return joint, bone


def _duration(seconds):
    from builtin_interfaces.msg import Duration
    seconds = max(float(seconds), 0.0)
    sec = int(seconds)
    return Duration(sec=sec, nanosec=int(round((seconds - sec) * 1e9)) % 1_000_000_000)


def _base(header, ns, marker_id, kind, options):
    from visualization_msgs.msg import Marker
    marker = Marker(header=header, ns=ns, id=marker_id, type=kind, action=Marker.ADD)
    marker.pose.orientation.w = 1.0
    marker.lifetime = _duration(options.lifetime_s)
    marker.frame_locked = False
    return marker


def skeleton_markers(joints_m, header, bones, options=None, previous_count=0):
    """Return a MarkerArray drawing ``joints_m``: a list of (K, 3) arrays in metres.

    ``bones`` are the layout's (parent, child) index pairs; ``previous_count`` the number of
    instances drawn last time (their namespaces beyond the new count are deleted).
    """
    from geometry_msgs.msg import Point
    from visualization_msgs.msg import Marker, MarkerArray
    options = options or MarkerOptions()
    out = MarkerArray()
    if not joints_m:
        clear = Marker(header=header, action=Marker.DELETEALL)
        out.markers.append(clear)
        return out
    for i, joints in enumerate(joints_m):
        joints = np.asarray(joints, dtype=np.float64)
        finite = np.all(np.isfinite(joints), axis=1)
        joint_rgba, bone_rgba = instance_colors(i, options)
        ns = f'{options.ns_prefix}{i}'
        spheres = _base(header, ns, 0, Marker.SPHERE_LIST, options)
        spheres.scale.x = spheres.scale.y = spheres.scale.z = float(options.joint_scale)
        spheres.color = _color(joint_rgba)
        spheres.points = [Point(x=p[0], y=p[1], z=p[2]) for p in joints[finite].tolist()]
        lines = _base(header, ns, 1, Marker.LINE_LIST, options)
        lines.scale.x = float(options.bone_width)
        lines.color = _color(bone_rgba)
        for a, b in bones:
            if finite[a] and finite[b]:
                lines.points.append(Point(x=joints[a, 0], y=joints[a, 1], z=joints[a, 2]))
                lines.points.append(Point(x=joints[b, 0], y=joints[b, 1], z=joints[b, 2]))
        out.markers.extend([spheres, lines])
    for i in range(len(joints_m), previous_count):
        for marker_id in (0, 1):
            gone = Marker(header=header, ns=f'{options.ns_prefix}{i}', id=marker_id,
                          action=Marker.DELETE)
            out.markers.append(gone)
    return out


__all__ = ['MarkerOptions', 'PALETTE', 'instance_colors', 'skeleton_markers']
