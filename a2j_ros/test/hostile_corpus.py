"""A corpus of damaged and odd rosbags, written with ``rosbags`` directly (not ``a2j make-bag``).

Each bag imitates something a user meets: RealSense and Azure Kinect topic layouts, mcap and
sqlite3, compressedDepth-only recordings, truncated CDR payloads, duplicate stamps, a
camera_info recorded after its frame or changing size, a folder without metadata.yaml, an
empty bag... ``BAGS`` maps a name to its builder; ``write_corpus(folder)`` writes them all.
The scene is tiny (160x120 depth, a hand-sized blob at 0.5 m in front of a wall at 2 m) so a
replay of a good bag takes a fraction of a second per frame with a small model.
"""
from pathlib import Path
import shutil
import struct

import numpy as np
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import get_types_from_msg, get_typestore, Stores
from test_compressed_depth import header as cd_header
from test_compressed_depth import png16, rvl_encode

W, H = 160, 120
FX = FY = 140.0
CX, CY = 80.0, 60.0
T0 = 1_700_000_000 * 10**9
PERIOD = 100_000_000            # 10 Hz
FRAMES = 8
HAND_BOX = (64, 40, 28, 36)     # x, y, w, h of the blob


def _typestore():
    from a2j_ros.bag.typestore import load_msg_definitions
    store = get_typestore(Stores.ROS2_KILTED)
    types = {}
    for name, text in load_msg_definitions().items():
        types.update(get_types_from_msg(text, f'a2j_ros_msgs/msg/{name}'))
    store.register(types)
    return store


STORE = _typestore()
T = STORE.types


def depth_mm(i=0, width=W, height=H):
    """Return the scene's depth (float mm): a wall at 2 m and a blob at 0.5 m, moving 1 px."""
    depth = np.full((height, width), 2000.0, dtype=np.float32)
    x, y, w, h = HAND_BOX
    yy, xx = np.mgrid[0:height, 0:width]
    cx, cy = x + w / 2 + i, y + h / 2
    blob = ((xx - cx) / (w / 2)) ** 2 + ((yy - cy) / (h / 2)) ** 2 <= 1.0
    depth[blob] = 500.0 + 10.0 * ((yy[blob] - cy) / h)
    depth[:2, :5] = 0.0                       # a few invalid pixels
    return depth


