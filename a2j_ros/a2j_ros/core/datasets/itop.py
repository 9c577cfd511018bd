"""ITOP reader, side (front) and top views, in the released HDF5 format.

ITOP: Haque et al., "Towards Viewpoint Invariant 3D Human Pose Estimation", ECCV 2016.

Files (the dataset's README, zenodo.org/record/3932973, and A2J's data/itop_side/
data_preprosess.py)::

    <root>/ITOP_<view>_<split>_depth_map.h5   'id' (N,), 'data' (N, 240, 320) depth in metres
    <root>/ITOP_<view>_<split>_labels.h5      'id', 'is_valid' (N,), 'visible_joints' (N, 15),
                                              'image_coordinates' (N, 15, 2),
                                              'real_world_coordinates' (N, 15, 3) metres,
                                              'segmentation' (N, 240, 320)

with view 'side' or 'top' and split 'train' or 'test'. World coordinates have y up; ITOP's
projection is x = (u - 160) z 0.0035, y = (120 - v) z 0.0035 (core.presets). Only frames with
``is_valid`` are used by the benchmark (4863 side test frames) and by default here.

Boxes: A2J's ``itop_<view>_bndbox_<split>.mat`` (``FRbndbox_*``, one row per valid frame) in
<root> or given as ``boxes``; otherwise the joints' extent padded by 120 mm.
"""
import os

import numpy as np

from a2j_ros.core.datasets.base import (
    check_array,
    find_first,
    joint_box,
    PoseDataset,
    read_boxes_mat,
    require_file,
    Sample,
    select_split,
)
from a2j_ros.core.errors import DatasetError

LABEL_KEYS = ('is_valid', 'real_world_coordinates')


def _open_h5(path, what, keys):
    import h5py
    if not os.path.isfile(path) and os.path.isfile(path + '.gz'):
        raise DatasetError(f'{path}: missing ({what}), but {os.path.basename(path)}.gz is there: '
                           f'ITOP is downloaded gzipped, decompress it first (gunzip '
                           f'{path}.gz)')
    require_file(path, what)
    try:
        f = h5py.File(path, 'r')
    except Exception as exc:  # noqa: B902 - h5py raises many kinds on damaged files
        raise DatasetError(f'{path}: not a readable HDF5 file ({exc})') from None
    try:
        missing = [k for k in keys if k not in f]
        found = sorted(str(k) for k in f.keys()) if missing else []
    except Exception as exc:  # noqa: B902 - a damaged index (links, names)
        f.close()
        raise DatasetError(f'{path}: damaged HDF5 file ({exc})') from None
    if missing:
        f.close()
        raise DatasetError(f'{path}: has no {missing} (found {found})')
    return f


class ITOPBodies(PoseDataset):
    """ITOP frames (side or top view) with their 15 joints."""

    layout = 'itop_body_15'
    mode = 'body'
    input_scale = 1e-3

    def __init__(self, root, split='test', view='side', boxes=None, valid_only=True):
        from a2j_ros.core.presets import get_preset
        select_split(split, ('train', 'test'))
        if view not in ('side', 'top'):
            raise DatasetError(f'ITOP view must be side or top, got {view!r}')
        self.root, self.split, self.view = str(root), split, view
        self.camera = get_preset(f'itop_{view}').camera
        self.depth_path = os.path.join(self.root, f'ITOP_{view}_{split}_depth_map.h5')
        self.label_path = os.path.join(self.root, f'ITOP_{view}_{split}_labels.h5')
        with _open_h5(self.label_path, 'ITOP labels', LABEL_KEYS) as f:
            valid = np.asarray(f['is_valid'][()]).astype(bool).reshape(-1)
            world = check_array(np.asarray(f['real_world_coordinates'][()], np.float64),
                                (len(valid), 15, 3), self.label_path,
                                'real_world_coordinates')
            ids = (np.asarray(f['id'][()]).reshape(-1) if 'id' in f
                   else np.arange(len(valid)))
        with _open_h5(self.depth_path, 'ITOP depth maps', ('data',)) as f:
            shape = f['data'].shape
        if len(shape) != 3 or shape[0] != len(valid):
            raise DatasetError(f'{self.depth_path}: data has shape {shape}, the labels have '
                               f'{len(valid)} frames')
        self.frames = np.flatnonzero(valid) if valid_only else np.arange(len(valid))
        self.valid = valid
        self.ids = [i.decode() if isinstance(i, bytes) else str(i) for i in ids]
        xyz = world * np.array([1000.0, -1000.0, 1000.0])       # y up m -> y down mm
        self.joints = self.camera.project(xyz).astype(np.float32)
        box_path = boxes or find_first([os.path.join(self.root,
                                                     f'itop_{view}_bndbox_{split}.mat')])
        self.box_file = box_path
        self.boxes = read_boxes_mat(box_path, len(self.frames)) if box_path else None
        self._h5, self._pid = None, None

    def __len__(self):
        return len(self.frames)

    def _depth_file(self):
        """Open the depth file once per process (h5py handles do not survive a fork)."""
        if self._h5 is None or self._pid != os.getpid():
            self._h5 = _open_h5(self.depth_path, 'ITOP depth maps', ('data',))
            self._pid = os.getpid()
        return self._h5

    def load(self, index):
        """Read frame ``index`` (counted over the valid frames unless valid_only=False)."""
        frame = int(self.frames[index])
        try:
            depth = np.asarray(self._depth_file()['data'][frame], dtype=np.float32) * 1000.0
        except (OSError, KeyError) as exc:
            raise DatasetError(f'{self.depth_path}: frame {frame} unreadable ({exc})') from None
        joints = self.joints[frame]
        box = (self.boxes[index] if self.boxes is not None else
               joint_box(joints, self.camera, 120.0, depth.shape[1], depth.shape[0]))
        return Sample(depth=depth, joints_uvd=joints.copy(), box=np.asarray(box, np.float32),
                      name=self.ids[frame], valid=bool(self.valid[frame]))

    def __getstate__(self):
        state = dict(self.__dict__)
        state['_h5'], state['_pid'] = None, None
        return state


__all__ = ['ITOPBodies']
