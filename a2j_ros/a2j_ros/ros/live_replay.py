"""Live replay: play a bag through a running pose node over DDS and record what it publishes.

Like ``ros2 bag play --clock``: the bag's raw CDR messages are published unchanged on their
recorded topics at the recorded rate (scaled by ``rate``), with ``/clock`` carrying the bag's
time, so the node runs with ``use_sim_time``. The pose node runs as a separate process
(``node='subprocess'``, the default: the node over DDS exactly as deployed) or in this process
(``node='inprocess'``). The replay is a closed graph (``ros.replay_graph``): a private domain
and discovery on this machine unless asked otherwise.

What reaches the node is what offline replay estimates: messages that cannot be deserialised
and depth images that cannot be decoded are not played (skipped, with the same reasons);
compressedDepth images are decoded and played as sensor_msgs/Image on the raw topic.
Answers are paired by stamp and order: the k-th SkeletonArray with a stamp answers the k-th
depth image played with that stamp (duplicate stamps), never more answers than frames.
End-to-end latency = the wall time from publishing a depth image to receiving its
skeletons; a frame played without an answer counts as dropped.
"""
import importlib
import itertools
import os
from pathlib import Path
import threading
import time

import numpy as np

from a2j_ros.bag.frames import UNPLAYABLE
from a2j_ros.bag.offline_replay import (
    check_replay_options,
    finish_record,
    overlay_indices,
    resolve_roi_source,
    start_record,
)
from a2j_ros.bag.reader import BagReader, depth_from_msg
from a2j_ros.bag.replay_record import FrameOutcome, pair_answers
from a2j_ros.bag.topic_detect import COMPRESSED_SUFFIX
from a2j_ros.core.errors import A2JError, InputError
from a2j_ros.ros.replay_graph import (
    check_live_options,
    child_environment,
    choose_domain,
    graph_environment,
    PoseNodeProcess,
    scoped_environ,
)

NODE_NAME = 'a2j_replay_pose_node'     # + a suffix unique to each replay
NAMESPACE = '/a2j_replay'              # + the same suffix: skeleton topics never mix
CLOCK_PERIOD_S = 0.025              # /clock at 40 Hz between frames, like `ros2 bag play`
MAX_DRAIN_S = 60.0                  # at most this long after the last frame for answers
_REPLAY_COUNTER = itertools.count()


class LiveReplayError(A2JError):
    """The pose node could not be started or never answered."""


def _message_class(msgtype):
    """Return the rclpy message class for a type name like ``sensor_msgs/msg/Image``."""
    package, _msg, name = msgtype.split('/')
    try:
        return getattr(importlib.import_module(f'{package}.msg'), name)
    except (ImportError, AttributeError):
        raise InputError(f'message type {msgtype} is not installed here '
                         f'(its Python package {package} cannot be imported)') from None


def played_depth_topic(topics, transport):
    """Return the topic the node's depth images are played on (raw name for compressedDepth)."""
    if transport == 'compressedDepth' and topics.depth.endswith(COMPRESSED_SUFFIX):
        return topics.depth[:-len(COMPRESSED_SUFFIX)]
    return topics.depth


def node_arguments(topics, checkpoint, roi_source, device, mode=None, extra_params=None,
                   node_name=NODE_NAME, namespace=NAMESPACE, depth_topic=None):
    """Return the ``--ros-args`` that start the pose node for this replay."""
    params = {'checkpoint': str(checkpoint), 'device': device, 'roi_source': roi_source,
              'use_sim_time': True}
    if mode:
        params['mode'] = mode
    params.update(extra_params or {})
    args = ['--ros-args', '-r', f'__node:={node_name}', '-r', f'__ns:={namespace}',
            '-r', f'depth/image:={depth_topic or topics.depth}',
            '-r', f'depth/camera_info:={topics.camera_info}']
    if topics.roi:
        args += ['-r', f'rois:={topics.roi}']
    for key, value in params.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        args += ['-p', f'{key}:={text}']
    return args


