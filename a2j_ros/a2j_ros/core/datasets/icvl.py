"""ICVL Hand Posture Dataset reader (Tang et al., CVPR 2014), in its released format.

Layout of the download (the dataset page, labs.imperial.ac.uk/ (Tang's ICVL hand posture
dataset) and the loaders of DeepPrior and V2V-PoseNet)::

    <root>/Training/labels.txt        <root>/Training/Depth/<image path>
    <root>/Testing/test_seq_1.txt     <root>/Testing/Depth/<image path>
    <root>/Testing/test_seq_2.txt

Each label line is an image path relative to ``Depth/`` then 16 joints x (u, v, d): pixels of
the 320x240 image and depth in mm, in the icvl_hand_16 order (palm, then thumb, index,
middle, ring, pinky root/mid/tip). Images are 16-bit one-channel PNGs of depth in mm. The
test set of A2J (1596 frames) is test_seq_1 followed by test_seq_2.

Crop centres: A2J's ``icvl_center_<split>.mat`` (key ``centre_pixel``) in <root>, or given as
``centres``; without one the centre is the mean of the ground-truth joints (an oracle).
"""
import os

import numpy as np

from a2j_ros.core.datasets.base import (
    find_first,
    PoseDataset,
    read_centres_mat,
    read_depth_png16,
    Sample,
    select_split,
)
from a2j_ros.core.datasets.text_labels import read_labelled_lines

ICVL_SIZE = (240, 320)
LABEL_FILES = {'train': ('Training', ('labels.txt',)),
               'test': ('Testing', ('test_seq_1.txt', 'test_seq_2.txt'))}


class ICVLHands(PoseDataset):
    """ICVL hand frames with their 16 joints."""

    layout = 'icvl_hand_16'
    mode = 'hand'

    def __init__(self, root, split='test', centres=None):
        from a2j_ros.core.presets import get_preset
        select_split(split, tuple(LABEL_FILES))
        self.root, self.split = str(root), split
        self.camera = get_preset('icvl').camera
        folder, files = LABEL_FILES[split]
        self.image_dir = os.path.join(self.root, folder, 'Depth')
        names, values = [], []
        for name in files:
            n, v = read_labelled_lines(os.path.join(self.root, folder, name), 16 * 3,
                                       'ICVL labels')
            names += n
            values.append(v)
        self.names = names
        self.joints = np.concatenate(values).reshape(-1, 16, 3)
        centre_path = centres or find_first([os.path.join(self.root,
                                                          f'icvl_center_{split}.mat')])
        self.centre_file = centre_path
        self.centres = (read_centres_mat(centre_path, len(self.joints)) if centre_path
                        else self.joints.mean(axis=1))

    def __len__(self):
        return len(self.names)

    def load(self, index):
        """Read frame ``index``."""
        path = os.path.join(self.image_dir, self.names[index])
        depth = read_depth_png16(path, ICVL_SIZE)
        return Sample(depth=depth, joints_uvd=self.joints[index].copy(),
                      centre_uvd=self.centres[index].copy(), name=self.names[index])


__all__ = ['ICVLHands']
