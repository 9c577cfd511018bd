"""Decode image_transport's ``compressedDepth`` payloads into float32 millimetres.

What a ``sensor_msgs/CompressedImage`` on ``<depth topic>/compressedDepth`` holds (facts of
compressed_depth_image_transport, read from its codec and RVL sources; this code is ours):

- ``format``: ``"<encoding>; compressedDepth <png|rvl>"``. The encoding is the raw image's
  (``16UC1``/``mono16`` millimetres or ``32FC1`` metres). No ``;`` at all, or a bare
  ``compressedDepth``, means png (older publishers).
- ``data``: a 12-byte config header, then the compressed image. The header is an int32
  compression format (0 = inverse depth) and two float32 quantisation parameters A, B,
  little-endian as written on the usual machines.
- png: a 16-bit greyscale PNG. rvl: uint32 columns, uint32 rows, then the RVL stream.
- 16-bit encodings store the millimetres themselves (0 = invalid); ``32FC1`` stores
  quantised inverse depth ``q = A / depth_m + B`` (0 = invalid or beyond the maximum depth),
  so ``depth_m = A / (q - B)``.

RVL (Wilson, "Fast Lossless Depth Image Compression", 2017): little-endian 32-bit words
read as eight 4-bit nibbles, most significant first. A value is a run of nibbles, each
carrying 3 bits (least significant group first) and a continuation flag (0x8). The values
come as (count of zero pixels, count of non-zero pixels, one zig-zag delta per non-zero
pixel), repeated; a delta is taken from the previous non-zero pixel, starting at 0.
"""
import io
import struct

import numpy as np

from a2j_ros.core.errors import InputError

HEADER_BYTES = 12
MAX_PIXELS = 1 << 26        # 64 Mpixel: anything bigger is a corrupt size field
SIXTEEN_BIT = ('16UC1', 'mono16')
THIRTY_TWO_BIT = ('32FC1',)


def parse_format(fmt):
    """Return ``(encoding, compression)`` of a compressedDepth ``format`` string.

    ``compression`` is ``'png'`` or ``'rvl'``; raise InputError for anything else
    (e.g. the plain ``compressed`` transport's ``"mono16; png compressed"``).
    """
    fmt = str(fmt)
    encoding, sep, rest = fmt.partition(';')
    encoding = encoding.strip()
    if not sep:
        compression = 'png'
    elif 'compressedDepth png' in rest:
        compression = 'png'
    elif 'compressedDepth rvl' in rest:
        compression = 'rvl'
    elif 'compressedDepth' in rest and 'compressedDepth ' not in rest:
        compression = 'png'
    else:
        raise InputError(f'compressed image format {fmt!r} is not compressedDepth png or rvl')
    if encoding not in SIXTEEN_BIT + THIRTY_TWO_BIT:
        raise InputError(f'compressedDepth encoding {encoding!r} is not a depth encoding; '
                         f'expected one of {list(SIXTEEN_BIT + THIRTY_TWO_BIT)}')
    return encoding, compression


def _check_size(width, height, what):
    if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
        raise InputError(f'{what} image size {width}x{height} is empty or implausible')


def _decode_png16(payload):
    """Return the uint16 (H, W) pixels of a 16-bit greyscale PNG."""
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(io.BytesIO(payload)) as image:
            if image.format != 'PNG':
                raise InputError(f'compressedDepth png payload is {image.format}, not PNG')
            width, height = image.size
            _check_size(width, height, 'compressedDepth png')
            if image.mode not in ('I;16', 'I;16B', 'I;16L', 'I'):
                raise InputError(f'compressedDepth png is mode {image.mode}, not 16-bit grey')
            image.load()
            pixels = np.asarray(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
            Image.DecompressionBombError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f'compressedDepth png payload cannot be decoded ({exc})') from None
    if pixels.shape != (height, width):
        raise InputError(f'compressedDepth png decoded to shape {pixels.shape}')
    if pixels.dtype != np.uint16:
        if pixels.min(initial=0) < 0 or pixels.max(initial=0) > 0xFFFF:
            raise InputError('compressedDepth png holds values outside 16 bits')
        pixels = pixels.astype(np.uint16)
    return pixels


