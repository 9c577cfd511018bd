"""Write tiny bags with BagWriter and read them back with BagReader (both storages)."""
from pathlib import Path

import numpy as np
import pytest
from rosbags.highlevel import AnyReader

from a2j_ros.bag.frames import GroundTruth
from a2j_ros.bag.reader import BagReader, read_frames
from a2j_ros.bag.topics import BagTopics, FRAME_ID
from a2j_ros.bag.writer import BagWriter
from a2j_ros.core.camera import PinholeCamera
from a2j_ros.core.errors import InputError

CAMERA = PinholeCamera(fx=60.0, fy=61.0, cx=20.0, cy=15.0, width=40, height=30)
T0 = 1_700_000_000 * 10**9


def _frames(n=3):
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        depth = rng.uniform(400.0, 900.0, (30, 40)).astype(np.float32)
        depth[:2] = 0.0
        uvd = np.stack([rng.uniform(5, 35, 14), rng.uniform(5, 25, 14),
                        rng.uniform(400, 900, 14)], axis=-1)[None]
        gt = GroundTruth('nyu_hand_14', CAMERA.unproject(uvd), uvd, track_ids=np.array([7]))
        out.append((T0 + i * 33_000_000, depth, [(3 + i, 4, 20, 18)], gt))
    return out


def _write(path, encoding='16UC1', pad_bytes=0, big_endian=False, storage=None, topics=None):
    with BagWriter(path, storage=storage, topics=topics) as writer:
        for stamp, depth, rois, gt in _frames():
            writer.write_frame(stamp, depth, CAMERA, rois=rois, ground_truth=gt,
                               encoding=encoding, pad_bytes=pad_bytes, big_endian=big_endian)
    return path


@pytest.mark.parametrize('name,storage', [('bag.mcap', None), ('bag.db3', None),
                                          ('bagdir', 'mcap'), ('bagdir', 'sqlite3')])
@pytest.mark.parametrize('encoding,pad_bytes,big_endian', [
    ('16UC1', 0, False), ('32FC1', 0, False), ('16UC1', 10, False), ('32FC1', 6, True)])
def test_round_trip(tmp_path, name, storage, encoding, pad_bytes, big_endian):
    path = _write(tmp_path / name, encoding, pad_bytes, big_endian, storage)
    assert path.is_file() == (name != 'bagdir')
    assert not list(tmp_path.glob('.*partial'))
    frames = read_frames(path)
    assert len(frames) == 3
    tolerance = 0.5 if encoding == '16UC1' else 1e-3
    for frame, (stamp, depth, rois, gt) in zip(frames, _frames()):
        assert frame.stamp_ns == stamp and frame.frame_id == FRAME_ID
        assert frame.encoding == encoding
        np.testing.assert_allclose(frame.depth_mm, depth, atol=tolerance)
        assert frame.camera == CAMERA
        assert frame.rois.tolist() == [list(rois[0])]
        assert frame.roi_scores.tolist() == [1.0]
        assert frame.ground_truth.layout == 'nyu_hand_14'
        np.testing.assert_allclose(frame.ground_truth.xyz_mm, gt.xyz_mm, atol=1e-6)
        np.testing.assert_allclose(frame.ground_truth.uvd, gt.uvd, atol=1e-6)
        assert frame.ground_truth.track_ids.tolist() == [7]     # Skeleton.id = track id


def test_standard_serialisation_readable_by_rclpy(tmp_path):
    """The CDR bytes in the bag deserialise with ROS 2's own typesupport."""
    import rclpy.serialization as rclpy_serialization
    from sensor_msgs.msg import CameraInfo, Image

    import a2j_ros_msgs.msg as msgs
    path = _write(tmp_path / 'bag.mcap', '32FC1', pad_bytes=4)
    classes = {'sensor_msgs/msg/Image': Image, 'sensor_msgs/msg/CameraInfo': CameraInfo,
               'a2j_ros_msgs/msg/SkeletonArray': msgs.SkeletonArray,
               'a2j_ros_msgs/msg/RegionOfInterestArray': msgs.RegionOfInterestArray}
    seen = {}
    with AnyReader([path]) as reader:
        for conn, _t, raw in reader.messages():
            seen[conn.msgtype] = rclpy_serialization.deserialize_message(
                bytes(raw), classes[conn.msgtype])
    image = seen['sensor_msgs/msg/Image']
    assert (image.width, image.height, image.encoding, image.step) == (40, 30, '32FC1', 164)
    assert seen['sensor_msgs/msg/CameraInfo'].k[4] == 61.0
    skeleton = seen['a2j_ros_msgs/msg/SkeletonArray'].skeletons[0]
    assert skeleton.layout == 'nyu_hand_14' and len(skeleton.joints) == 14
    assert seen['a2j_ros_msgs/msg/RegionOfInterestArray'].rois[0].width == 20


def test_metadata_has_qos_and_type_hashes(tmp_path):
    path = _write(tmp_path / 'bagdir', storage='sqlite3')
    text = (path / 'metadata.yaml').read_text()
    assert 'offered_qos_profiles' in text and 'reliability: reliable' in text
    assert 'RIHS01_' in text


def test_other_topic_names_and_missing_optional_topics(tmp_path):
    """A RealSense-like bag: own topic names, no ROIs, no ground truth."""
    topics = BagTopics(depth='/camera/camera/depth/image_rect_raw',
                       camera_info='/camera/camera/depth/camera_info', roi=None,
                       ground_truth=None)
    path = _write(tmp_path / 'rs.mcap', topics=topics)
    # Not named: the only depth topic of the bag is taken, and the reader says so.
    with BagReader(path) as bag:
        assert bag.topics.depth == topics.depth and bag.topics.camera_info == topics.camera_info
        assert any('the only depth image topic' in note for note in bag.notes)
    with pytest.raises(InputError, match='has no topic /camera/depth'):
        read_frames(path, BagTopics(depth='/camera/depth'))
    # The camera_info next to the depth topic is found without --info-topic.
    frames = read_frames(path, BagTopics(depth='/camera/camera/depth/image_rect_raw'))
    assert len(frames) == 3 and frames[0].rois is None and frames[0].ground_truth is None
    with BagReader(path, BagTopics(depth=topics.depth)) as bag:
        assert len(bag) == 3
        assert set(bag.missing_topics) == {'/a2j/rois', '/a2j/ground_truth'}


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(InputError, match='does not exist'):
        read_frames(tmp_path / 'nope.mcap')
    (tmp_path / 'junk.mcap').write_bytes(b'not an mcap file')
    with pytest.raises(InputError, match='junk.mcap'):
        read_frames(tmp_path / 'junk.mcap')
    path = _write(tmp_path / 'bag.mcap')
    with pytest.raises(InputError, match='exists already'):
        _write(path)
    with pytest.raises(InputError, match='sqlite3'):
        BagWriter(tmp_path / 'x.mcap', storage='sqlite3')
    with pytest.raises(InputError, match='camera'):
        with BagWriter(tmp_path / 'y.mcap') as writer:
            writer.write_frame(T0, np.ones((5, 5)), CAMERA)
    assert not Path(tmp_path / 'y.mcap').exists()
