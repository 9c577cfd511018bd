"""ITOP reader on a tiny fixture written in the dataset's own HDF5 format."""
import h5py
import numpy as np
import pytest
import scipy.io

from a2j_ros.core.datasets import open_dataset
from a2j_ros.core.errors import DatasetError

VALID = np.array([1, 0, 1], np.uint8)


def _write(root, view='side', split='test', boxes=True):
    rng = np.random.default_rng(3)
    n = len(VALID)
    depth = rng.uniform(1.0, 4.0, (n, 240, 320)).astype(np.float16)
    world = rng.uniform([-0.5, -0.8, 2.0], [0.5, 0.8, 3.5], (n, 15, 3)).astype(np.float32)
    ids = np.array([f'00_{i:05d}'.encode() for i in range(n)])
    with h5py.File(root / f'ITOP_{view}_{split}_depth_map.h5', 'w') as f:
        f['id'] = ids
        f['data'] = depth
    with h5py.File(root / f'ITOP_{view}_{split}_labels.h5', 'w') as f:
        f['id'] = ids
        f['is_valid'] = VALID
        f['visible_joints'] = np.ones((n, 15), np.int16)
        f['image_coordinates'] = np.zeros((n, 15, 2), np.int16)
        f['real_world_coordinates'] = world
        f['segmentation'] = np.zeros((n, 240, 320), np.int8)
    box = np.array([[10.0, 20.0, 200.0, 230.0], [30.0, 5.0, 300.0, 200.0]])
    if boxes:
        scipy.io.savemat(root / f'itop_{view}_bndbox_{split}.mat', {'FRbndbox_test': box})
    return depth, world, box


def test_valid_frames_depth_in_mm_and_itop_projection(tmp_path):
    depth, world, box = _write(tmp_path)
    ds = open_dataset('itop_side', tmp_path, 'test')
    assert len(ds) == 2 and ds.mode == 'body' and ds.layout == 'itop_body_15'
    sample = ds[1]                                         # the third frame (second valid)
    assert sample.name == '00_00002' and sample.valid
    np.testing.assert_allclose(sample.depth, depth[2].astype(np.float32) * 1000.0, rtol=1e-6)
    # ITOP: x = (u - 160) z 0.0035, y = (120 - v) z 0.0035 (metres, y up)
    x, y, z = world[2].T.astype(np.float64)
    np.testing.assert_allclose(sample.joints_uvd[:, 0], x / (z * 0.0035) + 160, atol=1e-3)
    np.testing.assert_allclose(sample.joints_uvd[:, 1], 120 - y / (z * 0.0035), atol=1e-3)
    np.testing.assert_allclose(sample.joints_uvd[:, 2], z * 1000, rtol=1e-6)
    np.testing.assert_allclose(sample.box, box[1])


def test_all_frames_and_joint_boxes_without_box_file(tmp_path):
    _write(tmp_path, view='top', split='train', boxes=False)
    ds = open_dataset('itop_top', tmp_path, 'train', valid_only=False)
    assert len(ds) == 3 and not ds[1].valid
    sample = ds[0]
    u, v = sample.joints_uvd[:, 0], sample.joints_uvd[:, 1]
    lo_u, lo_v = max(u.min(), 0), max(v.min(), 0)
    assert sample.box[0] <= lo_u and sample.box[1] <= lo_v
    assert sample.box[2] >= min(u.max(), 319) and sample.box[3] >= min(v.max(), 239)


def test_missing_keys_and_files(tmp_path):
    with pytest.raises(DatasetError, match='ITOP_side_test_labels.h5.*missing'):
        open_dataset('itop_side', tmp_path, 'test')
    _write(tmp_path)
    with h5py.File(tmp_path / 'ITOP_side_test_labels.h5', 'a') as f:
        del f['is_valid']
    with pytest.raises(DatasetError, match=r"ITOP_side_test_labels.h5: has no \['is_valid'\]"):
        open_dataset('itop_side', tmp_path, 'test')
    (tmp_path / 'ITOP_side_test_labels.h5').write_bytes(b'garbage')
    with pytest.raises(DatasetError, match='not a readable HDF5'):
        open_dataset('itop_side', tmp_path, 'test')


def test_gzipped_download_gets_a_hint_to_decompress(tmp_path):
    import gzip
    _write(tmp_path)
    for name in ('ITOP_side_test_labels.h5', 'ITOP_side_test_depth_map.h5'):
        data = (tmp_path / name).read_bytes()
        (tmp_path / (name + '.gz')).write_bytes(gzip.compress(data))
        (tmp_path / name).unlink()
    with pytest.raises(DatasetError, match=r'labels.h5: missing .*gunzip .*labels.h5.gz'):
        open_dataset('itop_side', tmp_path, 'test')
