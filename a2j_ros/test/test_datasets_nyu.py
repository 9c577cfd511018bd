"""NYU reader on a tiny fixture written in the dataset's own format."""
import numpy as np
from PIL import Image
import pytest
import scipy.io

from a2j_ros.core.datasets import open_dataset
from a2j_ros.core.datasets.nyu import decode_nyu_depth, encode_nyu_depth, NYU_EVAL_JOINTS
from a2j_ros.core.errors import DatasetError


def _write_nyu(root, split='test', frames=2, kinects=3, centres=True):
    folder = root / split
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    uvd = rng.uniform([100, 100, 500], [500, 400, 900], (kinects, frames, 36, 3))
    xyz = rng.normal(size=(kinects, frames, 36, 3))
    scipy.io.savemat(folder / 'joint_data.mat', {'joint_uvd': uvd, 'joint_xyz': xyz,
                                                 'joint_names': np.array(['j'] * 36)})
    depths = []
    for i in range(frames):
        depth = rng.integers(0, 2000, (480, 640)).astype(np.float32)
        depth[0, 0] = 1234
        Image.fromarray(encode_nyu_depth(depth)).save(folder / f'depth_1_{i + 1:07d}.png')
        depths.append(depth)
    centre = uvd[0, :, :14].mean(axis=1)[:, None, :] + 5.0
    if centres:
        scipy.io.savemat(root / f'nyu_center_{split}.mat', {'centre_pixel': centre})
    return uvd, depths, centre


def test_depth_codec_is_g_shift_8_or_b():
    rgb = np.zeros((1, 2, 3), np.uint8)
    rgb[0, 0] = (7, 3, 232)             # R is ignored: 3 * 256 + 232 = 1000
    rgb[0, 1] = (0, 0, 5)
    assert decode_nyu_depth(rgb).tolist() == [[1000.0, 5.0]]
    depth = np.array([[0, 1, 255, 256, 65535]], np.float32)
    assert np.array_equal(decode_nyu_depth(encode_nyu_depth(depth)), depth)


def test_reads_frames_joints_and_centres(tmp_path):
    uvd, depths, centre = _write_nyu(tmp_path)
    ds = open_dataset('nyu', tmp_path, 'test')
    assert len(ds) == 2 and ds.layout == 'nyu_hand_14' and ds.camera.width == 640
    sample = ds[1]
    assert sample.depth.dtype == np.float32 and sample.depth.shape == (480, 640)
    assert np.array_equal(sample.depth, depths[1])
    np.testing.assert_allclose(sample.joints_uvd, uvd[0, 1, list(NYU_EVAL_JOINTS)], rtol=1e-6)
    np.testing.assert_allclose(sample.centre_uvd, centre[1, 0], rtol=1e-6)
    assert sample.name == 'depth_1_0000002.png'


def test_without_centre_file_uses_joint_mean(tmp_path):
    uvd, _, _ = _write_nyu(tmp_path, centres=False)
    ds = open_dataset('nyu', tmp_path, 'test')
    assert ds.centre_file is None
    np.testing.assert_allclose(ds[0].centre_uvd, uvd[0, 0, list(NYU_EVAL_JOINTS)].mean(0),
                               rtol=1e-5)


def test_missing_and_corrupt_files_name_the_file(tmp_path):
    with pytest.raises(DatasetError, match='joint_data.mat'):
        open_dataset('nyu', tmp_path, 'test')
    _write_nyu(tmp_path)
    (tmp_path / 'test' / 'depth_1_0000002.png').write_bytes(b'not a png')
    ds = open_dataset('nyu', tmp_path, 'test')
    with pytest.raises(DatasetError, match='depth_1_0000002.png'):
        ds[1]
    (tmp_path / 'test' / 'depth_1_0000001.png').unlink()
    with pytest.raises(DatasetError, match='depth_1_0000001.png.*missing'):
        ds[0]
    with pytest.raises(IndexError):
        ds[2]


def test_bad_joint_array_and_centre_count(tmp_path):
    (tmp_path / 'test').mkdir()
    scipy.io.savemat(tmp_path / 'test' / 'joint_data.mat', {'joint_uvd': np.zeros((1, 2, 20, 3))})
    with pytest.raises(DatasetError, match='joint_uvd'):
        open_dataset('nyu', tmp_path, 'test')
    (tmp_path / 'test' / 'joint_data.mat').unlink()
    (tmp_path / 'test').rmdir()
    _write_nyu(tmp_path)
    scipy.io.savemat(tmp_path / 'nyu_center_test.mat', {'centre_pixel': np.zeros((5, 1, 3))})
    with pytest.raises(DatasetError, match='5 centres for 2 frames'):
        open_dataset('nyu', tmp_path, 'test')
