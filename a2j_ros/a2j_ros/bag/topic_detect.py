"""Choose the depth and camera_info topics of a bag, and say why (or what to choose from).

A depth topic is a ``sensor_msgs/Image`` in ``16UC1``/``32FC1`` (``mono16`` only when the
name says depth), or image_transport's ``<topic>/compressedDepth`` (``CompressedImage``).
Named by the user: it must be one of those (a raw name whose ``/compressedDepth`` twin is
the only one recorded is taken too). Not named: the bag's only depth candidate is used and
a note says so; several candidates are listed with their encodings and the user chooses.
The camera_info is the named one, else the ``camera_info`` beside the depth topic, else the
bag's only CameraInfo topic. Warnings: a depth topic that looks like infrared, and distortion
coefficients on a topic that is not rectified (a2j uses K only).
"""
from dataclasses import dataclass, field
import re

from a2j_ros.bag import typestore as ts
from a2j_ros.bag.topics import DEPTH_TOPIC, INFO_TOPIC
from a2j_ros.core.compressed_depth import parse_format
from a2j_ros.core.errors import InputError

COMPRESSED = 'sensor_msgs/msg/CompressedImage'
COMPRESSED_SUFFIX = '/compressedDepth'
DEPTH_ENCODINGS = ('16UC1', '32FC1')
_TOPIC_RE = re.compile(r'^/?[A-Za-z_~{][A-Za-z0-9_/{}~]*$')
_IR_RE = re.compile(r'(^|/)(ir|infra\w*|infrared\w*)(/|_|\d|$)', re.IGNORECASE)


def check_topic_name(name, what='topic'):
    """Raise InputError unless ``name`` is a valid ROS 2 topic name (rcl's rules, simplified)."""
    if (not isinstance(name, str) or not _TOPIC_RE.match(name) or '//' in name
            or name.endswith('/') or re.search(r'(^|/)\d', name)):
        raise InputError(f'{what} {name!r} is not a valid ROS 2 topic name (letters, digits, '
                         "'_' and '/' separators; no segment may start with a digit)")
    return name


def looks_infrared(topic, encoding=''):
    """Return True when a topic's name or encoding suggests an infrared (not depth) image."""
    return bool(_IR_RE.search(topic)) or (encoding == 'mono16' and 'depth' not in topic)


@dataclass
class Candidate:
    """One image topic of the bag and what its first message says."""

    topic: str
    msgtype: str
    encoding: str           # Image.encoding, or the CompressedImage format

    @property
    def compressed(self):
        """Return True for a CompressedImage topic."""
        return self.msgtype == COMPRESSED

    @property
    def depth_encoding(self):
        """Return the pixel encoding (for compressedDepth: the part before ';')."""
        return self.encoding.split(';')[0].strip() if self.compressed else self.encoding

    @property
    def is_depth(self):
        """Return True when the topic can hold depth images."""
        if self.compressed:
            if not self.topic.endswith(COMPRESSED_SUFFIX):
                return False
            try:
                parse_format(self.encoding)
            except InputError:
                return False
            return True
        if self.encoding in DEPTH_ENCODINGS:
            return not looks_infrared(self.topic)
        return self.encoding == 'mono16' and 'depth' in self.topic \
            and not looks_infrared(self.topic)

    def describe(self):
        """Return 'topic (encoding)' for messages to the user."""
        return f'{self.topic} ({self.encoding or self.msgtype})'


@dataclass
class Resolution:
    """The topics chosen, the transport of the depth topic, and what to tell the user."""

    depth: str
    camera_info: str
    transport: str = 'raw'                  # raw | compressedDepth
    notes: list = field(default_factory=list)
    warnings: list = field(default_factory=list)


def _first(reader, topic, msgtype):
    """Return the first message of ``topic`` that deserialises, or None."""
    conns = [c for c in reader.connections if c.topic == topic]
    try:
        for conn, _t, raw in reader.messages(connections=conns):
            try:
                return reader.deserialize(raw, conn.msgtype)
            except Exception:   # noqa: B902 - a corrupt first message: try the next one
                continue
    except Exception:  # noqa: B902 - an unreadable stream is reported when frames are read
        return None
    return None


def image_candidates(reader):
    """Return a Candidate per Image / CompressedImage topic of an open AnyReader."""
    out = []
    types = {c.topic: c.msgtype for c in reader.connections}
    for topic in sorted(types):
        if types[topic] not in (ts.IMAGE, COMPRESSED):
            continue
        msg = _first(reader, topic, types[topic])
        if msg is None:
            encoding = ''
        else:
            encoding = str(msg.format if types[topic] == COMPRESSED else msg.encoding)
        out.append(Candidate(topic, types[topic], encoding))
    return out


def _base(topic):
    return topic[:-len(COMPRESSED_SUFFIX)] if topic.endswith(COMPRESSED_SUFFIX) else topic


def _listing(candidates):
    return ', '.join(c.describe() for c in candidates) or 'none'


