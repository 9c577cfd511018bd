"""Write depth frames, camera info, ROIs and ground truth into a rosbag2 with ``rosbags``.

Messages are CDR-serialised with the standard ROS 2 definitions and type hashes, and every
connection carries its offered QoS, so `ros2 bag play` replays the bag on any ROS 2 install
(Humble needs the mcap storage plugin for .mcap bags). A path ending in ``.mcap`` or ``.db3``
becomes a single self-contained file (metadata inside); any other path a bag directory.
mcap bags are zstd-compressed per chunk by default (``compress``), which rosbag2's mcap
plugin reads transparently; sqlite3 bags are not compressed.
"""
from pathlib import Path
import shutil

import numpy as np
from rosbags.rosbag2 import CompressionFormat, CompressionMode, StoragePlugin, Writer

from a2j_ros.bag import typestore as ts
from a2j_ros.bag.frames import roi_array
from a2j_ros.bag.topics import BagTopics, FRAME_ID, OFFERED_QOS
from a2j_ros.core.depth_codec import encode_depth
from a2j_ros.core.errors import InputError
from a2j_ros.core.layouts import get_layout

STORAGES = {'mcap': StoragePlugin.MCAP, 'sqlite3': StoragePlugin.SQLITE3}
FILE_SUFFIXES = {'.mcap': 'mcap', '.db3': 'sqlite3'}


def resolve_storage(path, storage=None):
    """Return the storage name for ``path``: from its suffix, else ``storage``, else mcap."""
    from_suffix = FILE_SUFFIXES.get(Path(path).suffix)
    if storage is not None and storage not in STORAGES:
        raise InputError(f'unknown bag storage {storage!r}; use one of {sorted(STORAGES)}')
    if from_suffix and storage and storage != from_suffix:
        raise InputError(f'{path}: a {Path(path).suffix} file is {from_suffix} storage, '
                         f'not {storage}')
    return from_suffix or storage or 'mcap'


