"""The node's debug image: colour-mapped depth with ROIs, crops and skeletons drawn on it.

For users of ``rqt_image_view`` without RViz. ``render_debug_image`` is plain numpy (tested
on tiny hand-made frames); ``debug_image_msg`` wraps the result in a sensor_msgs/Image
``rgb8``. Colours: depth from red (near, ``near_mm``) through yellow and green to blue
(far, ``far_mm``), invalid depth black; detector/search ROIs yellow, network crops cyan,
bones white, joints magenta.
"""
import numpy as np

ROI_COLOR = (255, 255, 0)
CROP_COLOR = (0, 255, 255)
BONE_COLOR = (255, 255, 255)
JOINT_COLOR = (255, 0, 255)
# depth colour map control points (t = 0 near .. 1 far) -> RGB; _LUT[1..255] samples them
_STOPS = np.array([0.0, 0.33, 0.66, 1.0])
_RGB = np.array([(230, 30, 30), (240, 220, 40), (40, 190, 70), (40, 70, 220)], np.float32)


_LUT = np.stack([np.interp(np.linspace(0.0, 1.0, 256), _STOPS, _RGB[:, c])
                 for c in range(3)], axis=1).round().astype(np.uint8)
_LUT[0] = 0                                   # index 0: invalid depth, black


def colorize_depth(depth_mm, near_mm, far_mm):
    """Return (H, W, 3) uint8: depth in near..far mapped red -> blue; invalid (<= 0) black.

    The map is a 255-entry table (index 1 near .. 255 far); index 0 is invalid depth.
    """
    depth = np.asarray(depth_mm, np.float32)
    span = max(float(far_mm) - float(near_mm), 1e-6)
    scaled = (depth - np.float32(near_mm)) * np.float32(254.0 / span)
    valid = depth > 0                         # False for NaN too
    scaled[~valid] = 0.0
    np.clip(scaled, 0.0, 254.0, out=scaled)
    index = scaled.astype(np.uint8)
    index += 1
    index[~valid] = 0
    return _LUT[index]


def draw_box(image, box, color):
    """Draw the 1-pixel outline of box (x, y, w, h) on ``image`` in place, clipped."""
    height, width = image.shape[:2]
    x, y, w, h = (int(round(float(v))) for v in box)
    if w <= 0 or h <= 0:
        return
    x0, x1 = max(x, 0), min(x + w - 1, width - 1)
    y0, y1 = max(y, 0), min(y + h - 1, height - 1)
    if x0 > x1 or y0 > y1:
        return
    for row in (y, y + h - 1):
        if 0 <= row < height:
            image[row, x0:x1 + 1] = color
    for col in (x, x + w - 1):
        if 0 <= col < width:
            image[y0:y1 + 1, col] = color


def draw_line(image, p0, p1, color):
    """Draw a line between pixel points p0 and p1 (u, v) on ``image`` in place, clipped."""
    (u0, v0), (u1, v1) = p0, p1
    if not all(np.isfinite((u0, v0, u1, v1))):
        return
    steps = int(max(abs(u1 - u0), abs(v1 - v0))) + 1
    if steps > 4 * sum(image.shape[:2]):          # far outside the image: not worth drawing
        return
    u = np.rint(np.linspace(u0, u1, steps)).astype(np.int64)
    v = np.rint(np.linspace(v0, v1, steps)).astype(np.int64)
    inside = (u >= 0) & (u < image.shape[1]) & (v >= 0) & (v < image.shape[0])
    image[v[inside], u[inside]] = color


def draw_dot(image, uv, color, radius=2):
    """Draw a filled square of side 2 * radius + 1 centred on pixel ``uv``, clipped."""
    u, v = uv
    if not np.isfinite(u) or not np.isfinite(v):
        return
    u, v = int(round(u)), int(round(v))
    rows = slice(max(v - radius, 0), max(min(v + radius + 1, image.shape[0]), 0))
    cols = slice(max(u - radius, 0), max(min(u + radius + 1, image.shape[1]), 0))
    image[rows, cols] = color


def render_debug_image(depth_mm, near_mm, far_mm, rois, results, bones):
    """Return the (H, W, 3) uint8 debug image of a frame.

    ``rois``: the (x, y, w, h) boxes the frame was given or found; ``results``: the
    pipeline's PoseResults (``crop_box``, ``joints_uvd``); ``bones``: (i, j) joint pairs.
    """
    image = colorize_depth(depth_mm, near_mm, far_mm)
    for box in np.asarray(rois, dtype=np.float64).reshape(-1, 4):
        draw_box(image, box, ROI_COLOR)
    for result in results:
        draw_box(image, result.crop_box, CROP_COLOR)
        uv = np.asarray(result.joints_uvd, dtype=np.float64)[:, :2]
        for i, j in bones:
            draw_line(image, uv[i], uv[j], BONE_COLOR)
        for point in uv:
            draw_dot(image, point, JOINT_COLOR)
    return image


def debug_image_msg(rgb, header):
    """Return a sensor_msgs/Image (rgb8) of an (H, W, 3) uint8 array with ``header``."""
    from sensor_msgs.msg import Image
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    height, width = rgb.shape[:2]
    msg = Image(header=header, height=height, width=width, encoding='rgb8',
                is_bigendian=False, step=3 * width)
    msg.data = rgb.tobytes()
    return msg


__all__ = ['colorize_depth', 'debug_image_msg', 'draw_box', 'draw_dot', 'draw_line',
           'render_debug_image']