def _header(stamp, frame_id='camera_depth_optical_frame'):
    return T['std_msgs/msg/Header'](stamp=T['builtin_interfaces/msg/Time'](
        sec=stamp // 10**9, nanosec=stamp % 10**9), frame_id=frame_id)


def image(stamp, depth=None, encoding='16UC1', i=0):
    """Return a sensor_msgs/Image of the scene in ``encoding`` (16UC1, mono16, 32FC1, rgb8)."""
    depth = depth_mm(i) if depth is None else depth
    height, width = depth.shape
    if encoding in ('16UC1', 'mono16'):
        data = np.rint(depth).astype('<u2').tobytes()
        step = width * 2
    elif encoding == '32FC1':
        data = np.where(depth > 0, depth / 1000.0, np.nan).astype('<f4').tobytes()
        step = width * 4
    else:
        data = bytes(width * height * 3)
        step = width * 3
    return T['sensor_msgs/msg/Image'](header=_header(stamp), height=height, width=width,
                                      encoding=encoding, is_bigendian=0, step=step,
                                      data=np.frombuffer(data, dtype=np.uint8))


def info(stamp, width=W, height=H, model='plumb_bob', d=(0.0,) * 5):
    """Return a sensor_msgs/CameraInfo of the scene's camera."""
    k = np.array([FX, 0, CX, 0, FY, CY, 0, 0, 1], dtype=np.float64)
    p = np.array([FX, 0, CX, 0, 0, FY, CY, 0, 0, 0, 1, 0], dtype=np.float64)
    roi = T['sensor_msgs/msg/RegionOfInterest'](x_offset=0, y_offset=0, height=0, width=0,
                                                do_rectify=False)
    return T['sensor_msgs/msg/CameraInfo'](
        header=_header(stamp), height=height, width=width, distortion_model=model,
        d=np.asarray(d, dtype=np.float64), k=k, r=np.eye(3).reshape(-1), p=p, binning_x=0,
        binning_y=0, roi=roi)


def compressed(stamp, fmt, i=0):
    """Return a CompressedImage as image_transport's compressedDepth publisher writes it."""
    pixels = np.rint(depth_mm(i)).astype(np.uint16)
    if fmt.endswith('rvl'):
        body = struct.pack('<II', W, H) + rvl_encode(pixels.reshape(-1).tolist())
    else:
        body = png16(pixels.tolist())
    return T['sensor_msgs/msg/CompressedImage'](
        header=_header(stamp), format=fmt,
        data=np.frombuffer(cd_header() + body, dtype=np.uint8))


def rois(stamp, i=0):
    """Return an a2j_ros_msgs/RegionOfInterestArray with the blob's box."""
    x, y, w, h = HAND_BOX
    roi = T['sensor_msgs/msg/RegionOfInterest'](x_offset=x + i, y_offset=y, height=h, width=w,
                                                do_rectify=False)
    return T['a2j_ros_msgs/msg/RegionOfInterestArray'](
        header=_header(stamp), rois=[roi], scores=np.ones(1, dtype=np.float32))


def ground_truth(stamp, i=0):
    """Return an a2j_ros_msgs/SkeletonArray: 14 nyu_hand_14 joints spread over the blob."""
    from a2j_ros.core.layouts import get_layout
    layout = get_layout('nyu_hand_14')
    x, y, w, h = HAND_BOX
    angles = np.linspace(0, 2 * np.pi, 14, endpoint=False)
    u = x + i + w / 2 + 0.3 * w * np.cos(angles)
    v = y + h / 2 + 0.3 * h * np.sin(angles)
    z = np.full(14, 0.5)
    point = T['geometry_msgs/msg/Point']
    joints = [point(x=(a - CX) * c / FX, y=(b - CY) * c / FY, z=c) for a, b, c in zip(u, v, z)]
    uvd = [point(x=a, y=b, z=c) for a, b, c in zip(u, v, z)]
    roi = T['sensor_msgs/msg/RegionOfInterest'](x_offset=x, y_offset=y, height=h, width=w,
                                                do_rectify=False)
    skeleton = T['a2j_ros_msgs/msg/Skeleton'](
        id=0, layout=layout.name, joint_names=list(layout.joint_names), joints=joints,
        joints_uvd=uvd, confidence=np.ones(14, dtype=np.float32), score=1.0, roi=roi)
    return T['a2j_ros_msgs/msg/SkeletonArray'](header=_header(stamp), skeletons=[skeleton])


def write_bag(path, messages, storage='mcap', single_file=True):
    """Write ``messages`` [(topic, msg or raw bytes with its type, log time)] into a bag.

    ``single_file``: a bare ``.mcap`` / ``.db3`` file (the path's suffix), else a folder.
    Raw bytes are given as ``(topic, (msgtype, data), log_time)``.
    """
    path = Path(path)
    folder = path.with_name(path.name + '.dir') if single_file else path
    shutil.rmtree(folder, ignore_errors=True)
    plugin = StoragePlugin.MCAP if storage == 'mcap' else StoragePlugin.SQLITE3
    writer = Writer(folder, version=9, storage_plugin=plugin)
    writer.open()
    connections = {}
    for topic, msg, _t in messages:
        msgtype = msg[0] if isinstance(msg, tuple) else msg.__msgtype__
        if topic not in connections:
            connections[topic] = writer.add_connection(topic, msgtype, typestore=STORE)
    for topic, msg, log_time in sorted(messages, key=lambda m: m[2]):
        data = msg[1] if isinstance(msg, tuple) else STORE.serialize_cdr(msg, msg.__msgtype__)
        writer.write(connections[topic], log_time, data)
    writer.close()
    if single_file:
        inner = next(folder.glob('*.mcap' if storage == 'mcap' else '*.db3'))
        inner.replace(path)
        shutil.rmtree(folder)
    return path


def frames(count=FRAMES, depth_topic='/camera/depth/image_rect_raw',
           info_topic='/camera/depth/camera_info', encoding='16UC1', roi_topic=None,
           gt_topic=None, stamps=None):
    """Return the messages of ``count`` ordinary frames (info, [rois, gt,] depth per frame)."""
    out = []
    for i in range(count):
        stamp = T0 + i * PERIOD if stamps is None else stamps[i]
        log = T0 + i * PERIOD
        out.append((info_topic, info(stamp), log))
        if roi_topic:
            out.append((roi_topic, rois(stamp, i), log))
        if gt_topic:
            out.append((gt_topic, ground_truth(stamp, i), log))
        out.append((depth_topic, image(stamp, encoding=encoding, i=i), log + 1))
    return out


def _truncated(msg, fraction=0.5):
    data = STORE.serialize_cdr(msg, msg.__msgtype__)
    return (msg.__msgtype__, data[:int(len(data) * fraction)])


# --- the bags -------------------------------------------------------------------------------
OURS = dict(roi_topic='/a2j/rois', gt_topic='/a2j/ground_truth')


def ours_gt(path):
    """Write a bag: our topic layout with ROIs and ground truth (mcap)."""
    return write_bag(path, frames(**OURS))


def realsense(path):
    """Write a bag.

    RealSense (rs_launch) layout in a folder bag: depth, colour, no ROIs, no ground truth.
    """
    messages = frames(depth_topic='/camera/camera/depth/image_rect_raw',
                      info_topic='/camera/camera/depth/camera_info')
    for i in range(FRAMES):
        stamp = T0 + i * PERIOD
        messages.append(('/camera/camera/color/image_raw', image(stamp, encoding='rgb8'),
                         stamp + 2))
        messages.append(('/camera/camera/color/camera_info', info(stamp), stamp + 2))
    return write_bag(path, messages, single_file=False)


def azure_kinect(path):
    """Write a bag: the Azure Kinect driver's layout, sqlite3.

    /depth/image_raw 32FC1 (not rectified: rational_polynomial camera_info with non-zero D)
    beside an /ir/image_raw mono16 and its camera_info.
    """
    d = (0.5, -2.6, 0.0002, -0.0001, 1.5, 0.4, -2.4, 1.4)
    messages = []
    for i in range(FRAMES):
        stamp = T0 + i * PERIOD
        messages.append(('/depth/camera_info', info(stamp, model='rational_polynomial', d=d),
                         stamp))
        messages.append(('/depth/image_raw', image(stamp, encoding='32FC1', i=i), stamp + 1))
        messages.append(('/ir/image_raw', image(stamp, encoding='mono16'), stamp + 2))
        messages.append(('/ir/camera_info', info(stamp), stamp + 2))
    return write_bag(path, messages, storage='sqlite3')


def duplicate_stamps(path):
    """Write a bag.

    Every depth stamp twice (a driver that repeats its last frame), with ROIs and truth.
    """
    stamps = [T0 + (i // 2) * PERIOD for i in range(FRAMES)]
    return write_bag(path, frames(stamps=stamps, **OURS))


def truncated_cdr(path):
    """Write a bag: frame 3's depth CDR cut in half, frame 1's camera_info cut to 30 %.

    Frame 1 then uses frame 0's camera_info (the latest one played before it).
    """
    messages = frames(**OURS)
    for topic, k, fraction in (('/camera/depth/image_rect_raw', 3, 0.5),
                               ('/camera/depth/camera_info', 1, 0.3)):
        where = [n for n, m in enumerate(messages) if m[0] == topic][k]
        name, msg, log = messages[where]
        messages[where] = (name, _truncated(msg, fraction), log)
    return write_bag(path, messages, storage='sqlite3')


def info_after_frame(path):
    """Write a bag.

    camera_info recorded 20 ms after each depth image: frame 0 has none at or before it.
    """
    messages = []
    for i in range(FRAMES):
        stamp = T0 + i * PERIOD
        messages.append(('/camera/depth/image_rect_raw', image(stamp, i=i), stamp))
        messages.append(('/camera/depth/camera_info', info(stamp + 20_000_000),
                         stamp + 20_000_000))
    return write_bag(path, messages)


def resizing_info(path):
    """Write a bag: From frame 4 on, camera_info says 320x240 while the depth stays 160x120."""
    messages = frames()
    for k, (topic, msg, log) in enumerate(messages):
        if topic.endswith('camera_info') and log >= T0 + 4 * PERIOD:
            stamp = msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec
            messages[k] = (topic, info(stamp, 320, 240), log)
    return write_bag(path, messages)


def compressed_only(path, fmt='16UC1; compressedDepth png', storage='mcap'):
    """Write a bag.

    Only <depth>/compressedDepth (image_transport), as bags recorded over a network are.
    """
    messages = []
    for i in range(FRAMES):
        stamp = T0 + i * PERIOD
        messages.append(('/camera/depth/camera_info', info(stamp), stamp))
        messages.append(('/camera/depth/image_rect_raw/compressedDepth',
                         compressed(stamp, fmt, i), stamp + 1))
    return write_bag(path, messages, storage=storage)


def compressed_rvl(path):
    """Write a bag: compressedDepth rvl in a sqlite3 bag."""
    return compressed_only(path, '16UC1; compressedDepth rvl', 'sqlite3')


def infrared_only(path):
    """Write a bag.

    Only an infrared mono16 image (no depth): auto-detection must not take it for depth.
    """
    return write_bag(path, frames(depth_topic='/camera/ir/image_raw',
                                  info_topic='/camera/ir/camera_info', encoding='mono16'))


def two_cameras(path):
    """Write a bag: Two 16UC1 depth cameras: auto-detection must list both and ask."""
    messages = frames(depth_topic='/left/depth/image_rect_raw',
                      info_topic='/left/depth/camera_info')
    messages += frames(depth_topic='/right/depth/image_rect_raw',
                       info_topic='/right/depth/camera_info')
    return write_bag(path, messages)


def empty_bag(path):
    """Write a bag: topics declared, no message at all."""
    folder = path.with_name(path.name + '.dir')
    shutil.rmtree(folder, ignore_errors=True)
    writer = Writer(folder, version=9, storage_plugin=StoragePlugin.MCAP)
    writer.open()
    writer.add_connection('/camera/depth/image_rect_raw', 'sensor_msgs/msg/Image',
                          typestore=STORE)
    writer.add_connection('/camera/depth/camera_info', 'sensor_msgs/msg/CameraInfo',
                          typestore=STORE)
    writer.close()
    next(folder.glob('*.mcap')).replace(path)
    shutil.rmtree(folder)
    return path


def no_metadata(path):
    """Write a bag: A bag folder whose metadata.yaml was lost (the .mcap inside is intact)."""
    write_bag(path, frames(**OURS), single_file=False)
    (path / 'metadata.yaml').unlink()
    return path


def truncated_file(path):
    """Write a bag: A .mcap cut at 60 % of its size (a copy interrupted)."""
    write_bag(path, frames(**OURS))
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * 0.6)])
    return path


def random_bytes(path):
    """Write a bag: 4 kB of random bytes named .mcap."""
    path.write_bytes(np.random.default_rng(5).bytes(4096))
    return path


def wrong_encoding(path):
    """Write a bag: rgb8 images on the depth topic's usual name."""
    return write_bag(path, frames(encoding='rgb8'))


BAGS = {
    'ours_gt.mcap': ours_gt, 'realsense': realsense, 'azure.db3': azure_kinect,
    'duplicate_stamps.mcap': duplicate_stamps, 'truncated_cdr.db3': truncated_cdr,
    'info_after_frame.mcap': info_after_frame, 'resizing_info.mcap': resizing_info,
    'compressed_png.mcap': compressed_only, 'compressed_rvl.db3': compressed_rvl,
    'infrared.mcap': infrared_only, 'two_cameras.mcap': two_cameras,
    'empty.mcap': empty_bag, 'no_metadata': no_metadata, 'truncated_file.mcap': truncated_file,
    'random.mcap': random_bytes, 'rgb.mcap': wrong_encoding,
}


def write_corpus(folder, names=None):
    """Write the corpus bags (all, or ``names``) into ``folder``; return {name: path}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return {name: BAGS[name](folder / name) for name in (names or BAGS)}


if __name__ == '__main__':
    import sys
    for name, written in write_corpus(sys.argv[1] if len(sys.argv) > 1 else 'corpus').items():
        print(name, written)
