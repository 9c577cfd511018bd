"""K2HPD reader on a tiny fixture written in the dataset's own format."""
import numpy as np
from PIL import Image
import pytest
import scipy.io

from a2j_ros.core.datasets import open_dataset
from a2j_ros.core.errors import DatasetError


def _write(root, sep=' '):
    rng = np.random.default_rng(4)
    (root / 'depth_data' / 'depth_images').mkdir(parents=True)
    lines, truth = [], []
    for i in range(2):
        name = f'{i + 1:08d}.png'
        uv = rng.uniform([20, 10], [230, 200], (19, 2))
        image = rng.integers(10, 200, (212, 256, 3)).astype(np.uint8)
        Image.fromarray(image).save(root / 'depth_data' / 'depth_images' / name)
        lines.append(sep.join([name] + [f'{v:.2f}' for v in uv.ravel()]))
        truth.append((uv, image))
    (root / 'test_annos.txt').write_text('\n'.join(lines) + '\n')
    return truth


@pytest.mark.parametrize('sep', [' ', ','])
def test_2d_joints_normalised_image_and_boxes(tmp_path, sep):
    truth = _write(tmp_path, sep)
    boxes = np.array([[1.0, 2.0, 200.0, 210.0], [5.0, 6.0, 250.0, 200.0]])
    scipy.io.savemat(tmp_path / 'k2hpd_bndbox_test.mat', {'FRbndbox_test': boxes})
    ds = open_dataset('k2hpd', tmp_path, 'test')
    assert len(ds) == 2 and ds.layout == 'k2hpd_body_19' and ds.input_scale == 1.0
    uv, image = truth[1]
    sample = ds[1]
    np.testing.assert_allclose(sample.joints_uvd[:, :2], uv, atol=1e-2)
    assert np.all(np.isnan(sample.joints_uvd[:, 2]))
    assert sample.depth.min() == 0 and sample.depth.max() == 255      # min-max normalised
    channel = image[:, :, 0].astype(np.float32)
    expected = np.floor((channel - channel.min()) / (channel.max() - channel.min()) * 255)
    np.testing.assert_allclose(sample.depth, expected)
    np.testing.assert_allclose(sample.box, boxes[1])


def test_box_count_mismatch_and_missing_annotations(tmp_path):
    with pytest.raises(DatasetError, match='test_annos.txt.*missing'):
        open_dataset('k2hpd', tmp_path, 'test')
    _write(tmp_path)
    scipy.io.savemat(tmp_path / 'k2hpd_bndbox_test.mat', {'other': np.zeros((2, 4))})
    with pytest.raises(DatasetError, match='no FRbndbox'):
        open_dataset('k2hpd', tmp_path, 'test')
    scipy.io.savemat(tmp_path / 'k2hpd_bndbox_test.mat', {'FRbndbox_test': np.zeros((3, 4))})
    with pytest.raises(DatasetError, match='3 boxes for 2 frames'):
        open_dataset('k2hpd', tmp_path, 'test')
