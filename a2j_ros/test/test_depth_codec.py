"""Depth <-> raw sensor_msgs/Image bytes: encodings, padded rows, endianness, bad input."""
import numpy as np
import pytest

from a2j_ros.core.depth_codec import decode_depth, encode_depth
from a2j_ros.core.errors import InputError


def _depth():
    depth = np.random.default_rng(3).uniform(200.0, 4000.0, (5, 7)).astype(np.float32)
    depth[0, 0] = 0.0
    depth[1, 2] = np.nan
    return depth


def _decode(raw):
    return decode_depth(raw.height, raw.width, raw.encoding, raw.is_bigendian, raw.step,
                        raw.data)


@pytest.mark.parametrize('encoding,tolerance', [('16UC1', 0.5), ('32FC1', 1e-3)])
@pytest.mark.parametrize('pad_bytes', [0, 3, 16])
@pytest.mark.parametrize('big_endian', [False, True])
def test_round_trip(encoding, tolerance, pad_bytes, big_endian):
    depth = _depth()
    raw = encode_depth(depth, encoding, pad_bytes=pad_bytes, big_endian=big_endian)
    bpp = 2 if encoding == '16UC1' else 4
    assert raw.step == 7 * bpp + pad_bytes and raw.data.size == raw.step * 5
    out = _decode(raw)
    assert out.dtype == np.float32 and out.shape == (5, 7)
    valid = np.isfinite(depth) & (depth > 0)
    np.testing.assert_allclose(out[valid], depth[valid], atol=tolerance)
    assert out[0, 0] == 0.0 and out[1, 2] == 0.0


def test_bytes_on_the_wire():
    # 16UC1 little endian: 1000 mm = 0x03E8 -> e8 03; big endian -> 03 e8; then padding.
    depth = np.array([[1000.0]], dtype=np.float32)
    assert encode_depth(depth, '16UC1', pad_bytes=2).data.tolist() == [0xE8, 0x03, 0, 0]
    assert encode_depth(depth, '16UC1', big_endian=True).data.tolist() == [0x03, 0xE8]
    metres = np.frombuffer(encode_depth(depth, '32FC1').data.tobytes(), '<f4')
    assert metres.tolist() == [1.0]


def test_mono16_and_bytes_input():
    data = np.array([500, 0, 65535], dtype='<u2').tobytes()
    out = decode_depth(1, 3, 'mono16', False, 6, data)
    assert out.tolist() == [[500.0, 0.0, 65535.0]]


def test_32fc1_nan_and_inf_are_invalid():
    data = np.array([np.nan, np.inf, 0.75], dtype='<f4').tobytes()
    assert decode_depth(1, 3, '32FC1', False, 12, data).tolist() == [[0.0, 0.0, 750.0]]


@pytest.mark.parametrize('args,match', [
    ((2, 2, 'rgb8', False, 6, bytes(12)), 'rgb8'),
    ((2, 2, '16UC1', False, 3, bytes(6)), 'step 3'),
    ((2, 2, '16UC1', False, 4, bytes(7)), '7 bytes'),
    ((0, 2, '16UC1', False, 4, b''), 'zero size'),
])
def test_bad_images_raise_input_error(args, match):
    with pytest.raises(InputError, match=match):
        decode_depth(*args)


def test_encode_rejects_bad_input():
    with pytest.raises(InputError, match='encoding'):
        encode_depth(np.ones((2, 2)), 'bgr8')
    with pytest.raises(InputError, match='2-D'):
        encode_depth(np.ones(4), '16UC1')
