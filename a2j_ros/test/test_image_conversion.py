"""sensor_msgs/Image <-> depth in millimetres, messages built by hand."""
import numpy as np
import pytest
from sensor_msgs.msg import Image

from a2j_ros.core.errors import InputError
from a2j_ros.ros.image_conversion import depth_mm_to_image, image_to_depth_mm


def _image(encoding, pixels, step=None, big_endian=False):
    height, width = pixels.shape
    dtype = pixels.dtype.newbyteorder('>' if big_endian else '<')
    row = pixels.astype(dtype).tobytes()
    row_bytes = width * pixels.itemsize
    step = row_bytes if step is None else step
    data = b''.join(row[r * row_bytes:(r + 1) * row_bytes] + bytes(step - row_bytes)
                    for r in range(height))
    return Image(height=height, width=width, encoding=encoding, is_bigendian=big_endian,
                 step=step, data=data)


def test_16uc1_millimetres():
    pixels = np.array([[0, 1000], [65535, 42]], np.uint16)
    out = image_to_depth_mm(_image('16UC1', pixels))
    assert out.dtype == np.float32 and out.tolist() == [[0.0, 1000.0], [65535.0, 42.0]]


def test_mono16_is_16uc1():
    pixels = np.array([[500, 0, 7]], np.uint16)
    assert image_to_depth_mm(_image('mono16', pixels)).tolist() == [[500.0, 0.0, 7.0]]


def test_32fc1_metres_with_nan_and_negative_invalid():
    pixels = np.array([[0.5, np.nan], [-1.0, 1.25]], np.float32)
    out = image_to_depth_mm(_image('32FC1', pixels))
    assert out.tolist() == [[500.0, 0.0], [0.0, 1250.0]]


@pytest.mark.parametrize('encoding,dtype', [('16UC1', np.uint16), ('32FC1', np.float32)])
def test_row_padding_and_big_endian(encoding, dtype):
    pixels = (np.arange(12).reshape(3, 4) + 1).astype(dtype)
    for big in (False, True):
        msg = _image(encoding, pixels, step=4 * pixels.itemsize + 6, big_endian=big)
        expected = pixels.astype(np.float32) * (1000.0 if encoding == '32FC1' else 1.0)
        assert image_to_depth_mm(msg).tolist() == expected.tolist()


def test_wrong_encoding_is_a_clear_error():
    msg = _image('16UC1', np.ones((2, 2), np.uint16))
    msg.encoding = 'rgb8'
    with pytest.raises(InputError, match="'rgb8'.*16UC1"):
        image_to_depth_mm(msg)


def test_step_mismatch_and_short_data_are_errors():
    msg = _image('16UC1', np.ones((2, 3), np.uint16))
    msg.step = 4                            # shorter than a row of 3 x 2 bytes
    with pytest.raises(InputError, match='step'):
        image_to_depth_mm(msg)
    msg = _image('16UC1', np.ones((2, 3), np.uint16))
    msg.data = bytes(5)
    with pytest.raises(InputError, match='bytes'):
        image_to_depth_mm(msg)
    empty = Image(height=0, width=0, encoding='16UC1', step=0)
    with pytest.raises(InputError, match='zero size'):
        image_to_depth_mm(empty)


@pytest.mark.parametrize('encoding', ['16UC1', '32FC1', 'mono16'])
def test_roundtrip_with_padding(encoding):
    depth = np.array([[0.0, 400.0, 1234.0], [np.nan, 65535.0, 1.0]], np.float32)
    msg = depth_mm_to_image(depth, encoding, pad_bytes=3, big_endian=True)
    assert msg.step == 3 * (2 if encoding != '32FC1' else 4) + 3
    back = image_to_depth_mm(msg)
    assert back[0].tolist() == pytest.approx([0.0, 400.0, 1234.0])
    assert back[1, 0] == 0.0 and back[1, 2] == pytest.approx(1.0)


def test_non_contiguous_input_encodes():
    depth = np.arange(1, 13, dtype=np.float32).reshape(3, 4).T     # Fortran order
    assert image_to_depth_mm(depth_mm_to_image(depth)).tolist() == depth.tolist()


@pytest.mark.parametrize('encoding,dtype', [('16UC1', np.uint16), ('mono16', np.uint16),
                                            ('32FC1', np.float32)])
@pytest.mark.parametrize('pad', [0, 4, 3])
def test_native_fast_path_matches_the_codec(encoding, dtype, pad):
    from a2j_ros.core.depth_codec import decode_depth
    rng = np.random.default_rng(0)
    if dtype is np.uint16:
        pixels = rng.integers(0, 65536, (7, 9)).astype(np.uint16)
    else:
        pixels = rng.uniform(-0.5, 3.0, (7, 9)).astype(np.float32)
        pixels[0, :4] = [np.nan, np.inf, -np.inf, 0.0]
    msg = _image(encoding, pixels, step=9 * pixels.itemsize + pad)   # pad 3: not whole pixels
    out = image_to_depth_mm(msg)
    expected = decode_depth(msg.height, msg.width, encoding, False, msg.step, bytes(msg.data))
    assert out.dtype == np.float32 and out.shape == (7, 9)
    assert out.tolist() == expected.tolist()
    assert np.all(np.isfinite(out)) and np.all(out >= 0)