class BagWriter:
    """Write one frame at a time; use as a context manager (``with BagWriter(...) as w``)."""

    def __init__(self, path, storage=None, topics=None, frame_id=FRAME_ID, overwrite=False,
                 typestore=None, compress=True):
        self.path = Path(path)
        self.storage = resolve_storage(self.path, storage)
        self.compress = bool(compress) and self.storage == 'mcap'
        self.single_file = self.path.suffix in FILE_SUFFIXES
        self.topics = topics or BagTopics()
        self.frame_id = frame_id
        self.overwrite = overwrite
        self.store = typestore or ts.default_typestore()
        self.frames_written = 0
        self._writer = None
        self._connections = {}
        self._staging = None

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def open(self):
        """Create the bag (refuse an existing path unless ``overwrite``)."""
        if self.path.exists() and not self.overwrite:
            raise InputError(f'{self.path} exists already; remove it or pass overwrite '
                             '(--force)')
        self.path.parent.mkdir(parents=True, exist_ok=True)
        target = self.path
        if self.single_file:
            # rosbags writes a directory holding <name>.<ext>; stage it beside the target.
            self._staging = self.path.with_name(f'.{self.path.stem}.partial')
            shutil.rmtree(self._staging, ignore_errors=True)
            target = self._staging
        elif self.path.exists():
            shutil.rmtree(self.path)
        self._writer = Writer(target, version=Writer.VERSION_LATEST,
                              storage_plugin=STORAGES[self.storage])
        if self.compress:
            self._writer.set_compression(CompressionMode.STORAGE, CompressionFormat.ZSTD)
        self._writer.open()
        topics = [(self.topics.camera_info, ts.CAMERA_INFO), (self.topics.depth, ts.IMAGE),
                  (self.topics.roi, ts.ROI_ARRAY), (self.topics.ground_truth, ts.SKELETON_ARRAY)]
        for topic, msgtype in topics:
            if topic:
                self._connections[topic] = self._writer.add_connection(
                    topic, msgtype, typestore=self.store, offered_qos_profiles=[OFFERED_QOS])

    def close(self):
        """Finish the bag; in single-file mode move the storage file to ``path``."""
        if self._writer is None:
            return
        self._writer.close()
        self._writer = None
        if self._staging is not None:
            inner = self._staging / f'{self._staging.name}{self.path.suffix}'
            if self.path.exists():
                self.path.unlink()
            inner.replace(self.path)
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None

    def abort(self):
        """Drop a bag that could not be finished (nothing half-written is left behind)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        shutil.rmtree(self._staging or self.path, ignore_errors=True)
        self._staging = None

    def write_frame(self, stamp_ns, depth_mm, camera, rois=None, roi_scores=None,
                    ground_truth=None, encoding='16UC1', pad_bytes=0, big_endian=False):
        """Write one depth frame with its camera info, ROIs and ground truth (if given).

        ``rois`` are (M, 4) x, y, width, height in pixels; ``ground_truth`` a
        ``frames.GroundTruth`` in millimetres (written in metres as a SkeletonArray).
        Every message carries the header stamp ``stamp_ns``, also used as the log time.
        """
        if self._writer is None:
            raise RuntimeError('BagWriter.write_frame called before open()')
        stamp_ns = int(stamp_ns)
        header = self._header(stamp_ns)
        raw = encode_depth(depth_mm, encoding, pad_bytes=pad_bytes, big_endian=big_endian)
        if (raw.width, raw.height) != (int(camera.width), int(camera.height)):
            raise InputError(f'depth image is {raw.width}x{raw.height} but the camera is '
                             f'{camera.width}x{camera.height}')
        self._write(self.topics.camera_info, ts.CAMERA_INFO, stamp_ns, self._camera_info(
            header, camera))
        if self.topics.roi and rois is not None:
            self._write(self.topics.roi, ts.ROI_ARRAY, stamp_ns,
                        self._roi_array(header, rois, roi_scores))
        if self.topics.ground_truth and ground_truth is not None:
            self._write(self.topics.ground_truth, ts.SKELETON_ARRAY, stamp_ns,
                        self._skeleton_array(header, ground_truth, rois))
        types = self.store.types
        image = types[ts.IMAGE](header=header, height=raw.height, width=raw.width,
                                encoding=raw.encoding, is_bigendian=int(raw.is_bigendian),
                                step=raw.step, data=raw.data)
        self._write(self.topics.depth, ts.IMAGE, stamp_ns, image)
        self.frames_written += 1

    def _write(self, topic, msgtype, stamp_ns, msg):
        data = self.store.serialize_cdr(msg, msgtype)
        self._writer.write(self._connections[topic], stamp_ns, data)

    def _header(self, stamp_ns):
        types = self.store.types
        stamp = types['builtin_interfaces/msg/Time'](sec=stamp_ns // 10**9,
                                                     nanosec=stamp_ns % 10**9)
        return types['std_msgs/msg/Header'](stamp=stamp, frame_id=self.frame_id)

    def _roi(self, box):
        x, y, w, h = (int(v) for v in box)
        return self.store.types['sensor_msgs/msg/RegionOfInterest'](
            x_offset=max(x, 0), y_offset=max(y, 0), height=max(h, 0), width=max(w, 0),
            do_rectify=False)

    def _camera_info(self, header, camera):
        fx, fy, cx, cy = (float(camera.fx), float(camera.fy), float(camera.cx), float(camera.cy))
        k = np.array([fx, 0, cx, 0, fy, cy, 0, 0, 1], dtype=np.float64)
        p = np.array([fx, 0, cx, 0, 0, fy, cy, 0, 0, 0, 1, 0], dtype=np.float64)
        return self.store.types[ts.CAMERA_INFO](
            header=header, height=int(camera.height), width=int(camera.width),
            distortion_model='plumb_bob', d=np.zeros(5, dtype=np.float64), k=k,
            r=np.eye(3, dtype=np.float64).reshape(-1), p=p, binning_x=0, binning_y=0,
            roi=self._roi((0, 0, 0, 0)))

    def _roi_array(self, header, rois, scores):
        boxes = roi_array(rois)
        scores = (np.ones(len(boxes), dtype=np.float32) if scores is None
                  else np.asarray(scores, dtype=np.float32).reshape(-1))
        if len(scores) != len(boxes):
            raise InputError(f'{len(boxes)} ROIs but {len(scores)} scores')
        return self.store.types[ts.ROI_ARRAY](header=header, rois=[self._roi(b) for b in boxes],
                                              scores=scores)

    def _skeleton_array(self, header, gt, rois):
        types = self.store.types
        point = types['geometry_msgs/msg/Point']
        layout = get_layout(gt.layout)
        xyz = np.asarray(gt.xyz_mm, dtype=np.float64).reshape(-1, layout.num_joints, 3)
        uvd = np.asarray(gt.uvd, dtype=np.float64).reshape(-1, layout.num_joints, 3)
        boxes = roi_array(rois)
        ids = (range(len(xyz)) if getattr(gt, 'track_ids', None) is None
               else [int(v) for v in np.asarray(gt.track_ids).reshape(-1)])
        skeletons = []
        for i, (joints, joints_uvd, track_id) in enumerate(zip(xyz, uvd, ids)):
            box = boxes[i] if i < len(boxes) else (0, 0, 0, 0)
            skeletons.append(types[ts.SKELETON](
                id=track_id, layout=layout.name, joint_names=list(layout.joint_names),
                joints=[point(x=x / 1000.0, y=y / 1000.0, z=z / 1000.0) for x, y, z in joints],
                joints_uvd=[point(x=u, y=v, z=d / 1000.0) for u, v, d in joints_uvd],
                confidence=np.ones(layout.num_joints, dtype=np.float32), score=1.0,
                roi=self._roi(box)))
        return types[ts.SKELETON_ARRAY](header=header, skeletons=skeletons)


__all__ = ['BagWriter', 'FILE_SUFFIXES', 'STORAGES', 'resolve_storage']
