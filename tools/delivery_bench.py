"""Measure how many sensor_msgs/Image frames cross from one process to another over DDS.

``python tools/delivery_bench.py`` (a development tool, not installed with the package)
starts a publisher process and a subscriber process (each with its own rclpy Context) in a
private ``ROS_DOMAIN_ID`` on a topic of its own, with the Fast DDS builtin transports
chosen by ``--transport`` (``FASTDDS_BUILTIN_TRANSPORTS``).
Discovery stays on 127.0.0.1 through a Fast DDS profile, not through
``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST``: there rmw_fastrtps installs its own SHM + UDPv4
transports and ignores the variable (``--discovery ros_localhost`` measures that case).
Once both ends report a match, the publisher sends ``--frames`` images at ``--rate`` Hz;
``header.frame_id`` holds the sequence number, ``header.stamp`` the wall time just before
``publish()``, and the first 4 bytes of ``data`` the sequence number again (payload check).
The report: frames received / sent, latency p50 / p95 (publish stamp -> subscriber callback,
same machine clock: serialisation, transport, deserialisation and dispatch) and the delivered
throughput in MB/s. ``--matrix`` runs VGA and QVGA x best-effort / reliable subscriber x
default / LARGE_DATA / UDPv4 transports (+ LARGE_DATA under ros_localhost) and prints a table
(docs/transport.md, tools/README.md).

Every wait is bounded; the child processes are killed if they do not exit in time.
"""
import argparse
from dataclasses import asdict, dataclass, replace
import json
import os
import platform
import queue
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from a2j_ros.core.errors import A2JError, InputError
from a2j_ros.core.stats import percentile
from a2j_ros.core.text_table import format_table

# bytes per pixel of the encodings a depth or colour camera publishes (REP 118, sensor_msgs)
ENCODING_BYTES = {'16UC1': 2, 'mono16': 2, '32FC1': 4, 'mono8': 1, '8UC1': 1,
                  'rgb8': 3, 'bgr8': 3, 'rgba8': 4, 'bgra8': 4}
RELIABILITIES = ('reliable', 'best_effort')
# default = Fast DDS' own (SHM + UDPv4): the variable is removed in the child processes
TRANSPORTS = ('default', 'LARGE_DATA', 'SHM', 'UDPv4')
# loopback: the transport as chosen, discovery kept on 127.0.0.1 by a Fast DDS profile;
# ros_localhost: ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST, where rmw_fastrtps replaces the
# builtin transports by its own SHM + UDPv4 and so ignores FASTDDS_BUILTIN_TRANSPORTS
DISCOVERY_MODES = ('loopback', 'ros_localhost')
MATRIX_SIZES = ((640, 480), (320, 240))
MATRIX_SUB_RELIABILITIES = ('best_effort', 'reliable')
# (transport, discovery) per row; the last row is what env.sh gives a LOCALHOST user
MATRIX_TRANSPORTS = (('default', 'loopback'), ('LARGE_DATA', 'loopback'),
                     ('UDPv4', 'loopback'), ('LARGE_DATA', 'ros_localhost'))
PROFILE_NAME = 'loopback_discovery.xml'
# columns of the results table: (key, header, format)
RESULT_COLUMNS = [('image', 'image', None), ('kb', 'KB', '{:.0f}'), ('rate', 'rate Hz', '{:g}'),
                  ('publisher', 'publisher', None), ('subscriber', 'subscriber', None),
                  ('transport', 'transport', None), ('discovery', 'discovery', None),
                  ('received_of', 'received', None), ('latency_p50_ms', 'p50 ms', '{:.1f}'),
                  ('latency_p95_ms', 'p95 ms', '{:.1f}'), ('throughput_mbs', 'MB/s', '{:.1f}'),
                  ('note', 'note', None)]
