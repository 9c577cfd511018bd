"""sensor_msgs/Image <-> numpy depth in millimetres, without cv_bridge.

REP 118 depth images: ``16UC1`` (and ``mono16``, which drivers use for the same data) hold
millimetres with 0 = invalid, ``32FC1`` holds metres with NaN (or 0) = invalid. Rows may be
padded (``step`` > width * bytes per pixel) and either endianness (``is_bigendian``). The
byte-level work is ``core.depth_codec`` (shared with the bag reader and writer); this module
adapts it to rclpy messages. The ROS 2 ``cv_bridge`` is not used even where installed: it
would add OpenCV to the node for a conversion that is one ``numpy.frombuffer`` here, and
PyPI's ``cv-bridge`` maps 16UC1 to 8 bits (docs/node.md). Images in the machine's byte
order (nearly all cameras) take a fast path: one ``astype`` (16UC1) or one multiply and one
masked write (32FC1) straight from the message buffer, no intermediate copies.
"""
import sys

import numpy as np

from a2j_ros.core.depth_codec import decode_depth, DEPTH_ENCODINGS, encode_depth
from a2j_ros.core.errors import InputError

SUPPORTED_ENCODINGS = tuple(sorted(DEPTH_ENCODINGS))
_NATIVE_BIG = sys.byteorder == 'big'


def _buffer(data):
    """Return a zero-copy view of a message's ``data`` (array.array, bytes or list)."""
    try:
        return memoryview(data).cast('B')
    except TypeError:
        return bytes(bytearray(data))


def _native_depth(msg, data):
    """Return float32 mm of a native-byte-order image, or None where ``decode_depth`` must.

    None for the other byte order, a zero size, a step that is short or not a whole
    number of pixels, or too little data: ``decode_depth`` then converts or names the error.
    """
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    base, scale = DEPTH_ENCODINGS[msg.encoding]
    size = np.dtype(base).itemsize
    if (bool(msg.is_bigendian) != _NATIVE_BIG or height <= 0 or width <= 0
            or step < width * size or step % size or len(data) < step * height):
        return None
    pixels = np.frombuffer(data, dtype=base, count=step // size * height)
    pixels = pixels.reshape(height, step // size)[:, :width]
    if base is np.uint16:
        return pixels.astype(np.float32)            # mm; 0 stays 0 (invalid)
    depth = pixels * np.float32(scale)
    with np.errstate(invalid='ignore'):             # NaN, inf and negative are invalid
        np.copyto(depth, np.float32(0.0), where=~((depth >= 0.0) & (depth < np.inf)))
    return depth


def image_to_depth_mm(msg):
    """Return float32 millimetres (H, W) from a sensor_msgs/Image; invalid pixels are 0.

    Raise InputError naming the problem: an encoding that is not a depth encoding, a zero
    size, a ``step`` shorter than a row, or a data buffer shorter than ``step * height``.
    """
    if msg.encoding not in DEPTH_ENCODINGS:
        raise InputError(f'depth image encoding {msg.encoding!r} is not supported; expected '
                         f'one of {", ".join(SUPPORTED_ENCODINGS)} (REP 118)')
    data = _buffer(msg.data)
    depth = _native_depth(msg, data)
    if depth is not None:
        return depth
    return decode_depth(msg.height, msg.width, msg.encoding, bool(msg.is_bigendian), msg.step,
                        data)


def compressed_to_depth_mm(msg):
    """Return float32 millimetres (H, W) of a sensor_msgs/CompressedImage on compressedDepth.

    ``core.compressed_depth`` decodes the payload (png or rvl, 16-bit mm or 32FC1 inverse
    depth); InputError names a format that is not compressedDepth or a corrupt payload.
    """
    from a2j_ros.core.compressed_depth import decode_compressed_depth
    return decode_compressed_depth(msg.format, bytes(_buffer(msg.data)))


def message_to_depth_mm(msg):
    """Return float32 mm of a depth Image or a compressedDepth CompressedImage."""
    if hasattr(msg, 'format'):
        return compressed_to_depth_mm(msg)
    return image_to_depth_mm(msg)


def depth_mm_to_image(depth_mm, encoding='16UC1', header=None, pad_bytes=0, big_endian=False):
    """Return a sensor_msgs/Image holding ``depth_mm`` (H, W) in ``encoding``.

    The inverse of ``image_to_depth_mm`` (tests, benchmarks, synthetic publishers);
    ``pad_bytes`` pads each row, ``big_endian`` flips the byte order.
    """
    from sensor_msgs.msg import Image
    # C order: encode_depth views the pixels as bytes, which needs a contiguous last axis
    raw = encode_depth(np.ascontiguousarray(depth_mm), encoding, pad_bytes=pad_bytes,
                       big_endian=big_endian)
    msg = Image(height=raw.height, width=raw.width, encoding=raw.encoding,
                is_bigendian=raw.is_bigendian, step=raw.step)
    if header is not None:
        msg.header = header
    msg.data = raw.data.tobytes()
    return msg


__all__ = ['SUPPORTED_ENCODINGS', 'compressed_to_depth_mm', 'depth_mm_to_image',
           'image_to_depth_mm', 'message_to_depth_mm']
