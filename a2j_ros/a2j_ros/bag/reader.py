"""Read depth frames with their camera info, ROIs and ground truth from any rosbag2.

Works on mcap and sqlite3 bags, as directories or single files, from ``a2j make-bag`` or
from a recording (RealSense, Azure Kinect, image_transport compressedDepth...). The depth and
camera_info topics are detected when not named (``bag.topic_detect``).

Pairing, the same in offline and live replay:
- camera_info: the latest one *played before* the depth image (bag order, i.e. log time),
  which is what a node subscribed to both topics holds when the image arrives. A frame with
  none before it, or whose camera_info describes another image size, is skipped.
- ROIs and ground truth: by header stamp (equal, else the nearest within ``slop_ns``); when
  several depth images share a stamp, the k-th of them gets the k-th message of that stamp.

A message that cannot be deserialised (truncated CDR...) is skipped and counted, never the
end of the replay: ``skipped_messages`` lists the non-depth ones, a depth frame comes out
with ``skip_kind``/``skip_reason`` set. A bag whose storage breaks mid-way stops there with
``read_error`` set; the frames read until then are kept.
"""
import bisect
from collections import defaultdict
from pathlib import Path

import numpy as np

from a2j_ros.bag import typestore as ts
from a2j_ros.bag.frames import BagFrame, GroundTruth
from a2j_ros.bag.topic_detect import resolve_topics
from a2j_ros.bag.topics import BagTopics
from a2j_ros.core.camera import PinholeCamera
from a2j_ros.core.depth_codec import decode_depth
from a2j_ros.core.errors import InputError

DEFAULT_SLOP_NS = 5_000_000


def stamp_ns(header):
    """Return a message header's stamp in integer nanoseconds."""
    return int(header.stamp.sec) * 10**9 + int(header.stamp.nanosec)


def camera_from_info(info):
    """Return a PinholeCamera from a deserialised sensor_msgs/CameraInfo (K row-major)."""
    return PinholeCamera.from_camera_info(np.asarray(info.k, dtype=np.float64),
                                          width=int(info.width), height=int(info.height))


def ground_truth_from_msg(msg):
    """Return a GroundTruth (millimetres) from a deserialised a2j_ros_msgs/SkeletonArray."""
    skeletons = list(msg.skeletons)
    if not skeletons:
        return GroundTruth(layout='', xyz_mm=np.zeros((0, 0, 3)), uvd=np.zeros((0, 0, 3)))
    xyz = np.array([[(p.x, p.y, p.z) for p in s.joints] for s in skeletons], dtype=np.float64)
    uvd = np.array([[(p.x, p.y, p.z) for p in s.joints_uvd] for s in skeletons],
                   dtype=np.float64)
    xyz *= 1000.0
    if uvd.size:
        uvd[..., 2] *= 1000.0
    ids = np.array([int(s.id) for s in skeletons], dtype=np.int64)
    return GroundTruth(layout=skeletons[0].layout, xyz_mm=xyz, uvd=uvd, track_ids=ids)


def rois_from_msg(msg):
    """Return ``(rois (M, 4) int, scores (M,))`` of an a2j_ros_msgs/RegionOfInterestArray."""
    rois = np.array([(r.x_offset, r.y_offset, r.width, r.height) for r in msg.rois],
                    dtype=np.int64).reshape(-1, 4)
    scores = np.asarray(msg.scores, dtype=np.float32)
    if len(scores) != len(rois):
        raise InputError(f'{len(rois)} ROIs but {len(scores)} scores')
    return rois, scores


def depth_from_msg(msg, transport='raw'):
    """Return float32 mm (H, W) of a deserialised Image or compressedDepth CompressedImage."""
    if transport == 'compressedDepth':
        from a2j_ros.core.compressed_depth import decode_compressed_depth
        return decode_compressed_depth(msg.format, msg.data)
    return decode_depth(msg.height, msg.width, msg.encoding, msg.is_bigendian, msg.step,
                        msg.data)


def _reason(exc):
    text = str(exc).strip().splitlines()
    return f'{type(exc).__name__}: {text[0]}' if text else type(exc).__name__


class _Stamped:
    """Messages of one topic by stamp: exact (k-th of a repeated stamp) or nearest in a slop."""

    def __init__(self, items):
        self.by_stamp = defaultdict(list)
        for stamp, value in items:
            self.by_stamp[stamp].append(value)
        self.stamps = sorted(self.by_stamp)

    def find(self, stamp, slop_ns, occurrence=0):
        """Return the message for the ``occurrence``-th depth image stamped ``stamp``."""
        exact = self.by_stamp.get(stamp)
        if exact:
            return exact[min(occurrence, len(exact) - 1)]
        i = bisect.bisect_left(self.stamps, stamp)
        best = None
        for j in (i - 1, i):
            if 0 <= j < len(self.stamps):
                gap = abs(self.stamps[j] - stamp)
                if gap <= slop_ns and (best is None or gap < best[0]):
                    best = (gap, j)
        return None if best is None else self.by_stamp[self.stamps[best[1]]][0]