def _skeleton_outcome(index, msg, ground_truth, num_joints):
    skeletons = list(msg.skeletons)
    if not skeletons:
        return FrameOutcome.empty(index, 0, num_joints, ground_truth, received=True)
    xyz = np.array([[(p.x, p.y, p.z) for p in s.joints] for s in skeletons]) * 1000.0
    uvd = np.array([[(p.x, p.y, p.z * 1000.0) for p in s.joints_uvd] for s in skeletons])
    conf = np.array([list(s.confidence) for s in skeletons], dtype=np.float64)
    rois = np.array([(s.roi.x_offset, s.roi.y_offset, s.roi.width, s.roi.height)
                     for s in skeletons], dtype=np.int64)
    return FrameOutcome(index=index, stamp_ns=0, pred_xyz_mm=xyz, pred_uvd=uvd,
                        confidence=conf.reshape(len(skeletons), -1), rois=rois,
                        ground_truth=ground_truth,
                        track_ids=np.array([int(s.id) for s in skeletons], dtype=np.int64))


class _Recorder:
    """Keep every SkeletonArray in arrival order with its wall time and header stamp."""

    def __init__(self):
        self.lock = threading.Lock()
        self.answers = []                   # (arrival, stamp, msg)
        self.expected = set()               # stamps played so far (answers that count)

    def callback(self, msg):
        now = time.perf_counter()
        stamp = int(msg.header.stamp.sec) * 10**9 + int(msg.header.stamp.nanosec)
        with self.lock:
            self.answers.append((now, stamp, msg))

    def expect(self, stamp):
        with self.lock:
            self.expected.add(stamp)

    def matching(self):
        """Return how many answers carry the stamp of a played frame."""
        with self.lock:
            return sum(1 for _t, stamp, _m in self.answers if stamp in self.expected)


def _prepass(bag_path, topics, roi_source, max_frames, overlay_count):
    """Read the frames (stamps, truth, skip reasons) and a few depth images before playing."""
    frames, overlay = [], {}
    with BagReader(bag_path, topics) as bag:
        roi_source = resolve_roi_source(roi_source, bag)
        total = len(bag) if max_frames is None else min(len(bag), max_frames)
        wanted = overlay_indices(total, overlay_count)
        for frame in bag.frames(max_frames):
            if frame.index in wanted and frame.depth_mm is not None:
                overlay[frame.index] = frame.depth_mm
            frame.depth_mm = None           # keep stamps and truth, not every image
            frames.append(frame)
        record_bag = bag
    return frames, overlay, record_bag, roi_source


def _inprocess_node(context, args):
    from a2j_ros.ros import pose_node
    node_class = getattr(pose_node, 'PoseNode')
    return node_class(context=context, cli_args=list(args))


