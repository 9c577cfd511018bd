"""Frames for ``make-bag`` from core.datasets readers (synthetic or original file formats)."""
from dataclasses import dataclass

import numpy as np

from a2j_ros.bag.frames import GroundTruth
from a2j_ros.core.errors import InputError

SYNTHETIC_FRAMES = 100_000      # length of the synthetic streams (frames are made on demand)
# ROI = joint box grown by this fraction of its larger side on every side, plus a few pixels
# (fingertips are joints, but the palm and finger flesh reach beyond them).
ROI_MARGIN = {'hand': 0.25, 'body': 0.15}
ROI_MIN_PAD_PX = 4


@dataclass
class SourceFrame:
    """One frame of a dataset, ready to be written."""

    depth_mm: np.ndarray                # (H, W) float32, 0 = invalid
    camera: object                      # core.camera.PinholeCamera
    ground_truth: GroundTruth
    rois: np.ndarray                    # (M, 4) x, y, width, height


def roi_around_joints(uvd, width, height, kind='hand'):
    """Return the (x, y, width, height) box around joints (K, 3), grown and clipped."""
    uv = np.asarray(uvd, dtype=np.float64)[:, :2]
    uv = uv[np.isfinite(uv).all(axis=1)]
    if len(uv) == 0:
        raise InputError('cannot place an ROI: no finite joint position')
    lo, hi = uv.min(axis=0), uv.max(axis=0)
    pad = ROI_MARGIN[kind] * float((hi - lo).max()) + ROI_MIN_PAD_PX
    x0, y0 = np.floor(lo - pad).astype(int)
    x1, y1 = np.ceil(hi + pad).astype(int)
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, width - 1), min(y1, height - 1)
    if x1 < x0 or y1 < y0:
        raise InputError(f'the joints lie outside the {width}x{height} image')
    return int(x0), int(y0), int(x1 - x0 + 1), int(y1 - y0 + 1)


class DatasetSource:
    """Iterate SourceFrames of a ``core.datasets`` reader, skipping frames flagged invalid."""

    def __init__(self, dataset):
        self.dataset = dataset
        if dataset.camera is None:
            raise InputError(f'{type(dataset).__name__} has no camera intrinsics; a depth bag '
                             'needs them (2-D datasets cannot be replayed in 3-D)')

    def __len__(self):
        return len(self.dataset)

    def __iter__(self):
        for sample in self.dataset:
            if sample.valid:
                yield self.to_frame(sample)

    def to_frame(self, sample):
        """Return the SourceFrame of one ``core.datasets.Sample``."""
        camera = self.dataset.camera
        uvd = np.asarray(sample.joints_uvd, dtype=np.float64)
        if self.dataset.mode == 'body' and sample.box is not None:
            # The dataset's own person box (u_min, v_min, u_max, v_max), as a detector gives.
            u0, v0, u1, v1 = np.asarray(sample.box, dtype=np.float64)
            x0, y0 = int(np.floor(max(u0, 0))), int(np.floor(max(v0, 0)))
            x1 = int(np.ceil(min(u1, camera.width - 1)))
            y1 = int(np.ceil(min(v1, camera.height - 1)))
            box = (x0, y0, x1 - x0 + 1, y1 - y0 + 1)
        else:
            box = roi_around_joints(uvd, camera.width, camera.height, self.dataset.mode)
        truth = GroundTruth(self.dataset.layout, camera.unproject(uvd)[None], uvd[None])
        return SourceFrame(depth_mm=np.asarray(sample.depth, dtype=np.float32), camera=camera,
                           ground_truth=truth, rois=np.asarray([box], dtype=np.int64))


class SequenceSource:
    """Iterate SourceFrames of a moving synthetic sequence (core.synthetic.sequences).

    Each frame's ground truth holds the instances seen in it (``TrackTruth.visible``) with
    their sequence-wide track ids; the ROIs are the boxes around those instances' joints.
    """

    def __init__(self, sequence):
        self.sequence = sequence

    def __len__(self):
        return len(self.sequence)

    def __iter__(self):
        from a2j_ros.core.layouts import get_layout
        seq = self.sequence
        cam = seq.camera
        joints = get_layout(seq.layout).num_joints
        for frame in seq:
            seen = frame.visible_tracks()
            boxes = [roi_around_joints(t.uvd, cam.width, cam.height, seq.mode) for t in seen]
            count = len(seen)
            truth = GroundTruth(
                seq.layout,
                np.array([t.xyz_mm for t in seen], dtype=np.float64).reshape(count, joints, 3),
                np.array([t.uvd for t in seen], dtype=np.float64).reshape(count, joints, 3),
                track_ids=np.array([t.track_id for t in seen], dtype=np.int64))
            yield SourceFrame(depth_mm=frame.depth_mm, camera=cam, ground_truth=truth,
                              rois=np.asarray(boxes, dtype=np.int64).reshape(-1, 4))


def open_sequence_source(dataset, kind, seed=0, rate_hz=30.0, sensor=True):
    """Return a SequenceSource of sequence ``kind`` (its subject must match ``dataset``)."""
    from a2j_ros.core.synthetic.sequences import open_sequence, SEQUENCES
    if kind not in SEQUENCES:
        raise InputError(f'unknown sequence {kind!r}; use one of {list(SEQUENCES)}')
    sequence = open_sequence(kind, seed=seed, rate_hz=rate_hz, sensor=sensor)
    if sequence.dataset != dataset:
        raise InputError(f'sequence {kind} shows {sequence.mode}s: use --dataset '
                         f'{sequence.dataset}, not {dataset}')
    return SequenceSource(sequence)


def open_source(name, root=None, split='test', seed=0):
    """Return a DatasetSource for dataset ``name`` (a core.presets name).

    Synthetic sets use their held-out stream ('test' = 'val'), so a bag never holds frames
    the demo model was trained on.
    """
    from a2j_ros.core.datasets import open_dataset
    if name.startswith('synthetic_'):
        return DatasetSource(open_dataset(name, split=split, num_frames=SYNTHETIC_FRAMES,
                                          seed=seed))
    return DatasetSource(open_dataset(name, root=root, split=split))


__all__ = ['DatasetSource', 'ROI_MARGIN', 'SequenceSource', 'SourceFrame', 'open_sequence_source',
           'open_source', 'roi_around_joints']
