"""Depth images as raw sensor_msgs/Image fields, both ways (REP 118 encodings).

``16UC1`` (and ``mono16``) hold millimetres, 0 = invalid; ``32FC1`` holds metres, NaN =
invalid. Rows may be padded (``step`` > width * bytes per pixel) and either endianness.
The core works in float32 millimetres with 0 for invalid pixels.
"""
from dataclasses import dataclass

import numpy as np

from a2j_ros.core.errors import InputError

# encoding -> (numpy base dtype, scale from the stored unit to millimetres)
DEPTH_ENCODINGS = {
    '16UC1': (np.uint16, 1.0),
    'mono16': (np.uint16, 1.0),
    '32FC1': (np.float32, 1000.0),
}


@dataclass
class RawImage:
    """The fields of a sensor_msgs/Image that carry the pixels."""

    height: int
    width: int
    encoding: str
    is_bigendian: bool
    step: int
    data: np.ndarray        # uint8, step * height bytes


def encode_depth(depth_mm, encoding='16UC1', pad_bytes=0, big_endian=False):
    """Return a RawImage holding ``depth_mm`` (H, W) in ``encoding``.

    Invalid pixels (0, NaN, negative) become 0 in 16UC1 and NaN in 32FC1. Values above
    65535 mm do not fit 16UC1 and become 0 (invalid). ``pad_bytes`` extra bytes end each row.
    """
    depth = np.asarray(depth_mm, dtype=np.float32)
    if depth.ndim != 2 or depth.size == 0:
        raise InputError(f'depth image must be a non-empty 2-D array, got shape {depth.shape}')
    if encoding not in DEPTH_ENCODINGS:
        raise InputError(f'unsupported depth encoding {encoding!r}; '
                         f'use one of {sorted(DEPTH_ENCODINGS)}')
    if pad_bytes < 0:
        raise InputError(f'pad_bytes must be >= 0, got {pad_bytes}')
    base, scale = DEPTH_ENCODINGS[encoding]
    valid = np.isfinite(depth) & (depth > 0)
    if base is np.uint16:
        valid &= depth <= 65535.0
        pixels = np.where(valid, np.rint(depth), 0).astype(np.uint16)
    else:
        pixels = np.where(valid, depth / scale, np.nan).astype(np.float32)
    pixels = pixels.astype(pixels.dtype.newbyteorder('>' if big_endian else '<'))
    height, width = depth.shape
    row_bytes = width * pixels.itemsize
    rows = np.zeros((height, row_bytes + pad_bytes), dtype=np.uint8)
    rows[:, :row_bytes] = pixels.view(np.uint8).reshape(height, row_bytes)
    return RawImage(height=height, width=width, encoding=encoding,
                    is_bigendian=bool(big_endian), step=row_bytes + pad_bytes,
                    data=rows.reshape(-1))


def decode_depth(height, width, encoding, is_bigendian, step, data):
    """Return float32 millimetres (H, W) from raw Image fields; invalid pixels are 0.

    Raise InputError naming the problem for an unknown encoding, a step shorter than a row,
    or a data buffer shorter than ``step * height``.
    """
    if encoding not in DEPTH_ENCODINGS:
        raise InputError(f'depth image encoding {encoding!r} is not a depth encoding; '
                         f'expected one of {sorted(DEPTH_ENCODINGS)}')
    height, width, step = int(height), int(width), int(step)
    if height <= 0 or width <= 0:
        raise InputError(f'depth image has zero size ({width}x{height})')
    base, scale = DEPTH_ENCODINGS[encoding]
    dtype = np.dtype(base).newbyteorder('>' if is_bigendian else '<')
    row_bytes = width * dtype.itemsize
    if step < row_bytes:
        raise InputError(f'depth image step {step} is shorter than a row of {width} '
                         f'{encoding} pixels ({row_bytes} bytes)')
    if isinstance(data, (bytes, bytearray, memoryview)):
        buffer = np.frombuffer(data, dtype=np.uint8)
    else:
        buffer = np.asarray(data, dtype=np.uint8).reshape(-1)
    if buffer.size < step * height:
        raise InputError(f'depth image data has {buffer.size} bytes, expected step * height = '
                         f'{step} * {height} = {step * height}')
    rows = buffer[:step * height].reshape(height, step)[:, :row_bytes]
    pixels = np.ascontiguousarray(rows).view(dtype).reshape(height, width)
    depth = pixels.astype(np.float32) * np.float32(scale)
    depth[~np.isfinite(depth) | (depth < 0)] = 0.0
    return depth


__all__ = ['DEPTH_ENCODINGS', 'RawImage', 'decode_depth', 'encode_depth']
