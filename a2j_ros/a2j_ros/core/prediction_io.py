"""Read and write joint predictions and ground truth: the authors' formats and our own.

Formats read (``load_keypoints``):

- ``.txt``: one frame a line, J*D numbers (the authors' NYU/ICVL results: (u, v, d) per joint);
  a first token that is not a number (HANDS 2017's image name) is kept as the frame id.
- ``.mat`` (MATLAB v5 via scipy, v7.3 via h5py): key ``keypoints3D`` (ground truth),
  ``resultUVD`` (the authors' ITOP predictions, always (u, v, d)) or ``keypointsTest`` (K2HPD).
- ``.npy``: an array (N, J, D) or (N, J*D).
- ``.npz``: our prediction format (``save_predictions``): ``format`` = ``PREDICTION_FORMAT``,
  ``layout`` (joint layout name), ``uvd`` (N, J, 3) full-image u, v and depth in mm, and/or
  ``xyz`` (N, J, 3) mm in the optical frame (x right, y down, z forward); ``frame_ids`` (N,)
  optional; ``dataset`` and ``camera`` (JSON) optional. 2D layouts store ``uvd`` as (N, J, 2).

How the numbers of the authors' files are read depends on the dataset preset's ``gt_kind``
and ``file_depth_mm`` (see core.presets). Malformed files raise DatasetError naming the file.
"""
from dataclasses import dataclass
import json
import os
from pathlib import Path
from typing import Optional

import numpy as np

from a2j_ros.core.atomic import atomic_write
from a2j_ros.core.errors import DatasetError

PREDICTION_FORMAT = 'a2j_ros.predictions/1'
# Optional per-row columns of our .npz and their dtypes.
OPTIONAL_COLUMNS = {'stamps': np.int64, 'instance_ids': np.int64, 'track_ids': np.int64,
                    'confidence': np.float32}
MAT_KEYS = ('keypoints3D', 'resultUVD', 'keypointsTest', 'keypoints', 'predictions')


@dataclass
class Keypoints:
    """Joints of N frames from one file, in the core's units (pixels and millimetres)."""

    path: str
    uvd: Optional[np.ndarray] = None      # (N, J, 3) u, v, depth mm; (N, J, 2) for 2D
    xyz: Optional[np.ndarray] = None      # (N, J, 3) mm, optical frame
    frame_ids: Optional[np.ndarray] = None
    layout: Optional[str] = None
    instance_ids: Optional[np.ndarray] = None     # (N,) with frame_ids: the row's instance

    def take(self, rows):
        """Return a Keypoints of the rows ``rows`` (indices), in that order."""
        rows = np.asarray(rows, dtype=np.int64)

        def pick(array):
            return None if array is None else np.asarray(array)[rows]
        return Keypoints(self.path, uvd=pick(self.uvd), xyz=pick(self.xyz),
                         frame_ids=pick(self.frame_ids), layout=self.layout,
                         instance_ids=pick(self.instance_ids))

    def __len__(self):
        return len(self.xyz if self.xyz is not None else self.uvd)

    @property
    def num_joints(self):
        """Number of joints J."""
        return (self.xyz if self.xyz is not None else self.uvd).shape[1]

    def to_xyz(self, camera):
        """Return xyz mm (N, J, 3): stored xyz, or uvd unprojected with ``camera``."""
        if self.xyz is not None:
            return self.xyz
        if self.uvd is None or self.uvd.shape[-1] != 3:
            raise DatasetError(f'{self.path}: has no 3D joints (2D only)')
        if camera is None:
            raise DatasetError(f'{self.path}: joints are (u, v, d); need a camera for xyz')
        return camera.unproject(self.uvd)

    def to_uv(self, camera=None):
        """Return the full-image (u, v) pixels (N, J, 2), projecting xyz if needed."""
        if self.uvd is not None:
            return self.uvd[..., :2]
        if camera is None:
            raise DatasetError(f'{self.path}: joints are xyz; need a camera for (u, v)')
        return camera.project(self.xyz)[..., :2]


def _fail(path, message):
    raise DatasetError(f'{path}: {message}')