def replay_live(bag_path, checkpoint, topics=None, roi_source='topic', device='cpu', rate=1.0,
                node='subprocess', max_frames=None, overlay_count=6, depth_range_m=None,
                max_instances=1, startup_timeout_s=180.0, drain_s=3.0, domain_id=None,
                discovery='localhost', log_dir=None, extra_params=None, progress=True):
    """Play ``bag_path`` through the pose node; return a ReplayRecord (mode 'live').

    ``depth_range_m`` (near, far) and ``max_instances`` become the node's depth_min_m,
    depth_max_m and max_instances (defaults as offline replay, so both modes agree);
    ``extra_params`` are more node parameters. ``domain_id`` None takes a private domain;
    ``discovery`` 'localhost' keeps the replay's participants on this machine,
    'environment' uses the environment's discovery settings (to join a user's graph).
    ``startup_timeout_s`` bounds the wait for the node (which is then killed). The node's
    log goes to ``log_dir``/pose_node.log.
    """
    from a2j_ros.bag.offline_replay import DEFAULT_DEPTH_RANGE_M
    from a2j_ros.core.checkpoint import read_checkpoint
    from a2j_ros.core.layouts import get_layout

    check_live_options(rate, startup_timeout_s, domain_id, discovery)
    check_replay_options(max_frames, max_instances, overlay_count)
    if node not in ('subprocess', 'inprocess'):
        raise InputError(f'node must be subprocess or inprocess, got {node!r}')
    frames, overlay, bag, roi_source = _prepass(bag_path, topics, roi_source, max_frames,
                                                overlay_count)
    data = read_checkpoint(checkpoint)
    layout = get_layout(data['model_config']['layout'])
    crop_mode = (data.get('crop_config') or {}).get('mode', layout.kind)
    near_m, far_m = depth_range_m or DEFAULT_DEPTH_RANGE_M.get(crop_mode, (0.1, 1.5))
    params = {'depth_min_m': float(near_m), 'depth_max_m': float(far_m),
              'max_instances': int(max_instances)}
    params.update(extra_params or {})
    domain = choose_domain(domain_id)
    record = start_record(bag, 'live', layout.name, {
        'checkpoint': str(checkpoint), 'roi_source': roi_source, 'device': device,
        'rate': rate, 'node': node, 'depth_range_m': [near_m, far_m],
        'max_instances': int(max_instances), 'domain_id': domain, 'discovery': discovery})
    record.overlay_depth = overlay
    finish_record(record, bag, len(frames))
    suffix = f'{os.getpid()}_{next(_REPLAY_COUNTER)}'
    graph = _Graph(bag, frames, checkpoint, roi_source, device, params, suffix, domain,
                   discovery, Path(log_dir) if log_dir else Path.cwd())
    answers, sent = graph.run(node, rate, startup_timeout_s, drain_s, progress)
    if graph.child is not None:
        record.settings['node_log'] = str(graph.child.log_path)
    _fill_record(record, frames, layout, sent, answers)
    return record


class _Graph:
    """The player node, the pose node and the recorder of one live replay."""

    def __init__(self, bag, frames, checkpoint, roi_source, device, params, suffix, domain,
                 discovery, log_dir):
        self.bag, self.frames = bag, frames
        self.transport = bag.transport
        self.topics = bag.topics
        self.node_name = f'{NODE_NAME}_{suffix}'
        self.namespace = f'{NAMESPACE}_{suffix}'
        self.depth_topic = played_depth_topic(self.topics, self.transport)
        self.args = node_arguments(self.topics, checkpoint, roi_source, device,
                                   extra_params=params, node_name=self.node_name,
                                   namespace=self.namespace, depth_topic=self.depth_topic)
        self.suffix, self.domain, self.log_dir = suffix, domain, log_dir
        self.environment = graph_environment(domain, discovery)
        self.child = self.reader = None
        self.recorder = _Recorder()

    def run(self, node, rate, startup_timeout_s, drain_s, progress):
        """Start the graph, play the bag, wait for answers; return (answers, sent)."""
        import rclpy
        from rclpy.executors import MultiThreadedExecutor

        from a2j_ros.bag.reader import open_any_reader
        context = rclpy.context.Context()
        with scoped_environ(self.environment):
            rclpy.init(context=context, domain_id=self.domain)
        executor = player = pose_node = None
        try:
            player = rclpy.create_node(f'a2j_bag_player_{self.suffix}', context=context)
            executor = MultiThreadedExecutor(num_threads=2, context=context)
            executor.add_node(player)
            skeleton_sub = self._subscribe(player)
            if node == 'subprocess':
                self.child = PoseNodeProcess(self.args, child_environment(self.environment),
                                             self.log_dir / 'pose_node.log')
            else:
                pose_node = _inprocess_node(context, self.args)
                executor.add_node(pose_node)
            threading.Thread(target=executor.spin, daemon=True).start()
            self.reader = open_any_reader(self.bag.path)
            pubs, clock_pub = self._publishers(player)
            _wait_ready(player, self.node_name, self.namespace, list(pubs.values()),
                        skeleton_sub, self.child, pose_node, startup_timeout_s)
            sent = _play(self, pubs, clock_pub, rate, progress)
            _drain(self.recorder, len(sent), drain_s, self.child)
        finally:
            if self.reader is not None:
                self.reader.close()
            if self.child is not None:
                self.child.stop()
            _shutdown(rclpy, context, executor, (pose_node, player))
        with self.recorder.lock:
            return list(self.recorder.answers), sent

    def _subscribe(self, player):
        from a2j_ros_msgs.msg import SkeletonArray
        return player.create_subscription(SkeletonArray, f'{self.namespace}/skeletons',
                                          self.recorder.callback, _reliable())

    def _publishers(self, player):
        from rosgraph_msgs.msg import Clock
        from sensor_msgs.msg import Image
        types = {c.topic: c.msgtype for c in self._connections()}
        pubs = {}
        for topic, msgtype in types.items():
            if topic == self.topics.depth:
                pubs[topic] = player.create_publisher(Image, self.depth_topic, _reliable())
            else:
                pubs[topic] = player.create_publisher(_message_class(msgtype), topic,
                                                      _reliable())
        return pubs, player.create_publisher(Clock, '/clock', 10)

    def _connections(self):
        played = {t for t in (self.topics.depth, self.topics.camera_info, self.topics.roi) if t}
        return [c for c in self.reader.connections if c.topic in played]


