import numpy as np
import pytest
import scipy.io

from a2j_ros.core.errors import DatasetError
from a2j_ros.core.prediction_io import (
    check_frame_counts,
    load_keypoints,
    PREDICTION_FORMAT,
    save_predictions,
)
from a2j_ros.core.presets import get_preset

NYU = get_preset('nyu')
ITOP = get_preset('itop_side')


def _uvd(n=4, j=14, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([rng.uniform(0, 640, (n, j)), rng.uniform(0, 480, (n, j)),
                     rng.uniform(500, 900, (n, j))], axis=-1)


def test_text_file_of_uvd_rows(tmp_path):
    uvd = _uvd()
    path = tmp_path / 'pred.txt'
    np.savetxt(path, uvd.reshape(4, -1))
    kp = load_keypoints(path, NYU, 14)
    np.testing.assert_allclose(kp.uvd, uvd)
    assert kp.xyz is None and len(kp) == 4 and kp.num_joints == 14
    np.testing.assert_allclose(kp.to_xyz(NYU.camera), NYU.camera.unproject(uvd))


def test_text_file_with_image_names_keeps_them_as_frame_ids(tmp_path):
    xyz = np.arange(2 * 21 * 3, dtype=float).reshape(2, 63)
    path = tmp_path / 'result.txt'
    path.write_text(''.join(f'frame/images/image_D{i:08d}.png\t' + '\t'.join(map(str, row))
                            + '\t\n' for i, row in enumerate(xyz, 1)))
    kp = load_keypoints(path, get_preset('hands2017'), 21)
    assert kp.frame_ids.tolist() == ['frame/images/image_D00000001.png',
                                     'frame/images/image_D00000002.png']
    np.testing.assert_allclose(kp.xyz.reshape(2, -1), xyz)


@pytest.mark.parametrize('content, match', [
    ('1 2 3\n4 5 6\n', r'14 joints x 3 values'),
    ('1 2 3\n4 5\n', 'line 2 has 2 numbers'),
    (' '.join(['1'] * 41) + ' nan\n', 'non-finite'),
    (' '.join(['1'] * 41) + ' x\n', 'not a number'),
    ('', 'is empty'),
])
def test_malformed_text_names_the_file(tmp_path, content, match):
    path = tmp_path / 'bad.txt'
    path.write_text(content)
    with pytest.raises(DatasetError, match=match) as info:
        load_keypoints(path, NYU, 14)
    assert 'bad.txt' in str(info.value)


def test_mat_files_v5_and_itop_conventions(tmp_path):
    gt_m = np.random.default_rng(1).uniform(-1, 1, (3, 15, 3)) + [0, 0, 3]
    scipy.io.savemat(tmp_path / 'gt.mat', {'keypoints3D': gt_m.astype(np.float32)})
    gt = load_keypoints(tmp_path / 'gt.mat', ITOP, 15)
    # ITOP world metres with y up -> optical-frame millimetres with y down
    np.testing.assert_allclose(gt.xyz, gt_m * [1000, -1000, 1000], rtol=1e-6)
    uvd_m = np.concatenate([np.full((3, 15, 2), 100.0), gt_m[..., 2:]], axis=-1)
    scipy.io.savemat(tmp_path / 'pred.mat', {'resultUVD': uvd_m})
    pred = load_keypoints(tmp_path / 'pred.mat', ITOP, 15)
    np.testing.assert_allclose(pred.uvd[..., 2], gt_m[..., 2] * 1000)


def test_mat_v73_is_read_with_h5py(tmp_path):
    import h5py
    uvd = _uvd(3)
    path = tmp_path / 'gt73.mat'
    with h5py.File(path, 'w', userblock_size=512) as handle:
        handle['keypoints3D'] = uvd.T          # MATLAB stores column-major
    with open(path, 'r+b') as stream:          # the header MATLAB writes into the user block
        stream.write(b'MATLAB 7.3 MAT-file, Platform: GLNXA64'.ljust(116) + b'\0' * 8
                     + b'\x00\x02IM')
    np.testing.assert_allclose(load_keypoints(tmp_path / 'gt73.mat', NYU, 14).uvd, uvd)


def test_mat_without_a_joints_key_lists_its_keys(tmp_path):
    scipy.io.savemat(tmp_path / 'odd.mat', {'a': np.zeros((2, 2)), 'b': np.zeros((3, 3))})
    with pytest.raises(DatasetError, match=r"odd.mat.*found \['a', 'b'\]"):
        load_keypoints(tmp_path / 'odd.mat', NYU, 14)


def test_npy_and_our_npz_round_trip(tmp_path):
    uvd = _uvd(5)
    np.save(tmp_path / 'pred.npy', uvd)
    np.testing.assert_allclose(load_keypoints(tmp_path / 'pred.npy', NYU, 14).uvd, uvd)
    xyz = NYU.camera.unproject(uvd)
    path = save_predictions(tmp_path / 'ours', 'nyu_hand_14', uvd=uvd, xyz=xyz,
                            frame_ids=np.arange(5), dataset='nyu', camera=NYU.camera)
    assert path.endswith('ours.npz')
    kp = load_keypoints(path, NYU, 14)
    assert kp.layout == 'nyu_hand_14' and kp.frame_ids.tolist() == list(range(5))
    np.testing.assert_allclose(kp.xyz, xyz, rtol=1e-6)
    np.testing.assert_allclose(kp.to_uv(), uvd[..., :2], rtol=1e-6)


def test_foreign_or_broken_npz_is_rejected(tmp_path):
    np.savez(tmp_path / 'x.npz', uvd=_uvd())
    with pytest.raises(DatasetError, match='not an a2j_ros prediction file'):
        load_keypoints(tmp_path / 'x.npz', NYU, 14)
    np.savez(tmp_path / 'y.npz', format=np.array(PREDICTION_FORMAT), layout='nyu_hand_14')
    with pytest.raises(DatasetError, match='neither uvd nor xyz'):
        load_keypoints(tmp_path / 'y.npz', NYU, 14)
    (tmp_path / 'z.npz').write_bytes(b'garbage')
    with pytest.raises(DatasetError, match='z.npz'):
        load_keypoints(tmp_path / 'z.npz', NYU, 14)


def test_missing_file_and_unknown_suffix(tmp_path):
    with pytest.raises(DatasetError, match='no such file'):
        load_keypoints(tmp_path / 'none.txt', NYU, 14)
    (tmp_path / 'p.csv').write_text('1,2,3')
    with pytest.raises(DatasetError, match="unknown format '.csv'"):
        load_keypoints(tmp_path / 'p.csv', NYU, 14)


def test_frame_count_mismatch_names_both_files(tmp_path):
    np.save(tmp_path / 'a.npy', _uvd(3))
    np.save(tmp_path / 'b.npy', _uvd(4))
    a = load_keypoints(tmp_path / 'a.npy', NYU, 14)
    b = load_keypoints(tmp_path / 'b.npy', NYU, 14)
    with pytest.raises(DatasetError, match=r'a\.npy has 3 frames .*b\.npy has 4'):
        check_frame_counts(a, b)