def open_any_reader(path):
    """Open ``path`` with rosbags' AnyReader; raise InputError saying what is wrong."""
    from rosbags.highlevel import AnyReader
    path = Path(path)
    if not path.exists():
        raise InputError(f'bag {path} does not exist')
    if path.is_dir() and not (path / 'metadata.yaml').is_file():
        inner = sorted(p.name for p in path.iterdir() if p.suffix in ('.mcap', '.db3'))
        hint = (f'; pass its storage file instead: {path / inner[0]}' if inner else
                ' and no .mcap or .db3 file')
        raise InputError(f'bag folder {path} has no metadata.yaml{hint}')
    reader = AnyReader([path], default_typestore=ts.default_typestore())
    try:
        reader.open()
    except Exception as exc:  # noqa: B902 - rosbags raises many kinds on damaged files
        raise InputError(f'cannot read bag {path}: {_reason(exc)} (truncated, damaged or '
                         'not a rosbag2 mcap/sqlite3 bag?)') from None
    return reader


class BagReader:
    """Open a bag and iterate its depth frames (``with BagReader(path) as bag``).

    ``topics.depth`` / ``topics.camera_info`` None means: detect them. After ``open()``,
    ``topics`` holds the topics used, ``transport`` the depth topic's (raw or
    compressedDepth), ``notes`` and ``warnings`` what the user should read.
    """

    def __init__(self, path, topics=None, slop_ns=DEFAULT_SLOP_NS):
        self.path = Path(path)
        self.topics = (BagTopics(**vars(topics)) if topics is not None
                       else BagTopics(depth=None, camera_info=None))
        self.slop_ns = int(slop_ns)
        self.transport = 'raw'
        self.notes, self.warnings = [], []
        self.skipped_messages = []          # dicts: topic, stamp_ns, reason
        self.read_error = None
        self.missing_topics = []
        self._reader = None

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()

    def open(self):
        """Open the bag and choose its topics; raise InputError naming what is wrong."""
        self._reader = open_any_reader(self.path)
        try:
            chosen = resolve_topics(self.path, self._reader, self.topics.depth,
                                    self.topics.camera_info)
        except InputError:
            self.close()
            raise
        self.topics.depth, self.topics.camera_info = chosen.depth, chosen.camera_info
        self.transport, self.notes, self.warnings = chosen.transport, chosen.notes, \
            chosen.warnings
        types = self.topic_types
        self.missing_topics = []
        for name, msgtype in (('roi', ts.ROI_ARRAY), ('ground_truth', ts.SKELETON_ARRAY)):
            topic = getattr(self.topics, name)
            if topic and types.get(topic) != msgtype:
                self.missing_topics.append(topic)
                setattr(self.topics, name, None)

    def close(self):
        """Close the bag."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    @property
    def topic_types(self):
        """Return ``{topic: message type}`` of every topic in the bag."""
        return {c.topic: c.msgtype for c in self._reader.connections}

    def _connections(self, *topics):
        return [c for c in self._reader.connections if c.topic in topics]

    def raw_messages(self, *topics):
        """Yield ``(connection, log_time, raw)`` of ``topics`` in bag order.

        A storage error mid-way ends the iteration and is kept in ``read_error``.
        """
        iterator = iter(self._reader.messages(connections=self._connections(*topics)))
        count = 0
        while True:
            try:
                item = next(iterator)
            except StopIteration:
                return
            except Exception as exc:  # noqa: B902 - damaged storage: keep what was read
                self.read_error = (f'bag {self.path}: reading stopped after {count} messages '
                                   f'of {", ".join(topics)}: {_reason(exc)}')
                return
            count += 1
            yield item

    def deserialize(self, conn, raw):
        """Return the message of ``raw``; raise InputError for a corrupt payload."""
        try:
            return self._reader.deserialize(raw, conn.msgtype)
        except Exception as exc:  # noqa: B902 - truncated or garbled CDR
            raise InputError(f'corrupt {conn.msgtype} message ({_reason(exc)})') from None

    def _skip_message(self, topic, stamp, reason):
        self.skipped_messages.append({'topic': topic, 'stamp_ns': int(stamp), 'reason': reason})

    def _read_stamped(self, topic, convert):
        if not topic:
            return None
        items = []
        for conn, log_time, raw in self.raw_messages(topic):
            try:
                msg = self.deserialize(conn, raw)
                items.append((stamp_ns(msg.header), convert(msg)))
            except (InputError, ValueError, TypeError, AttributeError) as exc:
                self._skip_message(topic, log_time, str(exc) if isinstance(exc, InputError)
                                   else f'unusable message ({_reason(exc)})')
        return _Stamped(items)

    def __len__(self):
        """Return the number of depth images in the bag."""
        return sum(c.msgcount for c in self._connections(self.topics.depth))

    def frames(self, max_frames=None):
        """Yield a BagFrame per depth image, in bag order (skipped ones with their reason)."""
        if self._reader is None:
            raise RuntimeError('BagReader.frames called before open()')
        self.skipped_messages, self.read_error = [], None
        rois = self._read_stamped(self.topics.roi, rois_from_msg)
        truth = self._read_stamped(self.topics.ground_truth, ground_truth_from_msg)
        info_topic, depth_topic = self.topics.camera_info, self.topics.depth
        info, cameras, seen = None, {}, defaultdict(int)
        index = 0
        for conn, log_time, raw in self.raw_messages(depth_topic, info_topic):
            if conn.topic == info_topic:
                try:
                    info = self.deserialize(conn, raw)
                except InputError as exc:
                    self._skip_message(info_topic, log_time, str(exc))
                continue
            if max_frames is not None and index >= max_frames:
                return
            frame = self._frame(index, conn, log_time, raw, info, cameras, seen)
            if not frame.skipped or frame.skip_kind != 'corrupt':
                if rois is not None:
                    found = rois.find(frame.stamp_ns, self.slop_ns, frame.occurrence)
                    frame.rois, frame.roi_scores = found if found is not None else (
                        np.zeros((0, 4), dtype=np.int64), np.zeros(0, dtype=np.float32))
                if truth is not None:
                    frame.ground_truth = truth.find(frame.stamp_ns, self.slop_ns,
                                                    frame.occurrence)
            index += 1
            yield frame

    def _frame(self, index, conn, log_time, raw, info, cameras, seen):
        """Return the BagFrame of one depth message (``skip_kind`` set when unusable)."""
        frame = BagFrame(index=index, stamp_ns=int(log_time), frame_id='', depth_mm=None,
                         camera=None, encoding='', log_time_ns=int(log_time))
        try:
            image = self.deserialize(conn, raw)
        except InputError as exc:
            return self._skip(frame, 'corrupt', str(exc))
        frame.stamp_ns, frame.frame_id = stamp_ns(image.header), image.header.frame_id
        frame.encoding = image.format if self.transport == 'compressedDepth' else image.encoding
        frame.occurrence = seen[frame.stamp_ns]
        seen[frame.stamp_ns] += 1
        try:
            frame.depth_mm = depth_from_msg(image, self.transport)
        except InputError as exc:
            return self._skip(frame, 'bad_image', str(exc))
        if info is None:
            return self._skip(frame, 'no_camera_info',
                              f'no camera_info on {self.topics.camera_info} before this frame')
        height, width = frame.depth_mm.shape
        if (int(info.width), int(info.height)) != (width, height):
            return self._skip(frame, 'camera_mismatch',
                              f'camera_info on {self.topics.camera_info} is for '
                              f'{info.width}x{info.height} images but the depth image is '
                              f'{width}x{height}')
        key = (tuple(np.asarray(info.k).tolist()), int(info.width), int(info.height))
        if key not in cameras:
            try:
                cameras[key] = camera_from_info(info)
            except InputError as exc:
                cameras[key] = exc
        if isinstance(cameras[key], InputError):
            return self._skip(frame, 'bad_camera_info',
                              f'camera_info on {self.topics.camera_info}: {cameras[key]}')
        frame.camera = cameras[key]
        return frame

    def _skip(self, frame, kind, reason):
        frame.skip_kind, frame.skip_reason = kind, reason
        frame.depth_mm = None if kind in ('corrupt', 'bad_image') else frame.depth_mm
        return frame


def read_frames(path, topics=None, max_frames=None):
    """Return every usable BagFrame of the bag at ``path`` as a list (small bags, tests)."""
    with BagReader(path, topics) as bag:
        return [f for f in bag.frames(max_frames) if not f.skipped]


__all__ = ['BagReader', 'camera_from_info', 'depth_from_msg', 'ground_truth_from_msg',
           'open_any_reader', 'read_frames', 'rois_from_msg', 'stamp_ns']
