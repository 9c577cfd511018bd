"""The pose node's parameters: declarations with descriptions, and their checked settings.

Every parameter is declared from ``PARAMETERS`` (name, default, description, allowed values)
so ``ros2 param describe`` explains it; ``read_settings`` reads them into ``NodeSettings``
and raises InputError naming the parameter for a bad value. Parameters are read when the
node is configured: change them, then cleanup + configure (or restart the node).
"""
from dataclasses import dataclass

from a2j_ros.core.errors import InputError

RELIABILITY = ('best_effort', 'reliable', 'system_default')

# name, default (None = unset: a colour array), description, allowed values
PARAMETERS = (
    ('checkpoint', '', 'a2j_ros checkpoint (.pt) with the model and its crop settings', None),
    ('device', 'cpu', 'torch device: auto (cuda when available), cpu, cuda or cuda:N', None),
    ('backend', 'eager', 'inference backend (core.backends; eager = plain PyTorch)', None),
    ('mode', '', "hand or body; empty = the checkpoint's crop mode (a mismatch is an error)",
     ('', 'hand', 'body')),
    ('roi_source', 'nearest', 'where the boxes come from: topic (rois, synchronised with the '
     'depth), nearest (hand: nearest blob in a depth band; body: largest foreground blob) or '
     'full_frame (one box = the whole image)', ('topic', 'nearest', 'full_frame')),
    ('roi_msg_type', 'a2j', 'type on the rois topic: a2j (a2j_ros_msgs/RegionOfInterestArray) '
     'or vision_msgs (vision_msgs/Detection2DArray, where installed)', ('a2j', 'vision_msgs')),
    ('sync_slop_s', 0.05, 'largest stamp difference (s) between a depth image and its ROIs',
     None),
    ('sync_queue_size', 10, 'messages kept per input while waiting for a partner', None),
    ('use_message_filters', True, 'pair depth and ROIs with message_filters where installed '
     "(else the node's own synchroniser, same rules)", None),
    ('depth_min_m', 0.1, 'nearer depth is ignored by the ROI search and the hand centre', None),
    ('depth_max_m', 1.5, 'farther depth is background for the ROI search and the hand centre',
     None),
    ('hand_band_m', 0.15, 'nearest source, hands: depth band behind the nearest pixel', None),
    ('min_blob_pixels', 60, 'nearest source: smaller blobs are noise', None),
    ('hand_radius_m', 0.06, 'nearest source, hands: the ROI is the part of the blob within '
     'this radius of a mean-shift centre started at its distal end (not the forearm); '
     '0 = the whole blob', None),
    ('reject_planes', True, 'nearest source, hands: skip a nearest blob that is a large '
     'plane (a table reaching toward the camera)', None),
    ('centre_depth_offset_m', 0.015, "hands: crop centre depth = median of the ROI's "
     'nearest band + this (joints lie behind the visible surface)', None),
    ('body_input_scale', 0.001, 'bodies: depth unit fed to the network per mm (0.001 = metres; '
     '1.0 for K2HPD-style models)', None),
    ('max_instances', 1, 'most hands/bodies per frame (topic ROIs: the highest scores)', None),
    ('frame_id', '', "frame_id of the outputs; empty = the depth image's optical frame", None),
    ('markers_enabled', True, 'publish visualization_msgs/MarkerArray on markers', None),
    ('marker_joint_scale', 0.012, 'joint sphere diameter (m)', None),
    ('marker_bone_width', 0.006, 'bone line width (m)', None),
    ('marker_lifetime_s', 0.5, 'marker lifetime (s); 0 = forever (stale skeletons stay)', None),
    ('marker_joint_color', None, 'joint RGBA in 0..1; unset = one palette colour per instance',
     None),
    ('marker_bone_color', None, 'bone RGBA in 0..1; unset = a lighter palette colour', None),
    ('depth_qos_reliability', 'best_effort', 'depth image subscription reliability: '
     'best_effort (matches every publisher; set FASTDDS_BUILTIN_TRANSPORTS=LARGE_DATA for VGA '
     'and up), reliable (only reliable publishers) or system_default', RELIABILITY),
    ('depth_qos_depth', 2, 'depth image subscription history depth (KEEP_LAST)', None),
    ('roi_qos_reliability', 'best_effort', 'rois subscription reliability', RELIABILITY),
    ('camera_info_qos_reliability', 'best_effort', 'camera_info subscription reliability',
     RELIABILITY),
    ('diagnostics_period_s', 1.0, 'period of the /diagnostics message (s)', None),
    ('log_throttle_s', 5.0, 'the same warning is logged at most once per this many seconds',
     None),
    ('autostart', True, 'configure and activate at start (false: wait for a lifecycle '
     'manager)', None),
)


@dataclass
class NodeSettings:
    """Checked parameter values (SI units converted to the core's millimetres where noted)."""

    checkpoint: str
    device: str
    backend: str
    mode: str
    roi_source: str
    roi_msg_type: str
    sync_slop_s: float
    sync_queue_size: int
    use_message_filters: bool
    depth_min_mm: float
    depth_max_mm: float
    hand_band_mm: float
    min_blob_pixels: int
    hand_radius_mm: float
    reject_planes: bool
    centre_depth_offset_mm: float
    body_input_scale: float
    max_instances: int
    frame_id: str
    markers_enabled: bool
    marker_joint_scale: float
    marker_bone_width: float
    marker_lifetime_s: float
    marker_joint_color: tuple
    marker_bone_color: tuple
    depth_qos_reliability: str
    depth_qos_depth: int
    roi_qos_reliability: str
    camera_info_qos_reliability: str
    diagnostics_period_s: float
    log_throttle_s: float
    autostart: bool


