"""Dataset readers: each public dataset in its original on-disk format, plus synthetic data.

``open_dataset(name, root, split, **options)`` returns a ``PoseDataset`` (a sequence of
``Sample``: depth mm, joints uvd, crop centre or box) for a preset name of core.presets.
"""
from a2j_ros.core.datasets.base import PoseDataset, Sample
from a2j_ros.core.errors import DatasetError

DATASETS = ('nyu', 'icvl', 'hands2017', 'itop_side', 'itop_top', 'k2hpd', 'synthetic_hand',
            'synthetic_body')


def open_dataset(name, root=None, split='test', **options):
    """Return the reader of dataset ``name`` for ``split`` ('train', 'test'; synthetic: 'val').

    ``root`` is the dataset folder (not needed for the synthetic sets). ``options`` go to the
    reader: ``centres`` (hands) or ``boxes`` (bodies) to use another ROI file; synthetic sets
    take ``num_frames`` and ``seed``.
    """
    if name not in DATASETS:
        raise DatasetError(f'unknown dataset {name!r}; known: {", ".join(DATASETS)}')
    if name.startswith('synthetic_'):
        from a2j_ros.core.synthetic import SyntheticBodies, SyntheticHands
        cls = SyntheticHands if name == 'synthetic_hand' else SyntheticBodies
        return cls(split=split, **options)
    if not root:
        raise DatasetError(f'dataset {name} needs a root folder (--root DATA)')
    if name == 'nyu':
        from a2j_ros.core.datasets.nyu import NYUHands
        return NYUHands(root, split, **options)
    if name == 'icvl':
        from a2j_ros.core.datasets.icvl import ICVLHands
        return ICVLHands(root, split, **options)
    if name == 'hands2017':
        from a2j_ros.core.datasets.hands2017 import Hands2017
        return Hands2017(root, split, **options)
    if name in ('itop_side', 'itop_top'):
        from a2j_ros.core.datasets.itop import ITOPBodies
        return ITOPBodies(root, split, view=name.split('_')[1], **options)
    from a2j_ros.core.datasets.k2hpd import K2HPDBodies
    return K2HPDBodies(root, split, **options)


__all__ = ['DATASETS', 'PoseDataset', 'Sample', 'open_dataset']