def _vle_values(words):
    """Return every variable-length value of an RVL word stream (int64), in order."""
    shifts = np.arange(28, -1, -4, dtype=np.uint32)
    nibbles = ((words[:, None] >> shifts[None, :]) & 0xF).reshape(-1).astype(np.int64)
    if nibbles.size == 0:
        return np.zeros(0, dtype=np.int64)
    last = (nibbles & 0x8) == 0                 # a nibble without the flag ends its value
    ends = np.flatnonzero(last)
    if ends.size == 0:
        return np.zeros(0, dtype=np.int64)
    nibbles = nibbles[:ends[-1] + 1]            # an unfinished value at the end is dropped
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts + 1
    if lengths.max() > 11:                      # 33 bits: no count or delta is that long
        raise InputError('compressedDepth rvl stream is corrupt (a value longer than 32 bits)')
    position = np.arange(nibbles.size) - np.repeat(starts, lengths)
    return np.add.reduceat((nibbles & 0x7) << (3 * position), starts)


def decode_rvl(payload, num_pixels):
    """Return ``num_pixels`` uint16 values decoded from an RVL stream (bytes)."""
    usable = len(payload) - len(payload) % 4
    words = np.frombuffer(payload[:usable], dtype='<u4')
    values = _vle_values(words)
    out = np.zeros(num_pixels, dtype=np.uint16)
    nonzero_pos, delta_slices = [], []
    filled, i, n = 0, 0, len(values)
    while filled < num_pixels:
        if i + 1 >= n:
            raise InputError(f'compressedDepth rvl stream ends after {filled} of '
                             f'{num_pixels} pixels')
        zeros, nonzeros = int(values[i]), int(values[i + 1])
        i += 2
        if filled + zeros + nonzeros > num_pixels or i + nonzeros > n:
            raise InputError(f'compressedDepth rvl stream is corrupt at pixel {filled} '
                             f'({zeros} zeros + {nonzeros} values for {num_pixels} pixels)')
        filled += zeros
        if nonzeros:
            nonzero_pos.append((filled, filled + nonzeros))
            delta_slices.append((i, i + nonzeros))
        filled += nonzeros
        i += nonzeros
    if delta_slices:
        zigzag = np.concatenate([values[a:b] for a, b in delta_slices])
        deltas = (zigzag >> 1) ^ -(zigzag & 1)
        pixels = np.cumsum(deltas) & 0xFFFF       # uint16 arithmetic wraps like the C code
        index = np.concatenate([np.arange(a, b) for a, b in nonzero_pos])
        out[index] = pixels.astype(np.uint16)
    return out


def _decode_rvl_image(payload):
    if len(payload) < 8:
        raise InputError(f'compressedDepth rvl payload has {len(payload)} bytes, '
                         'less than its 8-byte size field')
    cols, rows = struct.unpack_from('<II', payload, 0)
    _check_size(cols, rows, 'compressedDepth rvl')
    return decode_rvl(payload[8:], rows * cols).reshape(rows, cols)


def decode_compressed_depth(fmt, data):
    """Return the depth of a compressedDepth message: float32 millimetres (H, W), 0 = invalid.

    ``fmt`` is the CompressedImage ``format``, ``data`` its bytes. Raise InputError naming
    the problem for an unsupported format or a corrupt payload.
    """
    encoding, compression = parse_format(fmt)
    data = bytes(data)
    if len(data) <= HEADER_BYTES:
        raise InputError(f'compressedDepth data has {len(data)} bytes, no more than its '
                         f'{HEADER_BYTES}-byte config header')
    _kind, quant_a, quant_b = struct.unpack_from('<iff', data, 0)
    payload = data[HEADER_BYTES:]
    stored = _decode_png16(payload) if compression == 'png' else _decode_rvl_image(payload)
    if encoding in SIXTEEN_BIT:
        return stored.astype(np.float32)
    if not (np.isfinite(quant_a) and np.isfinite(quant_b)) or quant_a == 0:
        raise InputError(f'compressedDepth 32FC1 header has unusable quantisation '
                         f'parameters A={quant_a}, B={quant_b}')
    # float32 arithmetic, as the publisher's decoder does it
    q = stored.astype(np.float32)
    with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
        metres = np.float32(quant_a) / (q - np.float32(quant_b))
        depth = np.where(stored != 0, metres * np.float32(1000.0), np.float32(0.0))
    depth = depth.astype(np.float32)
    depth[~np.isfinite(depth) | (depth < 0)] = 0.0
    return depth


__all__ = ['HEADER_BYTES', 'decode_compressed_depth', 'decode_rvl', 'parse_format']
