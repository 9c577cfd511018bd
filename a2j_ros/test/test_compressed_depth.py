"""compressedDepth decoding on vectors built by hand from the format's definition.

The 12-byte header is packed with struct, PNGs are assembled chunk by chunk with zlib (with
the Sub and Up row filters computed here), RVL streams come from a hand-written word or from
the small bit-string encoder below, which follows the published algorithm independently of
the decoder (it builds nibble strings, not vectorised sums).
"""
import struct
import zlib

import numpy as np
import pytest

from a2j_ros.core.compressed_depth import decode_compressed_depth, decode_rvl, parse_format
from a2j_ros.core.errors import InputError


def header(a=0.0, b=0.0, kind=0):
    return struct.pack('<iff', kind, a, b)


def png16(rows, filters=None, bits=16):
    """Return a greyscale PNG of ``rows`` (lists of ints), row filters 0, 1 or 2."""
    height, width = len(rows), len(rows[0])
    raw_rows = [b''.join(struct.pack('>H' if bits == 16 else 'B', v) for v in row)
                for row in rows]
    scanlines = b''
    for y, raw in enumerate(raw_rows):
        kind = (filters or [0] * height)[y]
        if kind == 0:
            line = raw
        elif kind == 1:      # Sub: minus the byte 2 to the left (2 bytes per pixel)
            line = bytes((raw[x] - (raw[x - 2] if x >= 2 else 0)) % 256 for x in range(len(raw)))
        else:                # Up: minus the byte above
            above = raw_rows[y - 1] if y else bytes(len(raw))
            line = bytes((raw[x] - above[x]) % 256 for x in range(len(raw)))
        scanlines += bytes([kind]) + line

    def chunk(tag, body):
        return (struct.pack('>I', len(body)) + tag + body
                + struct.pack('>I', zlib.crc32(tag + body) & 0xFFFFFFFF))
    ihdr = struct.pack('>IIBBBBB', width, height, bits, 0, 0, 0, 0)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', zlib.compress(scanlines))
            + chunk(b'IEND', b''))


def rvl_encode(pixels):
    """RVL of a flat list of uint16: runs of zeros / non-zeros, zig-zag deltas, 3-bit nibbles."""
    nibbles = []

    def vle(value):
        while True:
            group, value = value & 7, value >> 3
            nibbles.append(group | (8 if value else 0))
            if not value:
                return

    i, previous, n = 0, 0, len(pixels)
    while i < n:
        start = i
        while i < n and pixels[i] == 0:
            i += 1
        vle(i - start)
        start = i
        while i < n and pixels[i] != 0:
            i += 1
        vle(i - start)
        for value in pixels[start:i]:
            delta = value - previous
            vle(2 * delta if delta >= 0 else -2 * delta - 1)
            previous = value
    nibbles += [0] * (-len(nibbles) % 8)
    words = [int(''.join(f'{x:x}' for x in nibbles[k:k + 8]), 16)
             for k in range(0, len(nibbles), 8)]
    return struct.pack(f'<{len(words)}I', *words)


def test_parse_format():
    assert parse_format('16UC1; compressedDepth png') == ('16UC1', 'png')
    assert parse_format('32FC1; compressedDepth rvl') == ('32FC1', 'rvl')
    assert parse_format('16UC1; compressedDepth') == ('16UC1', 'png')
    assert parse_format('16UC1') == ('16UC1', 'png')        # before formats were named
    for bad in ('mono16; png compressed', '16UC1; compressedDepth jpeg', 'rgb8; compressedDepth'):
        with pytest.raises(InputError):
            parse_format(bad)


def test_png_16uc1_with_row_filters():
    rows = [[0, 1000, 65535], [258, 1, 700], [300, 0, 1200]]
    data = header() + png16(rows, filters=[0, 1, 2])
    depth = decode_compressed_depth('16UC1; compressedDepth png', data)
    assert depth.dtype == np.float32 and depth.shape == (3, 3)
    assert depth.tolist() == [[0, 1000, 65535], [258, 1, 700], [300, 0, 1200]]


