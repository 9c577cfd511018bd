"""NYU Hand Pose Dataset reader (Tompson et al., SIGGRAPH 2014), in its released format.

Layout of the download (the dataset's README, cims.nyu.edu/~tompson/NYU_Hand_Pose_Dataset.htm)::

    <root>/train/joint_data.mat            <root>/test/joint_data.mat
    <root>/train/depth_1_0000001.png ...   <root>/test/depth_1_0000001.png ...

``joint_data.mat`` holds ``joint_uvd`` and ``joint_xyz``, (kinects, frames, 36, 3): u, v in
pixels of the 640x480 image and depth in mm (uvd), or x, y, z mm. Depth PNGs are 8-bit RGB
with the depth in mm split over two channels: depth = (G << 8) | B (the README and its
MATLAB loader). File names are ``depth_<kinect>_<frame:07d>.png`` with 1-based numbers.
Evaluation (DeepPrior, V2V-PoseNet, A2J) uses kinect 1 and the 14 joints at indices
0, 3, 6, 9, 12, 15, 18, 21, 24, 25, 27, 30, 31, 32 (core.layouts.NYU_HAND_14).

Crop centres: A2J's ``nyu_center_<split>.mat`` (key ``centre_pixel``, (N, 1, 3) u, v, d)
from V2V-PoseNet, looked for in <root>, <root>/<split> or given as ``centres``; without one
the centre is the mean of the 14 ground-truth joints (an oracle: say so when you report).
"""
import os

import numpy as np

from a2j_ros.core.datasets.base import (
    check_array,
    find_first,
    load_mat,
    PoseDataset,
    read_centres_mat,
    read_png,
    Sample,
    select_split,
)
from a2j_ros.core.errors import DatasetError

NYU_EVAL_JOINTS = (0, 3, 6, 9, 12, 15, 18, 21, 24, 25, 27, 30, 31, 32)
NYU_SIZE = (480, 640)


def decode_nyu_depth(rgb, path='depth PNG'):
    """Return depth mm (H, W) float32 from an NYU RGB PNG array: (G << 8) | B."""
    if rgb.ndim != 3 or rgb.shape[2] < 3 or rgb.dtype != np.uint8:
        raise DatasetError(f'{path}: NYU depth PNGs are 8-bit RGB (depth = G << 8 | B), got '
                           f'shape {rgb.shape} dtype {rgb.dtype}')
    return ((rgb[:, :, 1].astype(np.uint16) << 8) | rgb[:, :, 2]).astype(np.float32)


def encode_nyu_depth(depth_mm):
    """Return the 8-bit RGB image NYU stores for a depth map in mm (for fixtures and tools)."""
    depth = np.clip(np.rint(depth_mm), 0, 65535).astype(np.uint16)
    rgb = np.zeros(depth.shape + (3,), dtype=np.uint8)
    rgb[:, :, 1] = depth >> 8
    rgb[:, :, 2] = depth & 0xFF
    return rgb


class NYUHands(PoseDataset):
    """NYU hand frames of one kinect (default 1) with the 14 evaluation joints."""

    layout = 'nyu_hand_14'
    mode = 'hand'

    def __init__(self, root, split='test', centres=None, kinect=1):
        from a2j_ros.core.presets import get_preset
        select_split(split, ('train', 'test'))
        self.root, self.split, self.kinect = str(root), split, int(kinect)
        self.camera = get_preset('nyu').camera
        self.folder = os.path.join(self.root, split)
        mat_path = os.path.join(self.folder, 'joint_data.mat')
        data = load_mat(mat_path, 'NYU joint annotations', ['joint_uvd'])
        uvd = np.asarray(data['joint_uvd'], dtype=np.float32)
        if uvd.ndim == 3:                      # a single kinect saved without its axis
            uvd = uvd[None]
        check_array(uvd, (None, None, 36, 3), mat_path, 'joint_uvd')
        if not 1 <= self.kinect <= uvd.shape[0]:
            raise DatasetError(f'{mat_path}: has {uvd.shape[0]} kinects, asked for kinect '
                               f'{self.kinect}')
        self.joints = uvd[self.kinect - 1][:, NYU_EVAL_JOINTS]
        centre_path = centres or find_first([os.path.join(self.root, f'nyu_center_{split}.mat'),
                                             os.path.join(self.folder,
                                                          f'nyu_center_{split}.mat')])
        self.centre_file = centre_path
        self.centres = (read_centres_mat(centre_path, len(self.joints)) if centre_path
                        else self.joints.mean(axis=1))

    def __len__(self):
        return len(self.joints)

    def image_path(self, index):
        """Return the depth PNG of frame ``index`` (0-based)."""
        return os.path.join(self.folder, f'depth_{self.kinect}_{index + 1:07d}.png')

    def load(self, index):
        """Read frame ``index``."""
        path = self.image_path(index)
        depth = decode_nyu_depth(read_png(path), path)
        if depth.shape != NYU_SIZE:
            raise DatasetError(f'{path}: expected 640x480, got {depth.shape[1]}x{depth.shape[0]}')
        return Sample(depth=depth, joints_uvd=self.joints[index].copy(),
                      centre_uvd=self.centres[index].copy(), name=os.path.basename(path))


__all__ = ['NYUHands', 'NYU_EVAL_JOINTS', 'decode_nyu_depth', 'encode_nyu_depth']
