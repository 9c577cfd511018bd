"""HANDS 2017 reader on a tiny fixture written in the dataset's own format."""
import numpy as np
from PIL import Image
import pytest

from a2j_ros.core.datasets import open_dataset
from a2j_ros.core.errors import DatasetError
from a2j_ros.core.presets import get_preset


def _write(root, frames=2):
    rng = np.random.default_rng(2)
    (root / 'training' / 'images').mkdir(parents=True)
    lines, truth = [], []
    for i in range(frames):
        name = f'image_D{i + 1:08d}.png'
        xyz = rng.uniform([-80, -80, 350], [80, 80, 600], (21, 3))
        depth = rng.integers(0, 1500, (480, 640))
        Image.fromarray(depth.astype(np.uint16)).save(root / 'training' / 'images' / name)
        lines.append(name + '\t' + '\t'.join(f'{v:.5f}' for v in xyz.ravel()))
        truth.append((name, xyz, depth))
    (root / 'training' / 'Training_Annotation.txt').write_text('\n'.join(lines) + '\n')
    return truth


def test_world_joints_are_projected_with_the_preset_camera(tmp_path):
    truth = _write(tmp_path)
    ds = open_dataset('hands2017', tmp_path, 'train')
    cam = get_preset('hands2017').camera
    assert len(ds) == 2 and ds.layout == 'hands2017_hand_21'
    name, xyz, depth = truth[1]
    sample = ds[1]
    assert sample.name == name and np.array_equal(sample.depth, depth.astype(np.float32))
    np.testing.assert_allclose(cam.unproject(sample.joints_uvd.astype(np.float64)), xyz,
                               atol=1e-3)
    np.testing.assert_allclose(cam.unproject(sample.centre_uvd.astype(np.float64)),
                               xyz.mean(0), atol=1e-2)


def test_centre_text_file(tmp_path):
    truth = _write(tmp_path)
    centres = np.array([[1.0, 2.0, 400.0], [3.0, 4.0, 500.0]])
    np.savetxt(tmp_path / 'centres.txt', centres)
    ds = open_dataset('hands2017', tmp_path, 'train', centres=str(tmp_path / 'centres.txt'))
    np.testing.assert_allclose(ds.camera.unproject(ds[0].centre_uvd.astype(np.float64)),
                               centres[0], atol=1e-3)
    assert len(truth) == 2
    np.savetxt(tmp_path / 'bad.txt', centres[:1])
    with pytest.raises(DatasetError, match='bad.txt'):
        open_dataset('hands2017', tmp_path, 'train', centres=str(tmp_path / 'bad.txt'))


def test_non_numeric_label_and_8bit_image(tmp_path):
    truth = _write(tmp_path)
    Image.fromarray(np.zeros((480, 640, 3), np.uint8)).save(
        tmp_path / 'training' / 'images' / truth[0][0])
    with pytest.raises(DatasetError, match='16-bit one-channel'):
        open_dataset('hands2017', tmp_path, 'train')[0]
    path = tmp_path / 'training' / 'Training_Annotation.txt'
    path.write_text('image_D00000001.png ' + ' '.join(['x'] * 63) + '\n')
    with pytest.raises(DatasetError, match='Training_Annotation.txt:1: non-numeric'):
        open_dataset('hands2017', tmp_path, 'train')


def _write_test_frames(root):
    """Write the released test layout: frame/BoundingBox.txt (name x y w h), frame/images/."""
    (root / 'frame' / 'images').mkdir(parents=True)
    depth = np.zeros((480, 640), np.uint16)
    depth[200:260, 300:340] = 500                     # the hand, inside the listed box
    depth[100:110, 100:110] = 300                     # something nearer, outside it
    for name in ('image_D00000001.png', 'image_D00000002.png'):
        Image.fromarray(depth).save(root / 'frame' / 'images' / name)
    (root / 'frame' / 'BoundingBox.txt').write_text(
        'image_D00000001.png\t290\t190\t61\t81\nimage_D00000002.png\t290\t190\t61\t81\n')


def test_test_split_reads_frame_bounding_boxes_and_images(tmp_path):
    _write_test_frames(tmp_path)
    ds = open_dataset('hands2017', tmp_path, 'test')
    assert len(ds) == 2
    sample = ds[1]
    assert sample.name == 'image_D00000002.png' and sample.depth.shape == (480, 640)
    # centre: the box's centre pixel (290 + 60/2, 190 + 80/2) at the hand's depth 500 mm
    # plus the hand-centre offset (15 mm behind the surface), not the nearer object's
    np.testing.assert_allclose(sample.centre_uvd, [320.0, 230.0, 515.0])
    assert np.all(np.isnan(sample.joints_uvd))        # the test joints are the server's


def test_test_split_labels_are_paired_by_image_name(tmp_path):
    _write_test_frames(tmp_path)
    rng = np.random.default_rng(5)
    xyz = rng.uniform([-80, -80, 350], [80, 80, 600], (2, 21, 3))
    # written in the other order: pairing is by name, not by line
    (tmp_path / 'test_labels.txt').write_text(''.join(
        name + ' ' + ' '.join(f'{v:.5f}' for v in joints.ravel()) + '\n'
        for name, joints in (('image_D00000002.png', xyz[1]), ('image_D00000001.png', xyz[0]))))
    ds = open_dataset('hands2017', tmp_path, 'test', labels=str(tmp_path / 'test_labels.txt'))
    np.testing.assert_allclose(ds.camera.unproject(ds[0].joints_uvd.astype(np.float64)), xyz[0],
                               atol=1e-3)
    (tmp_path / 'short.txt').write_text((tmp_path / 'test_labels.txt').read_text().split('\n')[0])
    with pytest.raises(DatasetError, match='short.txt: no joints for 1 listed frames'):
        open_dataset('hands2017', tmp_path, 'test', labels=str(tmp_path / 'short.txt'))


def test_missing_test_listing_names_the_file(tmp_path):
    with pytest.raises(DatasetError, match='frame/BoundingBox.txt: missing'):
        open_dataset('hands2017', tmp_path, 'test')
