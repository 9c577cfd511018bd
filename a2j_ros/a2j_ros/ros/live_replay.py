"""Live replay: play a bag through a running pose node over DDS and record what it publishes.

Like ``ros2 bag play --clock``: the bag's raw CDR messages are published unchanged on their
recorded topics at the recorded rate (scaled by ``rate``), with ``/clock`` carrying the bag's
time, so the node runs with ``use_sim_time``. The pose node runs as a separate process
(``node='subprocess'``, the default: the node over DDS exactly as deployed) or in this process
(``node='inprocess'``). Every SkeletonArray it publishes is recorded; its header stamp names
the depth frame it answers. End-to-end latency = the wall time from publishing a depth image
to receiving its skeletons; a depth frame without an answer counts as dropped.
"""
import importlib
import itertools
import os
from pathlib import Path
import signal
import subprocess
import sys
import threading
import time

import numpy as np

from a2j_ros.bag.offline_replay import overlay_indices
from a2j_ros.bag.reader import BagReader
from a2j_ros.bag.replay_record import FrameOutcome, ReplayRecord
from a2j_ros.core.errors import A2JError, InputError

NODE_NAME = 'a2j_replay_pose_node'     # + a suffix unique to each replay
NAMESPACE = '/a2j_replay'
CLOCK_PERIOD_S = 0.025              # /clock at 40 Hz between frames, like `ros2 bag play`
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


def node_arguments(topics, checkpoint, roi_source, device, mode=None, extra_params=None,
                   node_name=NODE_NAME):
    """Return the ``--ros-args`` that start the pose node for this replay."""
    params = {'checkpoint': str(checkpoint), 'device': device, 'roi_source': roi_source,
              'use_sim_time': True}
    if mode:
        params['mode'] = mode
    params.update(extra_params or {})
    args = ['--ros-args', '-r', f'__node:={node_name}', '-r', f'__ns:={NAMESPACE}',
            '-r', f'depth/image:={topics.depth}', '-r', f'depth/camera_info:={topics.camera_info}']
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
                        ground_truth=ground_truth)


class _Recorder:
    """Keep every SkeletonArray with the wall time it arrived, keyed by header stamp."""

    def __init__(self):
        self.lock = threading.Lock()
        self.received = {}

    def callback(self, msg):
        now = time.perf_counter()
        stamp = int(msg.header.stamp.sec) * 10**9 + int(msg.header.stamp.nanosec)
        with self.lock:
            self.received.setdefault(stamp, (now, msg))

    def count(self):
        with self.lock:
            return len(self.received)


def _prepass(bag_path, topics, max_frames, overlay_count):
    """Read stamps, ground truth and a few depth images (for overlays) before playing."""
    stamps, truths, overlay = [], [], {}
    with BagReader(bag_path, topics) as bag:
        total = len(bag) if max_frames is None else min(len(bag), max_frames)
        wanted = overlay_indices(total, overlay_count)
        for frame in bag.frames(max_frames):
            stamps.append(frame.stamp_ns)
            truths.append(frame.ground_truth)
            if frame.index in wanted:
                overlay[frame.index] = frame.depth_mm
        resolved = bag.topics
    return stamps, truths, overlay, resolved


class _PoseNodeProcess:
    """The pose node in its own process; stdout and stderr go to ``log_path``."""

    def __init__(self, args, env, log_path):
        self.log_path = Path(log_path)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, 'w')
        code = 'import sys; from a2j_ros.ros.pose_node import main; sys.exit(main())'
        self.proc = subprocess.Popen([sys.executable, '-c', code] + args, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT)

    def alive(self):
        return self.proc.poll() is None

    def tail(self, lines=15):
        try:
            return '\n'.join(self.log_path.read_text().splitlines()[-lines:])
        except OSError:
            return ''

    def stop(self):
        """End the node as ``ros2 launch`` does: SIGINT, then SIGTERM, then SIGKILL."""
        for send, wait_s in ((lambda: self.proc.send_signal(signal.SIGINT), 10.0),
                             (self.proc.terminate, 5.0), (self.proc.kill, 5.0)):
            if not self.alive():
                break
            send()
            try:
                self.proc.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                continue
        self._log.close()


def _inprocess_node(context, args):
    from a2j_ros.ros import pose_node
    node_class = getattr(pose_node, 'PoseNode')
    return node_class(context=context, cli_args=list(args))