SCRIPT = os.path.abspath(__file__)  # the child processes run this file (cwd is a temp folder)
# Participant discovery by unicast to 127.0.0.1 only: no multicast locator, so nothing leaves
# the host, while the data transports stay the ones FASTDDS_BUILTIN_TRANSPORTS selects.
LOOPBACK_PROFILE = """<?xml version="1.0" encoding="UTF-8" ?>
<dds xmlns="http://www.eprosima.com">
  <profiles>
    <participant profile_name="a2j_delivery_bench" is_default_profile="true">
      <rtps>
        <builtin>
          <metatrafficUnicastLocatorList>
            <locator><udpv4><address>127.0.0.1</address></udpv4></locator>
          </metatrafficUnicastLocatorList>
          <initialPeersList>
            <locator><udpv4><address>127.0.0.1</address></udpv4></locator>
          </initialPeersList>
        </builtin>
      </rtps>
    </participant>
  </profiles>
</dds>
"""
SEQ_BYTES = 4                       # little-endian uint32 sequence number at the data's start
MB = 1e6


class DeliveryBenchError(A2JError):
    """A bench process could not be started or broke its protocol."""


@dataclass(frozen=True)
class BenchCase:
    """One measured configuration: image, rate, QoS of both ends and the Fast DDS transport."""

    width: int = 640
    height: int = 480
    encoding: str = '16UC1'
    frames: int = 50
    rate: float = 30.0                  # Hz; 0 = as fast as the publisher can
    pub_reliability: str = 'reliable'
    sub_reliability: str = 'best_effort'
    transport: str = 'default'         # both processes, unless pub_transport is set
    pub_transport: str = ''             # the publisher's own, e.g. a camera driver started apart
    depth: int = 10                     # KEEP_LAST history depth of both ends
    discovery: str = 'loopback'         # see DISCOVERY_MODES

    @property
    def frame_bytes(self):
        """Return the size of one image's data in bytes (no row padding)."""
        return self.width * self.height * ENCODING_BYTES[self.encoding]

    def validate(self):
        """Raise InputError naming the first setting that cannot be measured."""
        if self.encoding not in ENCODING_BYTES:
            raise InputError(f'encoding {self.encoding!r} is not supported; expected one of '
                             f'{", ".join(ENCODING_BYTES)}')
        if self.width < 1 or self.height < 1 or self.frame_bytes < SEQ_BYTES:
            raise InputError(f'image {self.width}x{self.height} {self.encoding} is too small: '
                             f'it must hold at least {SEQ_BYTES} bytes')
        if not 1 <= self.frames <= 100000:
            raise InputError(f'frames must be 1..100000, got {self.frames}')
        if not 0 <= self.rate <= 10000:
            raise InputError(f'rate must be 0..10000 Hz (0 = as fast as possible), '
                             f'got {self.rate}')
        for name in ('pub_reliability', 'sub_reliability'):
            if getattr(self, name) not in RELIABILITIES:
                raise InputError(f'{name} must be one of {", ".join(RELIABILITIES)}, '
                                 f'got {getattr(self, name)!r}')
        for transport in filter(None, (self.transport, self.pub_transport)):
            if transport.split('?')[0] not in TRANSPORTS:
                raise InputError(f'transport {transport!r} is not one of '
                                 f'{", ".join(TRANSPORTS)} (LARGE_DATA?options is allowed)')
            if '?' in transport and not transport.startswith('LARGE_DATA?'):
                raise InputError('only LARGE_DATA takes ?options, e.g. '
                                 'LARGE_DATA?max_msg_size=1MB')
        if not 1 <= self.depth <= 1000:
            raise InputError(f'depth (QoS history) must be 1..1000, got {self.depth}')
        if self.discovery not in DISCOVERY_MODES:
            raise InputError(f'discovery must be one of {", ".join(DISCOVERY_MODES)}, '
                             f'got {self.discovery!r}')
        return self


@dataclass(frozen=True)
class Timeouts:
    """Bounds of every wait, in seconds."""

    discovery: float = 15.0             # both ends matched
    ack: float = 5.0                    # reliable publisher: all frames acknowledged
    grace: float = 2.0                  # subscriber keeps listening after the last publish
    shutdown: float = 5.0               # a child exits after being told to stop


def transport_of(case, role):
    """Return the FASTDDS_BUILTIN_TRANSPORTS choice of the ``pub`` or ``sub`` process."""
    return case.pub_transport if role == 'pub' and case.pub_transport else case.transport