def _reliable():
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=100,
                      reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.VOLATILE)


def _wait_ready(player, node_name, namespace, pubs, skeleton_sub, child, pose_node, timeout_s):
    """Wait until this replay's node subscribes to every played topic and publishes skeletons.

    A hard bound: after ``timeout_s`` the replay stops (the caller kills the node process).
    """
    def ours(infos):
        return any(i.node_name == node_name and i.node_namespace == namespace for i in infos)

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child is not None and not child.alive():
            raise LiveReplayError(f'the pose node exited with code {child.proc.returncode}'
                                  f'{child.tail()}')
        if pose_node is not None and getattr(pose_node, 'configure_error', ''):
            raise LiveReplayError(f'the pose node could not start: {pose_node.configure_error}')
        if (skeleton_sub.get_publisher_count() > 0
                and ours(player.get_publishers_info_by_topic(skeleton_sub.topic_name))
                and all(pub.get_subscription_count() > 0
                        and ours(player.get_subscriptions_info_by_topic(pub.topic_name))
                        for pub in pubs)):
            time.sleep(0.2)     # discovery is symmetric but not simultaneous
            return
        time.sleep(0.1)
    raise LiveReplayError(f'the pose node did not connect within {timeout_s:g} s '
                          f'(--startup-timeout){child.tail() if child else ""}')


def _image_message(msg, depth_mm, encoding):
    """Return an rclpy sensor_msgs/Image of decoded depth, with the bag message's header."""
    from builtin_interfaces.msg import Time
    from sensor_msgs.msg import Image
    from std_msgs.msg import Header
    encoding = encoding.split(';')[0].strip()
    if encoding == '32FC1':
        pixels = np.where(depth_mm > 0, depth_mm / 1000.0, np.nan).astype('<f4')
    else:
        pixels = np.rint(depth_mm).astype('<u2')
    stamp = Time(sec=int(msg.header.stamp.sec), nanosec=int(msg.header.stamp.nanosec))
    height, width = pixels.shape
    return Image(header=Header(stamp=stamp, frame_id=msg.header.frame_id), height=height,
                 width=width, encoding=encoding, is_bigendian=0,
                 step=width * pixels.itemsize, data=pixels.tobytes())