def _read_text(path):
    """Return ``(rows (N, C) float64, frame ids or None)`` from a whitespace text file."""
    try:
        text = Path(path).read_text(encoding='utf-8')
    except UnicodeDecodeError:
        _fail(path, 'not a text file (not UTF-8)')
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        _fail(path, 'is empty')
    frame_ids = None
    first = lines[0].split()[0]
    try:
        float(first)
    except ValueError:
        frame_ids = np.array([line.split(None, 1)[0] for line in lines])
        lines = [line.split(None, 1)[1] if len(line.split(None, 1)) > 1 else ''
                 for line in lines]
    counts = np.array([len(line.split()) for line in lines])
    if np.any(counts != counts[0]):
        i = int(np.flatnonzero(counts != counts[0])[0])
        _fail(path, f'line {i + 1} has {counts[i]} numbers, line 1 has {counts[0]}')
    try:
        values = np.array(' '.join(lines).split(), dtype=np.float64)
    except ValueError as exc:
        _fail(path, f'has a value that is not a number ({exc})')
    return values.reshape(len(lines), counts[0]), frame_ids


def _read_mat_hdf5(path):
    """Return the datasets of a MATLAB v7.3 (HDF5) file, transposed to C order."""
    import h5py
    try:
        with h5py.File(path, 'r') as handle:
            return {k: np.asarray(handle[k]).T for k in handle.keys()
                    if isinstance(handle[k], h5py.Dataset)}
    except Exception as exc:  # noqa: B902 - any parser failure means a bad file
        _fail(path, f'not a readable MATLAB v7.3 file ({_short(exc)})')


def _read_mat(path):
    """Return ``(array, key)`` of the joints array in a MATLAB file."""
    import scipy.io
    try:
        data = {k: v for k, v in scipy.io.loadmat(path).items() if not k.startswith('__')}
    except NotImplementedError:           # MATLAB v7.3 = HDF5
        data = _read_mat_hdf5(path)
    except Exception as exc:  # noqa: B902 - scipy raises many kinds on damaged files
        import h5py
        if not h5py.is_hdf5(path):
            _fail(path, f'not a readable .mat file ({exc})')
        data = _read_mat_hdf5(path)
    for key in MAT_KEYS:
        if key in data:
            return np.asarray(data[key]), key
    arrays = [k for k, v in data.items() if isinstance(v, np.ndarray) and v.ndim >= 2]
    if len(arrays) == 1:
        return np.asarray(data[arrays[0]]), arrays[0]
    _fail(path, f'no joints array: expected one of {list(MAT_KEYS)}, found {sorted(data)}')


def _as_joints(path, array, num_joints, dims):
    """Reshape (N, J*D) or (N, J, D) to (N, J, D) float64 and check it is finite."""
    array = np.asarray(array)
    if not (np.issubdtype(array.dtype, np.number) and not np.iscomplexobj(array)):
        _fail(path, f'joints must be real numbers, got dtype {array.dtype}')
    array = array.astype(np.float64)
    if array.ndim == 2 and array.shape[1] == num_joints * dims:
        array = array.reshape(len(array), num_joints, dims)
    if array.ndim != 3 or array.shape[1:] != (num_joints, dims):
        _fail(path, f'expected {num_joints} joints x {dims} values per frame '
                    f'({num_joints * dims} columns), got shape {array.shape}')
    bad = ~np.isfinite(array)
    if np.any(bad):
        frame, joint = np.argwhere(bad)[0][:2]
        _fail(path, f'{int(bad.sum())} non-finite values (first: frame {frame}, joint {joint})')
    return array