def replay_live(bag_path, checkpoint, topics, roi_source='topic', device='cpu', rate=1.0,
                node='subprocess', max_frames=None, overlay_count=6, depth_range_m=None,
                max_instances=1, startup_timeout_s=180.0, drain_s=3.0, domain_id=None,
                log_dir=None, extra_params=None, progress=True):
    """Play ``bag_path`` through the pose node; return a ReplayRecord (mode 'live').

    ``depth_range_m`` (near, far) and ``max_instances`` become the node's depth_min_m,
    depth_max_m and max_instances (defaults as offline replay, so both modes agree);
    ``extra_params`` are more node parameters. ``domain_id`` isolates the replay's DDS
    traffic (ROS_DOMAIN_ID). The node's log goes to ``log_dir``/pose_node.log.
    """
    import rclpy
    from rclpy.executors import MultiThreadedExecutor
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
    from rosbags.highlevel import AnyReader
    from rosgraph_msgs.msg import Clock

    from a2j_ros.bag.typestore import default_typestore
    from a2j_ros.core.checkpoint import read_checkpoint
    from a2j_ros.core.layouts import get_layout

    if rate <= 0:
        raise InputError(f'--rate must be > 0, got {rate}')
    if node not in ('subprocess', 'inprocess'):
        raise InputError(f'node must be subprocess or inprocess, got {node!r}')
    from a2j_ros.bag.offline_replay import DEFAULT_DEPTH_RANGE_M
    data = read_checkpoint(checkpoint)
    layout = get_layout(data['model_config']['layout'])
    crop_mode = (data.get('crop_config') or {}).get('mode', layout.kind)
    near_m, far_m = depth_range_m or DEFAULT_DEPTH_RANGE_M.get(crop_mode, (0.1, 1.5))
    params = {'depth_min_m': float(near_m), 'depth_max_m': float(far_m),
              'max_instances': int(max_instances)}
    params.update(extra_params or {})
    stamps, truths, overlay, topics = _prepass(bag_path, topics, max_frames, overlay_count)
    if not stamps:
        raise InputError(f'bag {bag_path} has no depth frames on {topics.depth}')
    if roi_source == 'topic' and not topics.roi:
        raise InputError(f'bag {bag_path} has no ROI topic; use --roi-source nearest or '
                         'full_frame, or name it with --roi-topic')
    # A name of its own, so endpoints of other pose nodes (another replay, a user's node,
    # a node just shut down in this process) are never taken for this one.
    node_name = f'{NODE_NAME}_{os.getpid()}_{next(_REPLAY_COUNTER)}'
    args = node_arguments(topics, checkpoint, roi_source, device, extra_params=params,
                          node_name=node_name)
    env = dict(os.environ)
    if domain_id is not None:
        env['ROS_DOMAIN_ID'] = str(int(domain_id))
    log_dir = Path(log_dir) if log_dir else Path.cwd()

    context = rclpy.context.Context()
    init_kwargs = {'domain_id': int(domain_id)} if domain_id is not None else {}
    rclpy.init(context=context, **init_kwargs)
    child = executor = player = pose_node = None
    try:
        player = rclpy.create_node(f'a2j_bag_player_{node_name[len(NODE_NAME) + 1:]}',
                                   context=context)
        executor = MultiThreadedExecutor(num_threads=2, context=context)
        executor.add_node(player)
        recorder = _Recorder()
        from a2j_ros_msgs.msg import SkeletonArray
        reliable = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=100,
                              reliability=ReliabilityPolicy.RELIABLE,
                              durability=DurabilityPolicy.VOLATILE)
        skeleton_sub = player.create_subscription(SkeletonArray, f'{NAMESPACE}/skeletons',
                                                  recorder.callback, reliable)
        played = {t: c for t, c in (('depth', topics.depth), ('info', topics.camera_info),
                                    ('roi', topics.roi)) if c}
        if node == 'subprocess':
            child = _PoseNodeProcess(args, env, log_dir / 'pose_node.log')
        else:
            pose_node = _inprocess_node(context, args)
            executor.add_node(pose_node)
        spinner = threading.Thread(target=executor.spin, daemon=True)
        spinner.start()
        with AnyReader([Path(bag_path)], default_typestore=default_typestore()) as reader:
            conns = [c for c in reader.connections if c.topic in played.values()]
            pubs = {c.topic: player.create_publisher(_message_class(c.msgtype), c.topic,
                                                     reliable) for c in conns}
            clock_pub = player.create_publisher(Clock, '/clock', 10)
            _wait_ready(player, node_name, list(pubs.values()), skeleton_sub, child, pose_node,
                        startup_timeout_s)
            sent = _play(reader, conns, pubs, clock_pub, topics.depth, len(stamps), rate,
                         progress)
        _drain(recorder, len(stamps), drain_s, child)
    finally:
        if child is not None:
            child.stop()
        if executor is not None:
            executor.shutdown(timeout_sec=2.0)
        for ros_node in (pose_node, player):
            if ros_node is not None:
                ros_node.destroy_node()
        rclpy.shutdown(context=context)
    return _record(bag_path, layout, stamps, truths, overlay, sent, recorder, topics,
                   {'checkpoint': str(checkpoint), 'roi_source': roi_source, 'device': device,
                    'rate': rate, 'node': node, 'node_log': str(child.log_path) if child else '',
                    'depth_range_m': [near_m, far_m], 'max_instances': int(max_instances),
                    'topics': vars(topics).copy()})


