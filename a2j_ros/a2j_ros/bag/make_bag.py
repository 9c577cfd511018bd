"""Turn a dataset (synthetic or real, original format) into a rosbag2 for replay.

Every frame becomes: the depth image (16UC1 mm or 32FC1 m), its camera_info, the ROIs of a
perfect detector (the box around each ground-truth skeleton, grown by a margin) and the ground
truth as a SkeletonArray in metres, all stamped ``START_NS + i / rate``.
"""
import itertools

from a2j_ros.bag.sources import open_sequence_source, open_source
from a2j_ros.bag.topics import FRAME_ID
from a2j_ros.core.errors import InputError

DATASETS = ('synthetic_hand', 'synthetic_body', 'nyu', 'icvl', 'hands2017', 'itop_side',
            'itop_top')
START_NS = 1_735_689_600 * 10**9    # 2025-01-01T00:00:00Z: fixed, so bags are reproducible


def make_bag(dataset, out, root=None, split='test', storage=None, encoding='16UC1', frames=None,
             rate_hz=30.0, pad_bytes=0, big_endian=False, seed=0, topics=None,
             frame_id=FRAME_ID, overwrite=False, compress=True, progress=True, sequence=None,
             sensor=True):
    """Write ``frames`` frames of ``dataset`` into the bag ``out``; return a summary dict.

    ``frames`` defaults to 100 (a sequence: all of it). ``sequence`` names a moving synthetic
    sequence (core.synthetic.sequences: ground truth with track ids, sampled at ``rate_hz``);
    ``sensor=False`` renders it without the sensor model. The summary has ``path``,
    ``storage``, ``frames``, ``duration_s``, ``bytes`` (on disk) and ``bytes_per_frame``.
    """
    from tqdm import tqdm

    from a2j_ros.bag.writer import BagWriter

    if dataset not in DATASETS:
        raise InputError(f'unknown dataset {dataset!r}; use one of {list(DATASETS)}')
    if frames is not None and frames <= 0:
        raise InputError(f'--frames must be > 0, got {frames}')
    if rate_hz <= 0:
        raise InputError(f'--rate must be > 0, got {rate_hz}')
    if sequence is not None:
        source = open_sequence_source(dataset, sequence, seed=seed, rate_hz=rate_hz,
                                      sensor=sensor)
        frames = len(source) if frames is None else frames
    else:
        source = open_source(dataset, root=root, split=split, seed=seed)
        frames = 100 if frames is None else frames
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


__all__ = ['DATASETS', 'START_NS', 'make_bag']