def load_keypoints(path, preset, num_joints):
    """Read joints of ``num_joints`` per frame from ``path`` into a Keypoints (mm, pixels).

    ``preset`` (a core.presets.DatasetPreset) says how the authors' files store them.
    """
    path = str(path)
    if not os.path.isfile(path):
        _fail(path, 'no such file')
    suffix = Path(path).suffix.lower()
    if suffix == '.npz':
        return _load_ours(path, num_joints)
    kind = preset.gt_kind
    frame_ids = None
    if suffix == '.txt':
        array, frame_ids = _read_text(path)
    elif suffix == '.mat':
        array, key = _read_mat(path)
        if key == 'resultUVD':
            kind = 'uvd'
    elif suffix == '.npy':
        if os.path.getsize(path) == 0:
            _fail(path, 'is empty (0 bytes), not an .npy file')
        try:
            array = np.load(path, allow_pickle=False)
        except Exception as exc:  # noqa: B902 - any parser failure means a bad file
            _fail(path, f'not a readable .npy file ({_short(exc)})')
    else:
        _fail(path, f'unknown format {suffix!r}; expected .txt, .mat, .npy or .npz')
    dims = 2 if kind == 'uv' else 3
    array = _as_joints(path, array, num_joints, dims)
    scale = preset.file_depth_mm
    if kind == 'uvd':
        array[..., 2] *= scale
        return Keypoints(path, uvd=array, frame_ids=frame_ids)
    if kind == 'uv':
        return Keypoints(path, uvd=array, frame_ids=frame_ids)
    array *= scale
    if kind == 'xyz_y_up':
        array[..., 1] *= -1.0             # ITOP's world y points up; ours points down
    return Keypoints(path, xyz=array, frame_ids=frame_ids)


def _short(exc):
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line if len(line) <= 160 else line[:160] + '...'


def _ids(path, content, key, n):
    """Return the 1-D id column ``key`` of an .npz (None if absent); check its length."""
    ids = content.get(key)
    if ids is None:
        return None
    if ids.ndim != 1 or len(ids) != n:
        _fail(path, f'{key} has shape {ids.shape}, expected ({n},): one id per frame')
    if ids.dtype.kind not in 'iuU':
        _fail(path, f'{key} must hold integers or strings, got dtype {ids.dtype}')
    return ids


def _load_ours(path, num_joints):
    with open(path, 'rb') as stream:
        magic = stream.read(4)
    if not magic:
        _fail(path, 'is empty (0 bytes), not an .npz file')
    if magic[:2] != b'PK':
        _fail(path, 'is not an .npz file (no zip archive header)')
    try:
        with np.load(path, allow_pickle=False) as data:
            if not hasattr(data, 'files'):
                _fail(path, 'is an .npy array, not an .npz archive')
            content = {k: data[k] for k in data.files}
    except DatasetError:
        raise
    except Exception as exc:  # noqa: B902 - any parser failure means a bad file
        _fail(path, f'not a readable .npz file ({_short(exc)})')
    if str(content.get('format', '')) != PREDICTION_FORMAT:
        _fail(path, f'not an a2j_ros prediction file (format key must be {PREDICTION_FORMAT!r})')
    layout = str(content['layout']) if 'layout' in content else None
    uvd = content.get('uvd')
    xyz = content.get('xyz')
    if uvd is None and xyz is None:
        _fail(path, 'has neither uvd nor xyz')
    if uvd is not None:
        dims = uvd.shape[-1] if uvd.ndim == 3 and uvd.shape[-1] in (2, 3) else 3
        uvd = _as_joints(path, uvd, num_joints, dims)
    if xyz is not None:
        xyz = _as_joints(path, xyz, num_joints, 3)
    if uvd is not None and xyz is not None and len(uvd) != len(xyz):
        _fail(path, f'uvd has {len(uvd)} frames but xyz has {len(xyz)}')
    n = len(xyz if xyz is not None else uvd)
    frame_ids = _ids(path, content, 'frame_ids', n)
    instance_ids = _ids(path, content, 'instance_ids', n)
    return Keypoints(path, uvd=uvd, xyz=xyz, frame_ids=frame_ids, layout=layout,
                     instance_ids=instance_ids)


def check_frame_counts(pred, gt):
    """Raise DatasetError naming both files if their frame counts differ."""
    if len(pred) != len(gt):
        raise DatasetError(f'{pred.path} has {len(pred)} frames but the ground truth '
                           f'{gt.path} has {len(gt)}')


def _id_text(values):
    """Return ids as strings; integral numbers without a decimal point (5.0 -> '5')."""
    values = np.asarray(values).reshape(-1)
    if values.dtype.kind == 'f' and np.all(np.isfinite(values)) and np.all(values % 1 == 0):
        values = values.astype(np.int64)
    return [str(v) for v in values.tolist()]