def resolve_depth(bag, types, candidates, wanted):
    """Return ``(Candidate, note)`` for the depth topic; raise InputError saying what to do."""
    by_topic = {c.topic: c for c in candidates}
    depth = [c for c in candidates if c.is_depth]
    if wanted:
        chosen = by_topic.get(wanted) or by_topic.get(wanted + COMPRESSED_SUFFIX)
        if chosen is None:
            if wanted in types:
                raise InputError(f'bag {bag}: topic {wanted} is {types[wanted]}, not depth '
                                 f'images; depth candidates: {_listing(depth)}')
            raise InputError(f'bag {bag} has no topic {wanted}; its image topics: '
                             f'{_listing(candidates)} (choose one with --depth-topic)')
        if chosen.compressed and not chosen.is_depth:
            raise InputError(f'bag {bag}: {chosen.describe()} is a compressed image but not '
                             'image_transport compressedDepth')
        note = '' if chosen.topic == wanted else (
            f'depth topic: {chosen.topic} (only the compressedDepth stream of {wanted} '
            'is recorded)')
        return chosen, note
    # Raw and compressedDepth streams of the same camera: the raw one is the same data.
    raw_topics = {c.topic for c in depth if not c.compressed}
    depth = [c for c in depth if not (c.compressed and _base(c.topic) in raw_topics)]
    default = [c for c in depth if _base(c.topic) == DEPTH_TOPIC]
    if default:
        return default[0], ''
    if len(depth) == 1:
        return depth[0], (f'depth topic: {depth[0].describe()}, the only depth image topic of '
                          'the bag (--depth-topic to choose another)')
    if depth:
        raise InputError(f'bag {bag} has {len(depth)} depth image topics: {_listing(depth)}; '
                         'choose one with --depth-topic')
    raise InputError(f'bag {bag} has no depth image topic (16UC1/32FC1 Image or '
                     f'compressedDepth); its image topics: {_listing(candidates)} '
                     '(name one with --depth-topic)')


def resolve_camera_info(bag, types, depth_topic, wanted):
    """Return ``(topic, note)`` of the CameraInfo topic for ``depth_topic``."""
    infos = sorted(t for t, m in types.items() if m == ts.CAMERA_INFO)
    if wanted:
        if types.get(wanted) == ts.CAMERA_INFO:
            return wanted, ''
        what = f'is {types[wanted]}' if wanted in types else 'does not exist'
        raise InputError(f'bag {bag}: camera_info topic {wanted} {what}; its CameraInfo '
                         f'topics: {infos or "none"} (use --info-topic)')
    sibling = _base(depth_topic).rsplit('/', 1)[0] + '/camera_info'
    if sibling in infos:
        return sibling, ''
    if len(infos) == 1:
        return infos[0], f'camera_info topic: {infos[0]}, the only one of the bag'
    raise InputError(f'bag {bag} has no camera_info beside {depth_topic} ({sibling}); its '
                     f'CameraInfo topics: {infos or "none"} (use --info-topic)')


def resolve_topics(bag, reader, depth=None, camera_info=None):
    """Choose the depth and camera_info topics of the open AnyReader ``reader``.

    None means: detect. The default names of ``bag.topics`` (our make-bag's) are taken as a
    preference: when the bag lacks them, the topics are detected as if none was named.
    """
    types = {c.topic: c.msgtype for c in reader.connections}
    if sum(c.msgcount for c in reader.connections) == 0:
        raise InputError(f'bag {bag} is empty: no messages (topics: '
                         f'{", ".join(sorted(types)) or "none"})')
    if depth == DEPTH_TOPIC and depth not in types and depth + COMPRESSED_SUFFIX not in types:
        depth = None
    if camera_info == INFO_TOPIC and camera_info not in types:
        camera_info = None
    candidates = image_candidates(reader)
    chosen, note = resolve_depth(bag, types, candidates, depth)
    info_topic, info_note = resolve_camera_info(bag, types, chosen.topic, camera_info)
    result = Resolution(depth=chosen.topic, camera_info=info_topic,
                        transport='compressedDepth' if chosen.compressed else 'raw',
                        notes=[n for n in (note, info_note) if n])
    if chosen.compressed:
        result.notes.append(f'depth topic {chosen.topic} is compressedDepth '
                            f'({chosen.encoding}): decoded by a2j_ros.core.compressed_depth')
    if looks_infrared(_base(chosen.topic), chosen.depth_encoding):
        result.warnings.append(
            f'{chosen.describe()} looks like an infrared image, not depth: its values are '
            'read as millimetres of depth')
    elif chosen.depth_encoding not in DEPTH_ENCODINGS + ('mono16',):
        result.warnings.append(f'{chosen.describe()} is not a depth encoding (16UC1, 32FC1): '
                               'its frames will be skipped')
    info = _first(reader, info_topic, ts.CAMERA_INFO)
    if info is not None:
        d = [float(x) for x in info.d]
        if any(x != 0.0 for x in d) and 'rect' not in _base(chosen.topic):
            result.warnings.append(
                f'{info_topic} has distortion ({info.distortion_model}, D = '
                f'{[round(x, 4) for x in d[:5]]}...) but {chosen.topic} is not a rectified '
                'image: a2j uses K only, so joints away from the image centre will be off '
                '(record image_rect, or rectify the bag first)')
    return result


__all__ = ['COMPRESSED', 'Candidate', 'Resolution', 'check_topic_name', 'image_candidates',
           'looks_infrared', 'resolve_topics']