def child_env(case, domain_id, work_dir, base=None, role='sub'):
    """Return the environment of a bench child: Fast DDS, private domain, host-local.

    ``loopback`` discovery: range SYSTEM_DEFAULT (rmw_fastrtps leaves Fast DDS alone) with
    the LOOPBACK_PROFILE written into ``work_dir``; the SHM-only transport needs no profile
    (it cannot leave the host and has no UDP for the profile's locators). ``ros_localhost``:
    range LOCALHOST, as a user who sets it gets. User profiles and peers are dropped.
    """
    env = dict(os.environ if base is None else base)
    for name in ('ROS_LOCALHOST_ONLY', 'ROS_STATIC_PEERS', 'FASTDDS_BUILTIN_TRANSPORTS',
                 'FASTDDS_DEFAULT_PROFILES_FILE', 'FASTRTPS_DEFAULT_PROFILES_FILE',
                 'RMW_FASTRTPS_USE_QOS_FROM_XML', 'ROS_DISCOVERY_SERVER'):
        env.pop(name, None)
    env['RMW_IMPLEMENTATION'] = 'rmw_fastrtps_cpp'
    env['ROS_DOMAIN_ID'] = str(int(domain_id))
    env['ROS_LOG_DIR'] = str(work_dir)
    env['PYTHONUNBUFFERED'] = '1'
    transport = transport_of(case, role)
    if transport != 'default':
        env['FASTDDS_BUILTIN_TRANSPORTS'] = transport
    if case.discovery == 'ros_localhost':
        env['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
    else:
        env['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'SYSTEM_DEFAULT'
        if transport != 'SHM':
            profile = os.path.join(str(work_dir), PROFILE_NAME)
            with open(profile, 'w') as out:
                out.write(LOOPBACK_PROFILE)
            env['FASTDDS_DEFAULT_PROFILES_FILE'] = profile
    return env


def summarize(case, sent_stamps_ns, received):
    """Return the delivery figures of one run.

    ``sent_stamps_ns`` lists the publish stamp of every frame sent (index = sequence number);
    ``received`` lists ``(seq, stamp_ns, recv_ns, nbytes, payload_ok)`` per callback. A frame
    counts as received once (later copies are duplicates) and only with an intact payload.
    """
    sent = len(sent_stamps_ns)
    first = {}
    duplicates = corrupt = 0
    for seq, stamp_ns, recv_ns, nbytes, payload_ok in received:
        if not (payload_ok and nbytes == case.frame_bytes and 0 <= seq < sent
                and stamp_ns == sent_stamps_ns[seq]):
            corrupt += 1
        elif seq in first:
            duplicates += 1
        else:
            first[seq] = (stamp_ns, recv_ns)
    latencies_ms = [(recv - stamp) / 1e6 for stamp, recv in first.values()]
    got = len(first)
    throughput = None
    if got and sent:
        window_s = (max(recv for _s, recv in first.values()) - sent_stamps_ns[0]) / 1e9
        throughput = got * case.frame_bytes / MB / window_s if window_s > 0 else None
    return {'sent': sent, 'received': got, 'lost': sent - got,
            'delivered': got / sent if sent else 0.0, 'duplicates': duplicates,
            'corrupt': corrupt,
            'latency_p50_ms': percentile(latencies_ms, 50),
            'latency_p95_ms': percentile(latencies_ms, 95),
            'latency_max_ms': max(latencies_ms) if latencies_ms else None,
            'throughput_mbs': throughput, 'latencies_ms': latencies_ms}


def combine_runs(runs):
    """Return one summary of repeated runs of the same case.

    Counts add up, latency percentiles are over every frame of every run, throughput is
    the mean of the runs, and ``delivered_min`` / ``delivered_max`` show the spread.
    """
    first = runs[0]
    latencies = [x for r in runs for x in r['latencies_ms']]
    sent = sum(r['sent'] for r in runs)
    received = sum(r['received'] for r in runs)
    rates = [r['throughput_mbs'] for r in runs if r['throughput_mbs'] is not None]
    errors = sorted({r['error'] for r in runs if r['error']})
    return {'case': first['case'], 'frame_bytes': first['frame_bytes'], 'runs': len(runs),
            'matched': all(r['matched'] for r in runs), 'error': '; '.join(errors) or None,
            'sent': sent, 'received': received, 'lost': sum(r['lost'] for r in runs),
            'delivered': received / sent if sent else 0.0,
            'delivered_min': min(r['delivered'] for r in runs),
            'delivered_max': max(r['delivered'] for r in runs),
            'duplicates': sum(r['duplicates'] for r in runs),
            'corrupt': sum(r['corrupt'] for r in runs),
            'latency_p50_ms': percentile(latencies, 50),
            'latency_p95_ms': percentile(latencies, 95),
            'latency_max_ms': max(latencies) if latencies else None,
            'throughput_mbs': sum(rates) / len(rates) if rates else None,
            'per_run': runs}


# --------------------------------------------------------------------------- parent side

class _Child:
    """One bench process: JSON events from its stdout, commands to its stdin, stderr kept."""

    def __init__(self, role, case, topic, env, work_dir, timeouts, total_s):
        cmd = [sys.executable, SCRIPT, '--role', role,
               '--topic', topic, '--child-timeout', f'{total_s:.1f}',
               '--ack-timeout', str(timeouts.ack), *case_arguments(case)]
        self.role = role
        self.events = queue.Queue()
        self.stderr = []
        try:
            self.proc = subprocess.Popen(cmd, env=env, cwd=work_dir, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         text=True, bufsize=1)
        except OSError as exc:
            raise DeliveryBenchError(f'cannot start the {role} process '
                                     f'({sys.executable}): {exc}') from None
        threading.Thread(target=self._read_events, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_events(self):
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                self.stderr.append(line.rstrip())
                continue
            if isinstance(event, dict) and 'event' in event:
                self.events.put(event)
        self.events.put({'event': 'exit'})

    def _read_stderr(self):
        for line in self.proc.stderr:
            self.stderr.append(line.rstrip())
            del self.stderr[:-40]

    def wait_event(self, name, timeout):
        """Return the next event called ``name``; None on timeout or if the child exited."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                return None
            if event['event'] == name:
                return event
            if event['event'] in ('exit', 'error'):
                self.events.put(event)     # keep it for the next waiter and the report
                return None

    def send(self, line):
        """Write one command line to the child; ignore a child that is gone."""
        try:
            self.proc.stdin.write(line + '\n')
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass

    def failure(self):
        """Return why this child failed, from its error event or its stderr."""
        while not self.events.empty():
            event = self.events.get_nowait()
            if event['event'] == 'error':
                return event['error']
        code = self.proc.poll()
        tail = ' | '.join(line for line in self.stderr[-3:] if line)
        status = f'exited with {code}' if code is not None else 'still running'
        return f'{self.role} {status}' + (f': {tail}' if tail else '')

    def stop(self, timeout):
        """Close stdin, wait up to ``timeout`` s, then terminate and kill; always reaps."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        for signal_child in (None, self.proc.terminate, self.proc.kill):
            if signal_child is not None:
                signal_child()
            try:
                self.proc.wait(timeout=timeout if signal_child is None else 2.0)
                return
            except subprocess.TimeoutExpired:
                continue


def case_arguments(case):
    """Return the command-line options that rebuild ``case`` in a child."""
    return ['--width', str(case.width), '--height', str(case.height),
            '--encoding', case.encoding, '--frames', str(case.frames),
            '--rate', str(case.rate), '--pub-reliability', case.pub_reliability,
            '--sub-reliability', case.sub_reliability, '--transport', case.transport,
            '--depth', str(case.depth), '--discovery', case.discovery,
            '--pub-transport', case.pub_transport]


def run_case(case, timeouts=Timeouts(), domain_id=None):
    """Run one publisher -> subscriber measurement; return its summary dict.

    A run that cannot match (e.g. a best-effort publisher and a reliable subscriber, an
    incompatible QoS) or whose child fails returns ``matched`` False / ``error`` set, with
    every frame counted as lost; it does not raise.
    """
    case.validate()
    domain_id = random.SystemRandom().randint(1, 99) if domain_id is None else int(domain_id)
    topic = f'/a2j_delivery_bench/t{os.getpid()}_{random.SystemRandom().randrange(1 << 30)}'
    send_s = case.frames / case.rate if case.rate else case.frames * 0.05
    total = timeouts.discovery + send_s + timeouts.ack + timeouts.grace + 10.0
    result = {'case': asdict(case), 'frame_bytes': case.frame_bytes, 'domain_id': domain_id,
              'matched': False, 'error': None, 'all_acked': None}
    result.update(summarize(case, [], []), lost=case.frames)   # until frames are sent
    # ROS logs, the Fast DDS profile and the children's working directory (so that no
    # DEFAULT_FASTDDS_PROFILES.xml of the caller's directory is picked up)
    work_dir = tempfile.mkdtemp(prefix='a2j_delivery_')
    children = []
    started = time.monotonic()
    try:
        for role in ('sub', 'pub'):
            env = child_env(case, domain_id, work_dir, role=role)
            children.append(_Child(role, case, topic, env, work_dir, timeouts, total))
        sub, pub = children
        deadline = time.monotonic() + timeouts.discovery
        ready = [child.wait_event('ready', max(0.0, deadline - time.monotonic()))
                 for child in children]
        if not all(ready):
            failed = [c for c, r in zip(children, ready) if r is None]
            gone = [c for c in failed if c.proc.poll() is not None]
            result['error'] = gone[0].failure() if gone else _no_match(case, timeouts)
            return result
        result['matched'] = True
        pub.send('go')
        done = pub.wait_event('done', send_s * 3 + timeouts.ack + 10.0)
        sub.send(f'finish {timeouts.grace}')
        got = sub.wait_event('result', timeouts.grace + 10.0)
        if done is None or got is None:
            result['error'] = (pub if done is None else sub).failure()
            return result
        result.update(summarize(case, done['stamps_ns'], got['received']))
        result['all_acked'] = done['all_acked']
        result['publish_ms_p50'] = percentile(done['publish_ms'], 50)
        return result
    finally:
        for child in children:
            child.send('stop')
        for child in children:
            child.stop(timeouts.shutdown)
        shutil.rmtree(work_dir, ignore_errors=True)
        result['wall_s'] = round(time.monotonic() - started, 2)


def _no_match(case, timeouts):
    """Return why two live children never matched."""
    text = f'no match within {timeouts.discovery:g} s'
    if case.pub_reliability == 'best_effort' and case.sub_reliability == 'reliable':
        return text + ': incompatible QoS (best_effort publisher, reliable subscriber)'
    return text + ' (discovery failed)'


def matrix_cases(base):
    """Return the cases of ``--matrix``: sizes x subscriber QoS x transports, rest from base."""
    return [replace(base, width=w, height=h, sub_reliability=sub, transport=transport,
                    discovery=discovery)
            for (w, h) in MATRIX_SIZES for sub in MATRIX_SUB_RELIABILITIES
            for transport, discovery in MATRIX_TRANSPORTS]


def format_results(results):
    """Return a Markdown table of run results, one row per case."""
    rows = []
    for r in results:
        c = r['case']
        received = f'{r["received"]} / {r["sent"]}'
        transport = c['transport']
        if c.get('pub_transport') and c['pub_transport'] != transport:
            transport = f'pub {c["pub_transport"]}, sub {transport}'
        if r.get('runs', 1) > 1:
            received += f' ({r["delivered_min"]:.0%}-{r["delivered_max"]:.0%})'
        note = r['error'] or ''
        if not note and (r['duplicates'] or r['corrupt']):
            note = f'{r["duplicates"]} duplicates, {r["corrupt"]} corrupt'
        rows.append(dict(r, image=f'{c["width"]}x{c["height"]} {c["encoding"]}',
                         kb=r['frame_bytes'] / 1e3, rate=c['rate'], publisher=c['pub_reliability'],
                         subscriber=c['sub_reliability'], transport=transport,
                         discovery=c['discovery'], received_of=received, note=note))
    return format_table(rows, RESULT_COLUMNS, markdown=True)


def machine_info():
    """Return what the numbers depend on: host, CPU, load, RMW and Fast DDS versions."""
    from importlib import metadata
    versions = {}
    for dist in ('ros-rclpy', 'ros-fastdds', 'ros-rmw-fastrtps-cpp'):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {'platform': platform.platform(), 'python': platform.python_version(),
            'cpus': os.cpu_count(), 'loadavg': [round(x, 2) for x in os.getloadavg()],
            'rmw_implementation': os.environ.get('RMW_IMPLEMENTATION', 'default'),
            'ros_distro': os.environ.get('ROS_DISTRO'), 'versions': versions}


# --------------------------------------------------------------------------- child side

def _emit(event, **fields):
    print(json.dumps({'event': event, **fields}), flush=True)


class _Commands:
    """The parent's commands, read from stdin by a daemon thread: go, finish S, stop."""

    def __init__(self):
        self.go = threading.Event()
        self.stop = threading.Event()       # also set when stdin closes (parent gone)
        self.finish_s = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in sys.stdin:
            word, *rest = line.split() or ['']
            if word == 'go':
                self.go.set()
            elif word == 'finish' and rest:
                self.finish_s = float(rest[0])
            elif word == 'stop':
                break
        self.stop.set()


def _qos(reliability, depth):
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
    policy = {'reliable': ReliabilityPolicy.RELIABLE,
              'best_effort': ReliabilityPolicy.BEST_EFFORT}[reliability]
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth, reliability=policy,
                      durability=DurabilityPolicy.VOLATILE)


def _wait_until(condition, commands, deadline, period=0.01):
    """Poll ``condition``: True once it holds, False at ``deadline`` or on stop."""
    while not condition():
        if time.monotonic() > deadline or commands.stop.is_set():
            return False
        time.sleep(period)
    return True


def _publisher(node, case, topic, commands, deadline, ack_timeout):
    import array

    from rclpy.duration import Duration
    from sensor_msgs.msg import Image
    pub = node.create_publisher(Image, topic, _qos(case.pub_reliability, case.depth))
    if not _wait_until(lambda: pub.get_subscription_count() > 0, commands, deadline):
        return _emit('error', error='publisher: no subscription matched')
    _emit('ready')
    if not _wait_until(commands.go.is_set, commands, deadline):
        return _emit('error', error='publisher: never told to start')
    step = case.width * ENCODING_BYTES[case.encoding]
    msg = Image(height=case.height, width=case.width, encoding=case.encoding,
                is_bigendian=0, step=step)
    msg.data = array.array('B', bytes(step * case.height))
    stamps, publish_ms = [], []
    period = 1.0 / case.rate if case.rate else 0.0
    start = time.monotonic()
    for seq in range(case.frames):
        pause = start + seq * period - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        msg.data[:SEQ_BYTES] = array.array('B', seq.to_bytes(SEQ_BYTES, 'little'))
        msg.header.frame_id = str(seq)
        now = time.time_ns()
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(now, 10 ** 9)
        pub.publish(msg)
        publish_ms.append((time.time_ns() - now) / 1e6)
        stamps.append(now)
    acked = None
    if case.pub_reliability == 'reliable':
        acked = bool(pub.wait_for_all_acked(Duration(seconds=ack_timeout)))
    _emit('done', stamps_ns=stamps, publish_ms=publish_ms, all_acked=acked)
    # stay up (reliable: repairs) until the subscriber has reported and the parent says stop
    _wait_until(commands.stop.is_set, commands, deadline, 0.05)


def _subscriber(node, executor, case, topic, commands, deadline):
    from sensor_msgs.msg import Image
    raw = []

    def on_image(msg):
        recv_ns = time.time_ns()
        stamp = msg.header.stamp
        raw.append((msg.header.frame_id, stamp.sec * 10 ** 9 + stamp.nanosec, recv_ns,
                    len(msg.data), bytes(msg.data[:SEQ_BYTES])))

    sub = node.create_subscription(Image, topic, on_image,
                                   _qos(case.sub_reliability, case.depth))
    ready = False
    seen, scanned = set(), 0
    finish_at = None
    while time.monotonic() < deadline and not commands.stop.is_set():
        executor.spin_once(timeout_sec=0.02)
        if not ready and sub.get_publisher_count() > 0:
            _emit('ready')
            ready = True
        seen.update(frame_id for frame_id, *_rest in raw[scanned:])
        scanned = len(raw)
        if finish_at is None and commands.finish_s is not None:
            finish_at = time.monotonic() + commands.finish_s
        if len(seen) >= case.frames or (finish_at and time.monotonic() > finish_at):
            break
    received = []
    for frame_id, stamp_ns, recv_ns, nbytes, head in raw:
        seq = int(frame_id) if frame_id.isdigit() else -1
        ok = seq >= 0 and head == seq.to_bytes(SEQ_BYTES, 'little')
        received.append((seq, stamp_ns, recv_ns, nbytes, ok))
    _emit('result', received=received)


def _child_main(args):
    """Run one side of the bench in this process (``--role pub|sub``); return an exit code."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    case = case_from_args(args)
    commands = _Commands()
    deadline = time.monotonic() + args.child_timeout
    context = rclpy.Context()
    rclpy.init(args=[], context=context)
    node = executor = None
    try:
        node = rclpy.create_node(f'a2j_delivery_{args.role}', context=context,
                                 enable_rosout=False, start_parameter_services=False)
        if args.role == 'pub':
            _publisher(node, case, args.topic, commands, deadline, args.ack_timeout)
        else:
            executor = SingleThreadedExecutor(context=context)
            executor.add_node(node)
            _subscriber(node, executor, case, args.topic, commands, deadline)
    finally:
        if executor is not None:
            executor.shutdown(timeout_sec=1.0)
        if node is not None:
            node.destroy_node()
        context.try_shutdown()
    return 0


# --------------------------------------------------------------------------- command line

def add_arguments(parser):
    """Register the options of the delivery bench."""
    base = BenchCase()
    parser.add_argument('--width', type=int, default=base.width, help='image width (640)')
    parser.add_argument('--height', type=int, default=base.height, help='image height (480)')
    parser.add_argument('--encoding', default=base.encoding,
                        help=f'image encoding (16UC1); one of {", ".join(ENCODING_BYTES)}')
    parser.add_argument('--frames', type=int, default=base.frames, help='frames sent (50)')
    parser.add_argument('--rate', type=float, default=base.rate,
                        help='publish rate in Hz (30); 0 = as fast as possible')
    parser.add_argument('--pub-reliability', choices=RELIABILITIES,
                        default=base.pub_reliability, help='publisher QoS (reliable)')
    parser.add_argument('--sub-reliability', choices=RELIABILITIES,
                        default=base.sub_reliability, help='subscriber QoS (best_effort)')
    parser.add_argument('--transport', default=base.transport,
                        help='FASTDDS_BUILTIN_TRANSPORTS of both processes: default (the '
                             'variable unset: SHM + UDPv4), LARGE_DATA, SHM or UDPv4; '
                             'LARGE_DATA?options passes Fast DDS options through')
    parser.add_argument('--pub-transport', default=base.pub_transport,
                        help='transport of the publisher process alone, e.g. default for a '
                             'camera driver started without the variable; empty (default) = '
                             '--transport')
    parser.add_argument('--depth', type=int, default=base.depth,
                        help='KEEP_LAST history depth of both ends (10)')
    parser.add_argument('--discovery', choices=DISCOVERY_MODES, default=base.discovery,
                        help='loopback (default): discovery on 127.0.0.1 by a Fast DDS profile, '
                             'the transport as chosen; ros_localhost: '
                             'ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST, where rmw_fastrtps uses '
                             'its own SHM + UDPv4 and ignores --transport')
    parser.add_argument('--matrix', action='store_true',
                        help='run 640x480 and 320x240 x best_effort/reliable subscriber x '
                             'default/LARGE_DATA/UDPv4 transports, plus LARGE_DATA with '
                             'ros_localhost discovery (other options as given); print a table')
    parser.add_argument('--repeat', type=int, default=1,
                        help='runs per case (1); the table pools them and shows the spread '
                             'of the delivered share')
    parser.add_argument('--json', metavar='OUT', default=None,
                        help='also write the results and machine info to this JSON file')
    parser.add_argument('--domain-id', type=int, default=None,
                        help='ROS_DOMAIN_ID of the bench processes (default: random 1..99)')
    parser.add_argument('--discovery-timeout', type=float, default=Timeouts().discovery,
                        help='seconds to wait for both ends to match (15)')
    parser.add_argument('--fail-on-loss', action='store_true',
                        help='exit with 1 when any frame was lost or a run failed')
    # internal: the child processes
    parser.add_argument('--role', choices=('pub', 'sub'), default=None, help=argparse.SUPPRESS)
    parser.add_argument('--topic', default=None, help=argparse.SUPPRESS)
    parser.add_argument('--child-timeout', type=float, default=60.0, help=argparse.SUPPRESS)
    parser.add_argument('--ack-timeout', type=float, default=Timeouts().ack,
                        help=argparse.SUPPRESS)


def case_from_args(args):
    """Return the validated BenchCase named by parsed arguments."""
    return BenchCase(width=args.width, height=args.height, encoding=args.encoding,
                     frames=args.frames, rate=args.rate, pub_reliability=args.pub_reliability,
                     sub_reliability=args.sub_reliability, transport=args.transport,
                     pub_transport=args.pub_transport,
                     depth=args.depth, discovery=args.discovery).validate()


def run(args):
    """Run the bench described by parsed arguments; print a table; return the exit code."""
    if args.role:
        return _child_main(args)
    base = case_from_args(args)
    if args.discovery_timeout <= 0:
        raise InputError(f'discovery timeout must be > 0 s, got {args.discovery_timeout}')
    if not 1 <= args.repeat <= 100:
        raise InputError(f'repeat must be 1..100, got {args.repeat}')
    if args.domain_id is not None and not 0 <= args.domain_id <= 232:
        raise InputError(f'domain id must be 0..232, got {args.domain_id}')
    cases = matrix_cases(base) if args.matrix else [base]
    timeouts = Timeouts(discovery=args.discovery_timeout)
    results = []
    for i, case in enumerate(cases, 1):
        if len(cases) > 1:
            print(f'[{i}/{len(cases)}] {case.width}x{case.height} sub {case.sub_reliability} '
                  f'transport {case.transport} discovery {case.discovery}', file=sys.stderr,
                  flush=True)
        runs = [run_case(case, timeouts, args.domain_id) for _ in range(args.repeat)]
        results.append(combine_runs(runs))
    print(format_results(results))
    if args.json:
        with open(args.json, 'w') as out:
            json.dump({'command': ['python', 'tools/delivery_bench.py', *sys.argv[1:]],
                       'machine': machine_info(), 'results': results}, out, indent=1)
    lost = any(r['lost'] or r['error'] for r in results)
    return 1 if args.fail_on_loss and lost else 0


def main(argv=None):
    """Parse the command line and run the bench; return the exit code."""
    parser = argparse.ArgumentParser(
        prog='python tools/delivery_bench.py',
        description='Measure sensor_msgs/Image delivery between two processes over DDS '
                    '(loopback only, private domain).')
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except A2JError as exc:
        print(f'delivery_bench: error: {exc}', file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


__all__ = ['BenchCase', 'DISCOVERY_MODES', 'DeliveryBenchError', 'ENCODING_BYTES',
           'MATRIX_SIZES', 'RELIABILITIES', 'TRANSPORTS', 'Timeouts', 'add_arguments',
           'case_from_args', 'child_env', 'combine_runs', 'format_results', 'machine_info',
           'matrix_cases', 'run', 'run_case', 'summarize', 'transport_of']


if __name__ == '__main__':
    sys.exit(main())