def declare_parameters(node):
    """Declare every parameter of PARAMETERS on ``node`` with its description.

    Dynamic typing is on, so ``1`` in a YAML file is accepted for a float parameter (a
    classic InvalidParameterTypeException at start-up otherwise); ``read_settings`` checks
    and converts the values.
    """
    from rcl_interfaces.msg import ParameterDescriptor
    for name, default, description, choices in PARAMETERS:
        text = description + (f' (one of: {", ".join(repr(c) for c in choices)})'
                              if choices else '')
        node.declare_parameter(name, default,
                               ParameterDescriptor(description=text, dynamic_typing=True))


def _coerce(name, default, value):
    """Return ``value`` converted to the type of ``default``; InputError if it cannot be."""
    if default is None or value is None:
        return value
    try:
        if isinstance(default, bool):
            if isinstance(value, str) and value.lower() in ('true', 'false'):
                return value.lower() == 'true'
            if isinstance(value, bool):
                return value
            raise ValueError
        if isinstance(default, int):
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if isinstance(default, float):
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        raise InputError(f'parameter {name} = {value!r} is not a {type(default).__name__}'
                         ) from None


def _color(name, value):
    if value is None:
        return ()
    try:
        values = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        raise InputError(f'parameter {name} must be 3 or 4 numbers, got {value!r}') from None
    if len(values) not in (3, 4) or not all(0.0 <= v <= 1.0 for v in values):
        raise InputError(f'parameter {name} must be 3 or 4 numbers in 0..1, got {list(values)}')
    return values


def read_settings(node):
    """Return the NodeSettings of ``node``'s parameters; InputError names a bad one."""
    raw = {name: _coerce(name, default, node.get_parameter(name).value)
           for name, default, *_ in PARAMETERS}
    for name, _default, _text, choices in PARAMETERS:
        if choices and raw[name] not in choices:
            raise InputError(f'parameter {name} = {raw[name]!r}; use one of '
                             f'{", ".join(repr(c) for c in choices)}')
    positive = ('sync_queue_size', 'depth_qos_depth', 'diagnostics_period_s', 'depth_max_m',
                'marker_joint_scale', 'marker_bone_width', 'hand_band_m', 'body_input_scale')
    for name in positive:
        if not raw[name] > 0:
            raise InputError(f'parameter {name} must be > 0, got {raw[name]!r}')
    for name in ('sync_slop_s', 'depth_min_m', 'min_blob_pixels', 'max_instances',
                 'marker_lifetime_s', 'log_throttle_s', 'hand_radius_m'):
        if not raw[name] >= 0:
            raise InputError(f'parameter {name} must be >= 0, got {raw[name]!r}')
    if raw['depth_min_m'] >= raw['depth_max_m']:
        raise InputError(f'depth_min_m ({raw["depth_min_m"]}) must be below depth_max_m '
                         f'({raw["depth_max_m"]})')
    if raw['roi_source'] == 'topic' and raw['roi_msg_type'] == 'vision_msgs':
        try:
            import vision_msgs.msg  # noqa: F401
        except ImportError:
            raise InputError('roi_msg_type vision_msgs: vision_msgs is not installed '
                             '(install ros-<distro>-vision-msgs or use a2j)') from None
    return NodeSettings(
        checkpoint=str(raw['checkpoint']), device=str(raw['device']),
        backend=str(raw['backend']), mode=raw['mode'], roi_source=raw['roi_source'],
        roi_msg_type=raw['roi_msg_type'], sync_slop_s=float(raw['sync_slop_s']),
        sync_queue_size=int(raw['sync_queue_size']),
        use_message_filters=bool(raw['use_message_filters']),
        depth_min_mm=1e3 * raw['depth_min_m'], depth_max_mm=1e3 * raw['depth_max_m'],
        hand_band_mm=1e3 * raw['hand_band_m'], min_blob_pixels=int(raw['min_blob_pixels']),
        hand_radius_mm=1e3 * raw['hand_radius_m'], reject_planes=bool(raw['reject_planes']),
        centre_depth_offset_mm=1e3 * raw['centre_depth_offset_m'],
        body_input_scale=float(raw['body_input_scale']),
        max_instances=int(raw['max_instances']), frame_id=str(raw['frame_id']),
        markers_enabled=bool(raw['markers_enabled']),
        marker_joint_scale=float(raw['marker_joint_scale']),
        marker_bone_width=float(raw['marker_bone_width']),
        marker_lifetime_s=float(raw['marker_lifetime_s']),
        marker_joint_color=_color('marker_joint_color', raw['marker_joint_color']),
        marker_bone_color=_color('marker_bone_color', raw['marker_bone_color']),
        depth_qos_reliability=raw['depth_qos_reliability'],
        depth_qos_depth=int(raw['depth_qos_depth']),
        roi_qos_reliability=raw['roi_qos_reliability'],
        camera_info_qos_reliability=raw['camera_info_qos_reliability'],
        diagnostics_period_s=float(raw['diagnostics_period_s']),
        log_throttle_s=float(raw['log_throttle_s']), autostart=bool(raw['autostart']))


def subscription_qos(reliability, depth):
    """Return a KEEP_LAST, VOLATILE QoSProfile with the named reliability."""
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
    policy = {'best_effort': ReliabilityPolicy.BEST_EFFORT,
              'reliable': ReliabilityPolicy.RELIABLE,
              'system_default': ReliabilityPolicy.SYSTEM_DEFAULT}[reliability]
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=int(depth), reliability=policy,
                      durability=DurabilityPolicy.VOLATILE)


__all__ = ['NodeSettings', 'PARAMETERS', 'RELIABILITY', 'declare_parameters', 'read_settings',
           'subscription_qos']
