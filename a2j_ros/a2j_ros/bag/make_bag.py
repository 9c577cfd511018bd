"""Turn a dataset (synthetic or real, original format) into a rosbag2 for replay.

Every frame becomes: the depth image (16UC1 mm or 32FC1 m), its camera_info, the ROIs of a
perfect detector (the box around each ground-truth skeleton, grown by a margin) and the ground
truth as a SkeletonArray in metres, all stamped ``START_NS + i / rate``.
"""
from dataclasses import dataclass
import itertools

import numpy as np

from a2j_ros.bag.frames import GroundTruth
from a2j_ros.bag.topics import FRAME_ID
from a2j_ros.core.errors import InputError

DATASETS = ('synthetic_hand', 'synthetic_body', 'nyu', 'icvl', 'hands2017', 'itop_side',
            'itop_top')
START_NS = 1_735_689_600 * 10**9    # 2025-01-01T00:00:00Z: fixed, so bags are reproducible
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


def _source_frame(depth_mm, camera, layout, kind, uvd, xyz=None):
    """Build a SourceFrame of one instance from its joints (uvd mm; xyz from uvd if None)."""
    uvd = np.asarray(uvd, dtype=np.float64).reshape(-1, 3)
    xyz = camera.unproject(uvd) if xyz is None else np.asarray(xyz, dtype=np.float64)
    box = roi_around_joints(uvd, camera.width, camera.height, kind)
    return SourceFrame(depth_mm=np.asarray(depth_mm, dtype=np.float32), camera=camera,
                       ground_truth=GroundTruth(layout, xyz.reshape(1, -1, 3), uvd[None]),
                       rois=np.asarray([box], dtype=np.int64))


def make_bag(dataset, out, root=None, split='test', storage=None, encoding='16UC1', frames=100,
             rate_hz=30.0, pad_bytes=0, big_endian=False, seed=0, topics=None,
             frame_id=FRAME_ID, overwrite=False, compress=True, progress=True):
    """Write ``frames`` frames of ``dataset`` into the bag ``out``; return a summary dict.

    The summary has ``path``, ``storage``, ``frames``, ``duration_s``, ``bytes`` (on disk)
    and ``bytes_per_frame``.
    """
    from tqdm import tqdm

    from a2j_ros.bag.sources import open_source
    from a2j_ros.bag.writer import BagWriter

    if dataset not in DATASETS:
        raise InputError(f'unknown dataset {dataset!r}; use one of {list(DATASETS)}')
    if frames <= 0:
        raise InputError(f'--frames must be > 0, got {frames}')
    if rate_hz <= 0:
        raise InputError(f'--rate must be > 0, got {rate_hz}')
    source = open_source(dataset, root=root, split=split, seed=seed)
    count = min(frames, len(source)) if hasattr(source, '__len__') else frames
    period_ns = int(round(1e9 / rate_hz))
    written = 0
    with BagWriter(out, storage=storage, topics=topics, frame_id=frame_id,
                   overwrite=overwrite, compress=compress) as writer:
        bar = tqdm(total=count, desc=f'make-bag {dataset}', unit='frame', disable=not progress)
        for frame in itertools.islice(iter(source), count):
            writer.write_frame(START_NS + written * period_ns, frame.depth_mm, frame.camera,
                               rois=frame.rois, ground_truth=frame.ground_truth,
                               encoding=encoding, pad_bytes=pad_bytes, big_endian=big_endian)
            written += 1
            bar.update(1)
        bar.close()
    size = _size_on_disk(writer.path)
    return {'path': str(writer.path), 'storage': writer.storage, 'frames': written,
            'duration_s': written / rate_hz, 'bytes': size,
            'bytes_per_frame': size / max(written, 1)}


def _size_on_disk(path):
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob('*') if f.is_file())


__all__ = ['DATASETS', 'ROI_MARGIN', 'START_NS', 'SourceFrame', 'make_bag',
           'roi_around_joints']
