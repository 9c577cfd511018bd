"""Every file reader meets random and truncated bytes: one error of ours, never another one.

Checkpoints (CheckpointError), bags (InputError), prediction files and dataset labels
(DatasetError). Seeded, a few hundred small files, a few seconds in all.
"""
import numpy as np
import pytest

from a2j_ros.core.errors import CheckpointError, DatasetError, InputError

torch = pytest.importorskip('torch')

RNG_SEED = 2026


def _mutations(good, rng, random_count=60, cuts=25):
    """Yield random byte strings, truncations of ``good`` and ``good`` with flipped bytes."""
    for _ in range(random_count):
        yield rng.bytes(int(rng.integers(0, 4096)))
    for n in np.linspace(0, len(good) - 1, cuts).astype(int):
        yield good[:n]
    for _ in range(cuts):
        data = bytearray(good)
        for i in rng.integers(0, len(data), 8):
            data[i] ^= 0xFF
        yield bytes(data)


def _expect(func, path, variants, allowed):
    """Write each variant to ``path`` and call ``func``: success or ``allowed`` only."""
    failures = []
    for data in variants:
        path.write_bytes(data)
        try:
            func(path)
        except allowed as exc:
            assert str(path) in str(exc) or path.name in str(exc), exc
        except Exception as exc:  # noqa: B902 - what the test is looking for
            failures.append(f'{len(data)} bytes: {type(exc).__name__}: {exc}')
    assert not failures, '\n'.join(failures[:5])


def test_checkpoint_reader(tmp_path):
    from a2j_ros.core.checkpoint import read_checkpoint
    good_path = tmp_path / 'small.pt'
    torch.save({'format': 'a2j_ros.checkpoint', 'version': 1, 'model_config': {},
                'state_dict': {'w': torch.arange(64.0)}}, good_path)
    rng = np.random.default_rng(RNG_SEED)
    variants = list(_mutations(good_path.read_bytes(), rng, random_count=200))
    # torch's own pickle framing followed by noise: the case that raised IndexError
    variants += [b'\x80\x02' + rng.bytes(int(rng.integers(1, 300))) for _ in range(100)]
    variants += [b'PK\x03\x04' + rng.bytes(2000) for _ in range(20)]
    _expect(read_checkpoint, tmp_path / 'fuzz.pt', variants, CheckpointError)


def test_checkpoint_with_odd_content(tmp_path):
    from a2j_ros.core.checkpoint import load_checkpoint
    base = {'format': 'a2j_ros.checkpoint', 'version': 1}
    for content in ({**base, 'model_config': {'backbone': 5}, 'state_dict': {}},
                    {**base, 'model_config': {}, 'state_dict': {'w': [1, 2]}},
                    {**base, 'model_config': {'layout': None}, 'state_dict': {}},
                    [1, 2, 3], {'format': 'a2j_ros.checkpoint', 'version': 'x'}):
        path = tmp_path / 'odd.pt'
        torch.save(content, path)
        with pytest.raises(CheckpointError, match='odd.pt'):
            load_checkpoint(path)


def test_bag_reader(tmp_path):
    from hostile_corpus import ours_gt, truncated_cdr

    from a2j_ros.bag.reader import BagReader

    def read(path):
        with BagReader(path) as bag:
            for _frame in bag.frames():
                pass

    rng = np.random.default_rng(RNG_SEED)
    for name, build in (('good.mcap', ours_gt), ('good.db3', truncated_cdr)):
        good = build(tmp_path / name).read_bytes()
        _expect(read, tmp_path / f'fuzz_{name}', _mutations(good, rng, 20, 15), InputError)


def _prediction_files(tmp_path):
    import scipy.io

    from a2j_ros.core.prediction_io import save_predictions
    uvd = np.random.default_rng(0).uniform(0, 300, (4, 14, 3))
    npz = save_predictions(tmp_path / 'p.npz', 'nyu_hand_14', uvd=uvd, frame_ids=np.arange(4))
    np.save(tmp_path / 'p.npy', uvd)
    scipy.io.savemat(tmp_path / 'p.mat', {'keypoints3D': uvd})
    np.savetxt(tmp_path / 'p.txt', uvd.reshape(4, -1))
    return {'.npz': npz, '.npy': tmp_path / 'p.npy', '.mat': tmp_path / 'p.mat',
            '.txt': tmp_path / 'p.txt'}


def test_prediction_readers(tmp_path):
    from a2j_ros.core.prediction_io import load_keypoints
    from a2j_ros.core.presets import get_preset
    preset = get_preset('nyu')
    rng = np.random.default_rng(RNG_SEED)
    for suffix, path in _prediction_files(tmp_path).items():
        good = open(path, 'rb').read()
        _expect(lambda p: load_keypoints(p, preset, 14), tmp_path / f'fuzz{suffix}',
                _mutations(good, rng, 40, 15), DatasetError)


def test_dataset_label_readers(tmp_path):
    import h5py
    from PIL import Image
    import scipy.io

    from a2j_ros.core.datasets.base import load_mat, read_depth_png16
    from a2j_ros.core.datasets.hands2017 import read_centre_text
    from a2j_ros.core.datasets.itop import _open_h5
    from a2j_ros.core.datasets.text_labels import read_labelled_lines
    rng = np.random.default_rng(RNG_SEED)
    text = tmp_path / 'labels.txt'
    text.write_text(''.join(f'image_{i}.png ' + ' '.join(['1.5'] * 6) + '\n' for i in range(5)))
    centres = tmp_path / 'centres.txt'
    centres.write_text('1 2 3\n4 5 6\n')
    mat = tmp_path / 'joints.mat'
    scipy.io.savemat(mat, {'joint_uvd': np.ones((2, 3, 14, 3))})
    png = tmp_path / 'depth.png'
    Image.fromarray(np.arange(64, dtype=np.uint16).reshape(8, 8)).save(png)
    h5 = tmp_path / 'labels.h5'
    with h5py.File(h5, 'w') as f:
        f['is_valid'] = np.ones(3)
        f['real_world_coordinates'] = np.zeros((3, 15, 3))

    def open_h5(path):
        _open_h5(path, 'ITOP labels', ('is_valid', 'real_world_coordinates')).close()

    readers = [(text, lambda p: read_labelled_lines(p, 6, 'labels')),
               (centres, lambda p: read_centre_text(p, 2)),
               (mat, lambda p: load_mat(p, 'joints', ('joint_uvd',))),
               (png, lambda p: read_depth_png16(p)), (h5, open_h5)]
    for path, reader in readers:
        _expect(reader, tmp_path / f'fuzz{path.suffix}',
                _mutations(path.read_bytes(), rng, 30, 12), DatasetError)
