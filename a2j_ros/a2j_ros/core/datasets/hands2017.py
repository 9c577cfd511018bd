"""HANDS 2017 challenge (BigHand2.2M subset) reader, in its released format.

Layout of the download (the challenge's README, Yuan et al. CVPR 2017 and the loaders of
V2V-PoseNet and A2J's src/hands2017.py)::

    <root>/training/Training_Annotation.txt
    <root>/training/images/image_D00000001.png ...
    <root>/frame/BoundingBox.txt        the 295510 test frames: image name, then x y w h
    <root>/frame/images/image_D00000001.png ...

Each annotation line is an image name then 21 joints x (x, y, z) in mm in the camera frame
(x right, y down, z forward), in the hands2017_hand_21 order (wrist, five MCPs, then PIP,
DIP, TIP per finger). Images are 640x480 16-bit PNGs of depth in mm (Intel SR300); joints are
projected to (u, v, d) with the preset's calibration (core.presets 'hands2017').

Split 'test' is the released test set: the frames ``frame/BoundingBox.txt`` lists (a hand
box per frame) in ``frame/images/``. Its joints are scored by the challenge's server; with
``labels`` (a file in the training annotation format, e.g. your own annotations) they are
read and paired with the frames by image name, otherwise a test sample's joints are NaN.
Crop centres: optional text file ``centres`` with one ``x y z`` (mm) per frame (V2V-PoseNet's
refined centres); otherwise, for training, the mean of the ground-truth joints (an oracle),
and for the test frames the centre of the listed box at the depth ``core.roi.hand_centre``
finds in it.
"""
import os

import numpy as np

from a2j_ros.core.datasets.base import PoseDataset, read_depth_png16, Sample, select_split
from a2j_ros.core.datasets.text_labels import read_labelled_lines
from a2j_ros.core.errors import DatasetError
from a2j_ros.core.roi import hand_centre

HANDS2017_SIZE = (480, 640)
SPLITS = {'train': ('training', 'Training_Annotation.txt'),
          'test': ('frame', 'BoundingBox.txt')}


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

    def __init__(self, root, split='train', centres=None, labels=None):
        from a2j_ros.core.presets import get_preset
        select_split(split, tuple(SPLITS))
        self.root, self.split = str(root), split
        self.camera = get_preset('hands2017').camera
        folder, listing = SPLITS[split]
        self.image_dir = os.path.join(self.root, folder, 'images')
        self.boxes = None
        if split == 'train':
            self.names, xyz = read_labelled_lines(os.path.join(self.root, folder, listing),
                                                  21 * 3, 'HANDS 2017 annotations')
            xyz = xyz.reshape(-1, 21, 3)
        else:
            self.names, self.boxes = read_labelled_lines(
                os.path.join(self.root, folder, listing), 4, 'HANDS 2017 test frame list '
                '(image name, x y w h)')
            xyz = (_labels_by_name(labels, self.names) if labels
                   else np.full((len(self.names), 21, 3), np.nan, np.float32))
        self.joints = self.camera.project(xyz).astype(np.float32)
        self.centre_file = centres
        self.centres = None
        if centres:
            self.centres = self.camera.project(read_centre_text(centres, len(xyz)))
        elif split == 'train':
            self.centres = self.camera.project(xyz.mean(axis=1))

    def __len__(self):
        return len(self.names)

    def load(self, index):
        """Read frame ``index``."""
        path = os.path.join(self.image_dir, self.names[index])
        depth = read_depth_png16(path, HANDS2017_SIZE)
        if self.centres is not None:
            centre = self.centres[index].astype(np.float32)
        else:
            centre = hand_centre(depth, self.boxes[index])
            if centre is None:
                raise DatasetError(f'{path}: no valid depth inside its box '
                                   f'{self.boxes[index].tolist()} (frame/BoundingBox.txt)')
            centre = centre.astype(np.float32)
        return Sample(depth=depth, joints_uvd=self.joints[index].copy(), centre_uvd=centre,
                      name=self.names[index])


def _labels_by_name(path, names):
    """Return (N, 21, 3) joints mm of ``names`` from an annotation file, paired by image name."""
    label_names, xyz = read_labelled_lines(path, 21 * 3, 'HANDS 2017 annotations')
    rows = dict(zip(label_names, xyz.reshape(-1, 21, 3)))
    missing = [n for n in names if n not in rows]
    if missing:
        raise DatasetError(f'{path}: no joints for {len(missing)} listed frames, e.g. '
                           f'{missing[0]}')
    return np.stack([rows[n] for n in names])


__all__ = ['Hands2017', 'read_centre_text']