def _play(graph, pubs, clock_pub, rate, progress):
    """Publish the bag at the recorded pace; return {frame index: publish time}.

    Depth frames the prepass found unplayable and other messages that do not deserialise
    are not published; compressedDepth images are published decoded.
    """
    from builtin_interfaces.msg import Time
    from rosgraph_msgs.msg import Clock
    from tqdm import tqdm

    def clock(ns):
        clock_pub.publish(Clock(clock=Time(sec=ns // 10**9, nanosec=ns % 10**9)))

    frames, reader, depth_topic = graph.frames, graph.reader, graph.topics.depth
    unplayable = {f.index for f in frames if f.skip_kind in UNPLAYABLE}
    sent, ordinal, start_wall, first_log = {}, 0, None, None
    bar = tqdm(total=len(frames), desc='live replay', unit='frame', disable=not progress)
    messages = iter(reader.messages(connections=graph._connections()))
    try:
        while ordinal < len(frames):
            try:
                conn, log_time, raw = next(messages)
            except StopIteration:
                break
            except Exception:  # noqa: B902 - damaged storage: the prepass reported it
                break
            if first_log is None:
                first_log, start_wall = log_time, time.perf_counter()
            due = start_wall + (log_time - first_log) / 1e9 / rate
            while True:
                now = time.perf_counter()
                if now >= due:
                    break
                clock(first_log + int((now - start_wall) * rate * 1e9))
                time.sleep(min(CLOCK_PERIOD_S, due - now))
            clock(log_time)
            if conn.topic != depth_topic:
                try:
                    reader.deserialize(raw, conn.msgtype)
                except Exception:  # noqa: B902 - corrupt: skipped (and counted) offline too
                    continue
                pubs[conn.topic].publish(bytes(raw))
                continue
            index, ordinal = ordinal, ordinal + 1
            bar.update(1)
            if index in unplayable:
                continue
            if graph.transport == 'compressedDepth':
                msg = reader.deserialize(raw, conn.msgtype)
                pubs[conn.topic].publish(_image_message(
                    msg, depth_from_msg(msg, graph.transport), msg.format))
            else:
                pubs[conn.topic].publish(bytes(raw))
            graph.recorder.expect(frames[index].stamp_ns)
            sent[index] = time.perf_counter()
    finally:
        bar.close()
    return sent


def _drain(recorder, total, drain_s, child):
    """Wait for late answers: all in, none new for ``drain_s`` s, or MAX_DRAIN_S at most."""
    start = last_change = time.monotonic()
    last_count = recorder.matching()
    while last_count < total and time.monotonic() - last_change < drain_s \
            and time.monotonic() - start < MAX_DRAIN_S:
        time.sleep(0.05)
        count = recorder.matching()
        if count != last_count:
            last_count, last_change = count, time.monotonic()
        if child is not None and not child.alive():
            break


def _shutdown(rclpy, context, executor, nodes, timeout_s=10.0):
    """Tear the replay's ROS side down in a thread, so a stuck DDS call cannot hang us."""
    def work():
        if executor is not None:
            executor.shutdown(timeout_sec=2.0)
        for ros_node in nodes:
            if ros_node is not None:
                ros_node.destroy_node()
        rclpy.shutdown(context=context)
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(timeout_s)


def _fill_record(record, frames, layout, sent, answers):
    pairs, unmatched = pair_answers(frames, sent, answers)
    last = None
    for frame in frames:
        if frame.skip_kind in UNPLAYABLE:
            record.frames.append(FrameOutcome.skipped(frame, layout.num_joints))
        elif frame.index not in sent:
            record.frames.append(FrameOutcome.skipped(
                frame, layout.num_joints, 'not_played', 'not played: the bag could not be '
                'read this far'))
        elif frame.index in pairs:
            arrived, msg = pairs[frame.index]
            outcome = _skeleton_outcome(frame.index, msg, frame.ground_truth,
                                        layout.num_joints)
            outcome.stamp_ns = frame.stamp_ns
            outcome.latency_s = arrived - sent[frame.index]
            record.frames.append(outcome)
            last = arrived if last is None else max(last, arrived)
        elif frame.skip_kind:       # the node, like offline replay, could not estimate it
            record.frames.append(FrameOutcome.skipped(frame, layout.num_joints))
        else:
            record.frames.append(FrameOutcome.empty(frame.index, frame.stamp_ns,
                                                    layout.num_joints, frame.ground_truth))
    if sent and last is not None:
        record.wall_time_s = last - min(sent.values())
    stamps = [f.stamp_ns for f in frames]
    record.extra['live_pairing'] = {
        'answers_received': len(answers), 'answers_paired': len(pairs),
        'answers_unpaired': unmatched, 'frames_played': len(sent),
        'frames_sharing_a_stamp': len(stamps) - len(set(stamps)),
        'rule': 'the k-th answer with a stamp answers the k-th frame played with that stamp'}


__all__ = ['LiveReplayError', 'check_live_options', 'node_arguments', 'played_depth_topic',
           'replay_live']
