"""Turn a dataset (synthetic or real, original format) into a rosbag2 for replay.

Every frame becomes: the depth image (16UC1 mm or 32FC1 m), its camera_info, the ROIs of a
perfect detector (the box around each ground-truth skeleton, grown by a margin) and the ground
truth as a SkeletonArray in metres, all stamped ``START_NS + i / rate``.
"""
import itertools
import math

from a2j_ros.bag.sources import open_sequence_source, open_source
from a2j_ros.bag.topics import FRAME_ID
from a2j_ros.core.errors import InputError

DATASETS = ('synthetic_hand', 'synthetic_body', 'nyu', 'icvl', 'hands2017', 'itop_side',
            'itop_top')
START_NS = 1_735_689_600 * 10**9    # 2025-01-01T00:00:00Z: fixed, so bags are reproducible
MAX_STAMP_NS = (2**31 - 1) * 10**9  # builtin_interfaces/Time.sec is an int32


def check_rate(rate_hz, frames):
    """Return the stamp period (ns) for ``rate_hz``; raise InputError if stamps cannot work."""
    if not (math.isfinite(rate_hz) and rate_hz > 0):
        raise InputError(f'--rate must be a finite number of Hz > 0, got {rate_hz}')
    period_ns = int(round(1e9 / rate_hz))
    if period_ns < 1:
        raise InputError(f'--rate {rate_hz:g} Hz is above 1 GHz: stamps 1 ns apart cannot be '
                         'told apart')
    if START_NS + (max(int(frames), 1) - 1) * period_ns > MAX_STAMP_NS:
        raise InputError(f'--rate {rate_hz:g} Hz is too low for {frames} frames: the stamps '
                         'would pass 2038, beyond builtin_interfaces/Time (int32 seconds)')
    return period_ns


def check_topics(topics):
    """Raise InputError for an invalid topic name or one topic used twice."""
    from a2j_ros.bag.topic_detect import check_topic_name
    named = [(option, getattr(topics, field)) for option, field in (
        ('--depth-topic', 'depth'), ('--info-topic', 'camera_info'), ('--roi-topic', 'roi'),
        ('--gt-topic', 'ground_truth')) if getattr(topics, field)]
    if not topics.depth or not topics.camera_info:
        raise InputError('--depth-topic and --info-topic cannot be empty')
    for option, name in named:
        check_topic_name(name, option)
    seen = {}
    for option, name in named:
        if name in seen:
            raise InputError(f'{option} and {seen[name]} are both {name}: each message type '
                             'needs its own topic')
        seen[name] = option


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
    check_rate(rate_hz, frames or 1)
    if topics is not None:
        check_topics(topics)
    if sequence is not None:
        source = open_sequence_source(dataset, sequence, seed=seed, rate_hz=rate_hz,
                                      sensor=sensor)
        frames = len(source) if frames is None else frames
    else:
        source = open_source(dataset, root=root, split=split, seed=seed)
        frames = 100 if frames is None else frames
    count = min(frames, len(source)) if hasattr(source, '__len__') else frames
    period_ns = check_rate(rate_hz, count)
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


__all__ = ['DATASETS', 'START_NS', 'check_rate', 'check_topics', 'make_bag']
