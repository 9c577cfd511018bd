"""K2HPD reader: 19 body joints annotated in 2D only.

K2HPD: Wang et al., "Human Pose Estimation from Depth Images via Inference Embedded Multi-task
Learning", ACM MM 2016.

Files (the dataset page, www.sysu-hcp.net/kinect2-human-pose-dataset-k2hpd, and A2J's
data/k2hpd/data_preprosess.py, which reads them)::

    <root>/<split>_annos.txt              an image name, then 19 x (u, v) pixels per line
    <root>/depth_data/depth_images/<name> 256x212 PNGs, depth in the first channel

The annotation separator (space or comma) is accepted either way. Like A2J, each image's
first channel is min-max normalised to 0..255 (``input_scale`` 1: the crop takes these
values); joints have NaN depth. Boxes: A2J's ``k2hpd_bndbox_<split>.mat`` (``FRbndbox_*``) in
<root> or given as ``boxes``; otherwise the joints' extent padded by 10 %.
"""
import os

import numpy as np

from a2j_ros.core.datasets.base import (
    find_first,
    joint_box,
    PoseDataset,
    read_boxes_mat,
    read_png,
    Sample,
    select_split,
)
from a2j_ros.core.datasets.text_labels import read_labelled_lines
from a2j_ros.core.errors import DatasetError


def normalise_k2hpd_image(image, path='image'):
    """Return the first channel min-max normalised to 0..255 as float32 (A2J's rule)."""
    if image.ndim == 3:
        image = image[:, :, 0]
    if image.ndim != 2:
        raise DatasetError(f'{path}: expected a depth image, got shape {image.shape}')
    image = image.astype(np.float32)
    lo, hi = float(image.min()), float(image.max())
    if hi <= lo:
        return np.zeros_like(image)
    return np.floor((image - lo) / (hi - lo) * 255.0)


class K2HPDBodies(PoseDataset):
    """K2HPD frames with 19 joints in 2D."""

    layout = 'k2hpd_body_19'
    mode = 'body'
    input_scale = 1.0
    camera = None

    def __init__(self, root, split='test', boxes=None):
        select_split(split, ('train', 'test'))
        self.root, self.split = str(root), split
        labels = find_first([os.path.join(self.root, f'{split}_annos.txt'),
                             os.path.join(self.root, 'depth_data', f'{split}_annos.txt')])
        if labels is None:
            raise DatasetError(f'{os.path.join(self.root, f"{split}_annos.txt")}: missing '
                               f'(K2HPD annotations)')
        self.names, uv = read_labelled_lines(labels, 19 * 2, 'K2HPD annotations')
        uv = uv.reshape(-1, 19, 2)
        self.joints = np.concatenate([uv, np.full(uv.shape[:2] + (1,), np.nan, np.float32)],
                                     axis=2)
        self.image_dir = os.path.join(self.root, 'depth_data', 'depth_images')
        box_path = boxes or find_first([os.path.join(self.root, f'k2hpd_bndbox_{split}.mat')])
        self.box_file = box_path
        self.boxes = read_boxes_mat(box_path, len(self.names)) if box_path else None

    def __len__(self):
        return len(self.names)

    def load(self, index):
        """Read frame ``index``."""
        path = os.path.join(self.image_dir, self.names[index])
        image = normalise_k2hpd_image(read_png(path, 'K2HPD depth image'), path)
        joints = self.joints[index]
        box = (self.boxes[index] if self.boxes is not None
               else joint_box(joints[:, :2], None, 0.0, image.shape[1], image.shape[0]))
        return Sample(depth=image, joints_uvd=joints.copy(), box=np.asarray(box, np.float32),
                      name=self.names[index])


__all__ = ['K2HPDBodies', 'normalise_k2hpd_image']
