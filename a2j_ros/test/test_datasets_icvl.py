"""ICVL reader on a tiny fixture written in the dataset's own format."""
import numpy as np
from PIL import Image
import pytest

from a2j_ros.core.datasets import open_dataset
from a2j_ros.core.errors import DatasetError


def _png16(path, depth):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(depth.astype(np.uint16)).save(path)


def _write_icvl(root):
    rng = np.random.default_rng(1)
    frames = {'Testing/test_seq_1.txt': ['test_seq_1/image_0000.png'],
              'Testing/test_seq_2.txt': ['test_seq_2/image_0000.png', 'test_seq_2/image_0001.png']}
    truth = []
    for label_file, names in frames.items():
        lines = []
        for name in names:
            joints = rng.uniform([50, 50, 200], [250, 200, 500], (16, 3))
            depth = rng.integers(0, 3000, (240, 320))
            _png16(root / 'Testing' / 'Depth' / name, depth)
            lines.append(name + ' ' + ' '.join(f'{v:.4f}' for v in joints.ravel()))
            truth.append((name, joints, depth))
        (root / label_file).write_text('\n'.join(lines) + '\n')
    return truth


def test_reads_both_test_sequences_in_order(tmp_path):
    truth = _write_icvl(tmp_path)
    ds = open_dataset('icvl', tmp_path, 'test')
    assert len(ds) == 3 and ds.layout == 'icvl_hand_16'
    for i, (name, joints, depth) in enumerate(truth):
        sample = ds[i]
        assert sample.name == name
        assert np.array_equal(sample.depth, depth.astype(np.float32))
        np.testing.assert_allclose(sample.joints_uvd, joints, atol=1e-3)
        np.testing.assert_allclose(sample.centre_uvd, joints.mean(0), atol=1e-3)


def test_bad_label_line_names_file_and_line(tmp_path):
    _write_icvl(tmp_path)
    with open(tmp_path / 'Testing' / 'test_seq_2.txt', 'a') as f:
        f.write('test_seq_2/image_0002.png 1 2 3\n')
    with pytest.raises(DatasetError, match=r'test_seq_2.txt:3: expected an image name and 48'):
        open_dataset('icvl', tmp_path, 'test')


def test_wrong_image_size_and_missing_labels(tmp_path):
    with pytest.raises(DatasetError, match='labels.txt.*missing'):
        open_dataset('icvl', tmp_path, 'train')
    truth = _write_icvl(tmp_path)
    _png16(tmp_path / 'Testing' / 'Depth' / truth[0][0], np.zeros((10, 10)))
    with pytest.raises(DatasetError, match='expected a 320x240 image'):
        open_dataset('icvl', tmp_path, 'test')[0]
    with pytest.raises(DatasetError, match='unknown split'):
        open_dataset('icvl', tmp_path, 'validation')
