"""CropDataset: crops and targets of a PoseDataset for training; open_dataset."""
from dataclasses import replace

import numpy as np
import pytest

from a2j_ros.core.augment import AugmentConfig, Augmenter
from a2j_ros.core.cropping import crop_to_image
from a2j_ros.core.datasets import open_dataset
from a2j_ros.core.datasets.crop_dataset import CropDataset
from a2j_ros.core.errors import DatasetError, InputError
from a2j_ros.core.presets import get_preset

HAND = replace(get_preset('synthetic_hand').crop, input_size=48)


def test_items_map_back_to_the_ground_truth():
    data = CropDataset(open_dataset('synthetic_hand', split='train', num_frames=3), HAND)
    item = data[2]
    assert item['image'].shape == (1, 48, 48) and item['target'].shape == (14, 3)
    back = crop_to_image(item['target'].double().numpy()[None], item['params'].numpy()[None])[0]
    np.testing.assert_allclose(back, item['joints_uvd'].numpy(), atol=1e-3)


def test_augmentation_is_deterministic_per_epoch():
    hands = open_dataset('synthetic_hand', split='train', num_frames=2)
    data = CropDataset(hands, HAND, Augmenter(AugmentConfig(), HAND), seed=5)
    first = data[1]['target']
    assert np.array_equal(data[1]['target'], first)
    data.set_epoch(1)
    assert not np.array_equal(data[1]['target'], first)
    data.set_epoch(0)
    assert np.array_equal(data[1]['target'], first)


def test_mode_mismatch_and_unknown_dataset():
    bodies = open_dataset('synthetic_body', split='val', num_frames=1)
    with pytest.raises(InputError, match='crop mode'):
        CropDataset(bodies, HAND)
    body_crop = replace(get_preset('synthetic_body').crop, input_size=48)
    item = CropDataset(bodies, body_crop)[0]
    assert item['target'][:, 2].min() > 50 * 1.5                # T^d = 50 * Z (m), Z > 1.5 m
    with pytest.raises(DatasetError, match='unknown dataset'):
        open_dataset('mpii')
    with pytest.raises(DatasetError, match='needs a root'):
        open_dataset('nyu')
