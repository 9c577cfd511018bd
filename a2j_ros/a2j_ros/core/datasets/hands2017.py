"""HANDS 2017 challenge (BigHand2.2M subset) reader, in its released format.

Layout of the download (the challenge's README, Yuan et al. CVPR 2017 and the loaders of
V2V-PoseNet and A2J's src/hands2017.py)::

    <root>/training/Training_Annotation.txt
    <root>/training/images/image_D00000001.png ...

Each annotation line is an image name then 21 joints x (x, y, z) in mm in the camera frame
(x right, y down, z forward), in the hands2017_hand_21 order (wrist, five MCPs, then PIP,
DIP, TIP per finger). Images are 640x480 16-bit PNGs of depth in mm (Intel SR300); joints are
projected to (u, v, d) with the preset's calibration (core.presets 'hands2017').

The challenge's test annotations were not released; split 'test' reads
``<root>/test/Test_Annotation.txt`` + ``<root>/test/images/`` if you have them (same format).
Crop centres: optional text file ``centres`` with one ``x y z`` (mm) per frame (V2V-PoseNet's
refined centres); otherwise the mean of the ground-truth joints (an oracle).
"""
import os

import numpy as np

from a2j_ros.core.datasets.base import PoseDataset, read_depth_png16, Sample, select_split
from a2j_ros.core.datasets.text_labels import read_labelled_lines
from a2j_ros.core.errors import DatasetError

HANDS2017_SIZE = (480, 640)
SPLITS = {'train': ('training', 'Training_Annotation.txt'),
          'test': ('test', 'Test_Annotation.txt')}


def read_centre_text(path, count):
    """Read one ``x y z`` (mm) centre per line; return (N, 3) float32."""
    try:
        centres = np.loadtxt(path, dtype=np.float32, ndmin=2)
    except (OSError, ValueError) as exc:
        raise DatasetError(f'{path}: not a centre file with x y z per line ({exc})') from None
    if centres.shape != (count, 3):
        raise DatasetError(f'{path}: expected {count} lines of x y z, got {centres.shape}')
    return centres


class Hands2017(PoseDataset):
    """HANDS 2017 frames with their 21 joints."""

    layout = 'hands2017_hand_21'
    mode = 'hand'

    def __init__(self, root, split='train', centres=None):
        from a2j_ros.core.presets import get_preset
        select_split(split, tuple(SPLITS))
        self.root, self.split = str(root), split
        self.camera = get_preset('hands2017').camera
        folder, labels = SPLITS[split]
        self.image_dir = os.path.join(self.root, folder, 'images')
        self.names, xyz = read_labelled_lines(os.path.join(self.root, folder, labels), 21 * 3,
                                              'HANDS 2017 annotations')
        xyz = xyz.reshape(-1, 21, 3)
        self.joints = self.camera.project(xyz).astype(np.float32)
        centre_xyz = read_centre_text(centres, len(xyz)) if centres else xyz.mean(axis=1)
        self.centre_file = centres
        self.centres = self.camera.project(centre_xyz).astype(np.float32)

    def __len__(self):
        return len(self.names)

    def load(self, index):
        """Read frame ``index``."""
        path = os.path.join(self.image_dir, self.names[index])
        depth = read_depth_png16(path, HANDS2017_SIZE)
        return Sample(depth=depth, joints_uvd=self.joints[index].copy(),
                      centre_uvd=self.centres[index].copy(), name=self.names[index])


__all__ = ['Hands2017', 'read_centre_text']
