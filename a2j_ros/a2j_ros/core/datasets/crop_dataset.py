"""Turn a ``PoseDataset`` of full frames into network crops and targets for training.

Item ``i``: the frame is cropped with core.cropping (hand cube around its centre, or body
box), its joints mapped into crop coordinates (u, v, T^d), then augmented (training only).
Random draws come from ``numpy.random.default_rng([seed, epoch, i])``: a run is repeatable,
any worker can make any item, and each epoch draws new augmentations (``set_epoch``).
"""
import numpy as np
import torch

from a2j_ros.core.cropping import crop_body, crop_hand
from a2j_ros.core.errors import DatasetError, InputError


class CropDataset(torch.utils.data.Dataset):
    """Crops, targets and ground truth of a ``PoseDataset`` (a torch Dataset).

    Items are dicts: ``image`` (1, S, S) float32, ``target`` (K, 3) float32 crop (u, v, T^d)
    (T^d = 0 for 2D layouts), ``params`` (7,) float64 crop transform row, ``joints_uvd``
    (K, 3) float32 full-image ground truth, ``index``.
    """

    def __init__(self, dataset, crop_config, augmenter=None, seed=0):
        if crop_config.mode != dataset.mode:
            raise InputError(f'crop mode {crop_config.mode!r} does not fit the '
                             f'{dataset.mode} dataset {type(dataset).__name__}')
        self.dataset, self.crop, self.augmenter = dataset, crop_config, augmenter
        self.seed, self.epoch = int(seed), 0

    def __len__(self):
        return len(self.dataset)

    def set_epoch(self, epoch):
        """Use the augmentation draws (and fresh synthetic frames, if any) of ``epoch``."""
        self.epoch = int(epoch)
        if hasattr(self.dataset, 'set_epoch'):
            self.dataset.set_epoch(epoch)

    def __getitem__(self, index):
        sample = self.dataset[index]
        try:
            if self.crop.mode == 'hand':
                crop, transform = crop_hand(sample.depth, sample.centre_uvd, self.dataset.camera,
                                            self.crop)
            else:
                crop, transform = crop_body(sample.depth, sample.box, self.crop,
                                            getattr(self.dataset, 'input_scale', 1e-3))
        except InputError as exc:
            raise DatasetError(f'{type(self.dataset).__name__} frame {index} '
                               f'({sample.name}): {exc}') from None
        joints = np.asarray(sample.joints_uvd, dtype=np.float64)
        target = transform.to_crop(joints)[0]
        target[:, 2] = np.nan_to_num(target[:, 2], nan=0.0)         # 2D layouts: no depth
        if self.augmenter is not None:
            rng = np.random.default_rng([self.seed, self.epoch, int(index)])
            crop, target = self.augmenter(crop, target, rng)
        return {'image': torch.from_numpy(np.ascontiguousarray(crop, np.float32))[None],
                'target': torch.from_numpy(target.astype(np.float32)),
                'params': torch.from_numpy(transform.params[0].copy()),
                'joints_uvd': torch.from_numpy(joints.astype(np.float32)),
                'index': int(index)}


__all__ = ['CropDataset']