def _wait_ready(player, node_name, pubs, skeleton_sub, child, pose_node, timeout_s):
    """Wait until this replay's node subscribes to every played topic and publishes skeletons."""
    def ours(infos):
        return any(i.node_name == node_name and i.node_namespace == NAMESPACE for i in infos)

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child is not None and not child.alive():
            raise LiveReplayError(f'the pose node exited with code {child.proc.returncode}; '
                                  f'its log ({child.log_path}) ends with:\n{child.tail()}')
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
    tail = f'; its log ({child.log_path}) ends with:\n{child.tail()}' if child else ''
    raise LiveReplayError(f'the pose node did not connect within {timeout_s:.0f} s{tail}')


def _play(reader, conns, pubs, clock_pub, depth_topic, total, rate, progress):
    """Publish the bag's messages at the recorded pace; return {frame index: publish time}."""
    from builtin_interfaces.msg import Time
    from rosgraph_msgs.msg import Clock
    from tqdm import tqdm

    def clock(ns):
        clock_pub.publish(Clock(clock=Time(sec=ns // 10**9, nanosec=ns % 10**9)))

    sent = {}
    start_wall = None
    first_log = None
    bar = tqdm(total=total, desc='live replay', unit='frame', disable=not progress)
    try:
        for conn, log_time, raw in reader.messages(connections=conns):
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
            pubs[conn.topic].publish(bytes(raw))
            if conn.topic == depth_topic:
                sent[len(sent)] = time.perf_counter()
                bar.update(1)
                if len(sent) >= total:
                    break
    finally:
        bar.close()
    return sent


def _drain(recorder, total, drain_s, child):
    """Wait for late answers: until all arrived or none came for ``drain_s`` seconds."""
    last_count, last_change = recorder.count(), time.monotonic()
    while recorder.count() < total and time.monotonic() - last_change < drain_s:
        time.sleep(0.05)
        if recorder.count() != last_count:
            last_count, last_change = recorder.count(), time.monotonic()
        if child is not None and not child.alive():
            break


def _record(bag_path, layout, stamps, truths, overlay, sent, recorder, topics, settings):
    record = ReplayRecord(bag=str(bag_path), mode='live', layout=layout.name,
                          overlay_depth=overlay, settings=settings)
    with recorder.lock:
        received = dict(recorder.received)
    last = None
    for index, stamp in enumerate(stamps):
        truth = truths[index]
        if index not in sent or stamp not in received:
            record.frames.append(FrameOutcome.empty(index, stamp, layout.num_joints, truth))
            continue
        arrived, msg = received[stamp]
        outcome = _skeleton_outcome(index, msg, truth, layout.num_joints)
        outcome.stamp_ns = stamp
        outcome.latency_s = arrived - sent[index]
        record.frames.append(outcome)
        last = arrived if last is None else max(last, arrived)
    if sent and last is not None:
        record.wall_time_s = last - min(sent.values())
    return record


__all__ = ['LiveReplayError', 'node_arguments', 'replay_live']
