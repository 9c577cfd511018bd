"""Read depth frames with their camera info, ROIs and ground truth from any rosbag2.

Works on mcap and sqlite3 bags, as directories or single files, from ``a2j make-bag`` or
from a recording (e.g. a RealSense: ``--depth-topic /camera/camera/depth/image_rect_raw``).
Messages are paired with the depth image by header stamp: the same stamp, else the nearest
one within ``slop_ns``; the camera info is the latest one at or before the depth stamp.
"""
import bisect
from pathlib import Path

import numpy as np
from rosbags.highlevel import AnyReader, AnyReaderError
from rosbags.rosbag2 import ReaderError

from a2j_ros.bag import typestore as ts
from a2j_ros.bag.frames import BagFrame, GroundTruth
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


class _Stamped:
    """Messages of one topic sorted by stamp, looked up exactly or within a slop."""

    def __init__(self, items):
        items = sorted(items, key=lambda item: item[0])
        self.stamps = [s for s, _ in items]
        self.values = [v for _, v in items]

    def nearest(self, stamp, slop_ns):
        i = bisect.bisect_left(self.stamps, stamp)
        best = None
        for j in (i - 1, i):
            if 0 <= j < len(self.stamps):
                gap = abs(self.stamps[j] - stamp)
                if gap <= slop_ns and (best is None or gap < best[0]):
                    best = (gap, j)
        return None if best is None else self.values[best[1]]

    def latest(self, stamp):
        i = bisect.bisect_right(self.stamps, stamp) - 1
        return self.values[max(i, 0)] if self.values else None


class BagReader:
    """Open a bag and iterate its depth frames (``with BagReader(path) as bag``)."""

    def __init__(self, path, topics=None, slop_ns=DEFAULT_SLOP_NS):
        self.path = Path(path)
        self.topics = topics or BagTopics()
        self.slop_ns = int(slop_ns)
        self._reader = None
        self.missing_topics = []

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()

    def open(self):
        """Open the bag and check its topics; raise InputError naming what is wrong."""
        if not self.path.exists():
            raise InputError(f'bag {self.path} does not exist')
        try:
            self._reader = AnyReader([self.path], default_typestore=ts.default_typestore())
            self._reader.open()
        except (AnyReaderError, ReaderError, FileNotFoundError, ValueError, KeyError) as exc:
            self._reader = None
            raise InputError(f'cannot read bag {self.path}: {exc}') from None
        self._check_topics()

    def close(self):
        """Close the bag."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    @property
    def topic_types(self):
        """Return ``{topic: message type}`` of every topic in the bag."""
        return {c.topic: c.msgtype for c in self._reader.connections}

    def _of_type(self, msgtype):
        return sorted(t for t, m in self.topic_types.items() if m == msgtype)

    def _check_topics(self):
        types = self.topic_types
        if types.get(self.topics.depth) != ts.IMAGE:
            raise InputError(f'bag {self.path} has no sensor_msgs/Image topic '
                             f'{self.topics.depth!r}; its image topics: '
                             f'{self._of_type(ts.IMAGE)} (choose one with --depth-topic)')
        if types.get(self.topics.camera_info) != ts.CAMERA_INFO:
            sibling = self.topics.depth.rsplit('/', 1)[0] + '/camera_info'
            if types.get(sibling) != ts.CAMERA_INFO:
                raise InputError(f'bag {self.path} has no sensor_msgs/CameraInfo topic '
                                 f'{self.topics.camera_info!r}; its camera_info topics: '
                                 f'{self._of_type(ts.CAMERA_INFO)} (use --info-topic)')
            self.topics.camera_info = sibling
        self.missing_topics = []
        for name, msgtype in (('roi', ts.ROI_ARRAY), ('ground_truth', ts.SKELETON_ARRAY)):
            topic = getattr(self.topics, name)
            if topic and types.get(topic) != msgtype:
                self.missing_topics.append(topic)
                setattr(self.topics, name, None)

    def _connections(self, topic):
        return [c for c in self._reader.connections if c.topic == topic]

    def _read_stamped(self, topic, convert):
        if not topic:
            return None
        items = []
        for conn, _t, raw in self._reader.messages(connections=self._connections(topic)):
            msg = self._reader.deserialize(raw, conn.msgtype)
            items.append((stamp_ns(msg.header), convert(msg)))
        return _Stamped(items)

    def __len__(self):
        """Return the number of depth images in the bag."""
        return sum(c.msgcount for c in self._connections(self.topics.depth))

    def frames(self, max_frames=None):
        """Yield a BagFrame per depth image, in recording order."""
        if self._reader is None:
            raise RuntimeError('BagReader.frames called before open()')
        infos = self._read_stamped(self.topics.camera_info, lambda m: m)
        rois = self._read_stamped(
            self.topics.roi, lambda m: (np.array([(r.x_offset, r.y_offset, r.width, r.height)
                                                  for r in m.rois], dtype=np.int64).reshape(-1, 4),
                                        np.asarray(m.scores, dtype=np.float32)))
        truth = self._read_stamped(self.topics.ground_truth, ground_truth_from_msg)
        cameras = {}
        conns = self._connections(self.topics.depth)
        for index, (conn, log_time, raw) in enumerate(self._reader.messages(connections=conns)):
            if max_frames is not None and index >= max_frames:
                return
            image = self._reader.deserialize(raw, conn.msgtype)
            stamp = stamp_ns(image.header)
            where = f'{self.path} {self.topics.depth} frame {index}'
            info = infos.latest(stamp)
            if info is None:
                raise InputError(f'{where}: no camera_info on {self.topics.camera_info}')
            key = (tuple(np.asarray(info.k).tolist()), info.width, info.height)
            try:
                depth = decode_depth(image.height, image.width, image.encoding,
                                     image.is_bigendian, image.step, image.data)
                if key not in cameras:
                    cameras[key] = camera_from_info(info)
            except InputError as exc:
                raise InputError(f'{where}: {exc}') from None
            frame = BagFrame(index=index, stamp_ns=stamp, frame_id=image.header.frame_id,
                             depth_mm=depth, camera=cameras[key], encoding=image.encoding,
                             log_time_ns=int(log_time))
            if rois is not None:
                found = rois.nearest(stamp, self.slop_ns)
                frame.rois, frame.roi_scores = found if found is not None else (
                    np.zeros((0, 4), dtype=np.int64), np.zeros(0, dtype=np.float32))
            if truth is not None:
                frame.ground_truth = truth.nearest(stamp, self.slop_ns)
            yield frame


def read_frames(path, topics=None, max_frames=None):
    """Return every BagFrame of the bag at ``path`` as a list (small bags, tests)."""
    with BagReader(path, topics) as bag:
        return list(bag.frames(max_frames))


__all__ = ['BagReader', 'camera_from_info', 'ground_truth_from_msg', 'read_frames',
           'stamp_ns']