def test_rvl_hand_written_word():
    # pixels 0 0 5 7: zeros 2, non-zeros 2, deltas +5 -> 10 = nibbles 0xA 0x1, +2 -> 4.
    # nibbles 2 2 A 1 4 (then zero padding) -> word 0x22A14000, little-endian on the wire.
    stream = struct.pack('<I', 0x22A14000)
    assert decode_rvl(stream, 4).tolist() == [0, 0, 5, 7]
    data = header() + struct.pack('<II', 2, 2) + stream
    assert decode_compressed_depth('16UC1; compressedDepth rvl', data).tolist() == [[0, 0],
                                                                                   [5, 7]]


def test_rvl_against_the_independent_encoder():
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 65536, 37 * 23)
    pixels[rng.random(pixels.size) < 0.3] = 0
    pixels[100:180] = 0                 # a long run of invalid pixels
    pixels[200:210] = [1, 65535, 1, 2, 60000, 3, 3, 3, 0, 9]   # big deltas both ways
    stream = rvl_encode(pixels.tolist())
    data = header() + struct.pack('<II', 37, 23) + stream
    depth = decode_compressed_depth('mono16; compressedDepth rvl', data)
    np.testing.assert_array_equal(depth, pixels.reshape(23, 37).astype(np.float32))


def test_32fc1_inverse_depth():
    # The publisher's defaults: quantisation 100, max depth 10 m -> A = 100 * 101 = 10100,
    # B = 1 - A / 10 = -1009; q = A / d + B: 1 m -> 9091, 2.5 m -> 3031, 0 = invalid.
    a, b = 10100.0, -1009.0
    for fmt, body in (('32FC1; compressedDepth png', png16([[9091, 3031, 0]])),
                      ('32FC1; compressedDepth rvl',
                       struct.pack('<II', 3, 1) + rvl_encode([9091, 3031, 0]))):
        depth = decode_compressed_depth(fmt, header(a, b) + body)
        assert depth.dtype == np.float32
        np.testing.assert_allclose(depth, [[1000.0, 2500.0, 0.0]], rtol=1e-6)


@pytest.mark.parametrize('fmt,data,match', [
    ('16UC1; compressedDepth png', header(), 'no more than'),
    ('16UC1; compressedDepth png', header() + b'\x89PNG garbage', 'cannot be decoded'),
    ('16UC1; compressedDepth rvl', header() + b'\x01\x00', '8-byte'),
    ('16UC1; compressedDepth rvl', header() + struct.pack('<II', 0, 5) + bytes(8), 'size'),
    ('16UC1; compressedDepth rvl', header() + struct.pack('<II', 100000, 100000), 'size'),
    ('16UC1; compressedDepth rvl', header() + struct.pack('<II', 4, 4) + struct.pack(
        '<I', 0x22A14000), 'ends after'),
    ('16UC1; compressedDepth rvl', header() + struct.pack('<II', 2, 1) + struct.pack(
        '<I', 0x22A14000), 'corrupt'),
    ('32FC1; compressedDepth png', header(float('nan'), 1.0) + png16([[1]]), 'quantisation'),
])
def test_bad_payloads_raise_input_error(fmt, data, match):
    with pytest.raises(InputError, match=match):
        decode_compressed_depth(fmt, data)


def test_8bit_png_is_refused():
    with pytest.raises(InputError, match='not 16-bit'):
        decode_compressed_depth('16UC1; compressedDepth png', header() + png16([[1, 2]], bits=8))


def test_fuzz_random_and_truncated_payloads():
    """Random bytes and every truncation give InputError or an image, never another error."""
    rng = np.random.default_rng(12)
    good = {'16UC1; compressedDepth png': header() + png16([[5, 6, 7], [8, 9, 10]]),
            '16UC1; compressedDepth rvl': header() + struct.pack('<II', 3, 2)
            + rvl_encode([5, 0, 7, 8, 0, 10])}
    cases = []
    for fmt, data in good.items():
        cases += [(fmt, data[:n]) for n in range(len(data))]
        cases += [(fmt, data[:HEADER] + rng.bytes(int(rng.integers(1, 200))))
                  for _ in range(100)]
    for fmt, data in cases:
        try:
            depth = decode_compressed_depth(fmt, data)
        except InputError:
            continue
        assert depth.dtype == np.float32 and depth.ndim == 2


HEADER = 12