def row_keys(keypoints, with_instances=True):
    """Return one key per row (frame id, plus instance id when present), or None."""
    if keypoints.frame_ids is None:
        return None
    keys = _id_text(keypoints.frame_ids)
    if with_instances and keypoints.instance_ids is not None:
        keys = [f'{k} instance {i}' for k, i in zip(keys, _id_text(keypoints.instance_ids))]
    return keys


def _first_duplicate(keys):
    seen = set()
    for key in keys:
        if key in seen:
            return key
        seen.add(key)
    return None


def align_frames(pred, gt):
    """Return ``(pred, gt)`` with their rows paired; raise DatasetError when they cannot be.

    With ``frame_ids`` in both files rows are paired by id (and ``instance_ids`` when both
    have them), whatever their order: an id twice in a file, a prediction whose id matches
    no ground truth, or ground truth without a prediction is an error naming the file and
    the id. Without ids in one of them, rows are paired by position (counts must agree).
    """
    both_instances = pred.instance_ids is not None and gt.instance_ids is not None
    pred_keys, gt_keys = row_keys(pred, both_instances), row_keys(gt, both_instances)
    if pred_keys is None or gt_keys is None:
        check_frame_counts(pred, gt)
        return pred, gt
    for keypoints, keys in ((pred, pred_keys), (gt, gt_keys)):
        duplicate = _first_duplicate(keys)
        if duplicate is not None:
            raise DatasetError(f'{keypoints.path}: frame id {duplicate} appears '
                               f'{keys.count(duplicate)} times; ids must be unique')
    gt_row = {key: i for i, key in enumerate(gt_keys)}
    unknown = [key for key in pred_keys if key not in gt_row]
    if unknown:
        raise DatasetError(f'{pred.path}: {len(unknown)} frame ids match no ground truth in '
                           f'{gt.path} (first: {unknown[0]})')
    pred_set = set(pred_keys)
    missing = [key for key in gt_keys if key not in pred_set]
    if missing:
        raise DatasetError(f'{gt.path}: {len(missing)} ground-truth frames have no prediction '
                           f'in {pred.path} (first: {missing[0]})')
    return pred, gt.take([gt_row[key] for key in pred_keys])


def save_predictions(path, layout, uvd=None, xyz=None, frame_ids=None, dataset='',
                     camera=None, **columns):
    """Write predictions in our .npz format atomically; return the path.

    ``uvd`` (N, J, 3|2) full-image pixels and depth mm, ``xyz`` (N, J, 3) mm; at least one.
    ``camera`` (PinholeCamera) is stored as JSON so a reader can convert between the two.
    ``columns``: more per-row arrays of length N, among ``OPTIONAL_COLUMNS`` (stamps,
    instance_ids, track_ids, confidence).
    """
    if uvd is None and xyz is None:
        raise DatasetError(f'{path}: nothing to save (neither uvd nor xyz given)')
    unknown = sorted(set(columns) - set(OPTIONAL_COLUMNS))
    if unknown:
        raise ValueError(f'save_predictions: unknown columns {unknown}')
    content = {'format': np.array(PREDICTION_FORMAT), 'layout': np.array(layout),
               'dataset': np.array(dataset)}
    if uvd is not None:
        content['uvd'] = np.asarray(uvd, dtype=np.float32)
    if xyz is not None:
        content['xyz'] = np.asarray(xyz, dtype=np.float32)
    if frame_ids is not None:
        content['frame_ids'] = np.asarray(frame_ids)
    for key, values in columns.items():
        if values is not None:
            content[key] = np.asarray(values, dtype=OPTIONAL_COLUMNS[key])
    if camera is not None:
        content['camera'] = np.array(json.dumps(camera.to_dict()))
    path = Path(path)
    if path.suffix != '.npz':
        path = path.with_name(path.name + '.npz')
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as stream:
        np.savez_compressed(stream, **content)
    return str(path)


__all__ = ['OPTIONAL_COLUMNS', 'PREDICTION_FORMAT', 'Keypoints', 'align_frames',
           'check_frame_counts', 'load_keypoints', 'row_keys', 'save_predictions']
