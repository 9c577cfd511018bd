"""The pose node's parameters: typed declarations with ranges, checked settings, live changes.

Every parameter is declared from ``PARAMETERS`` with a ParameterDescriptor (description,
type, ``FloatingPointRange``/``IntegerRange``, the allowed values in the description) so
``ros2 param describe`` shows its constraints and rclpy refuses a wrong type or an
out-of-range value. ``settings_from_values`` adds the checks a range cannot express
(choices, ``depth_min_m < depth_max_m``, colours) and builds ``NodeSettings``; the node runs
it in its set-parameters callback, so ``ros2 param set`` of a bad value is refused with the
reason. Parameters marked ``runtime`` take effect on the next frame; the others are read
on configure and are refused while the node is configured (``ParameterGate``).
"""
from dataclasses import dataclass, fields
import math

from a2j_ros.core.errors import InputError

QOS_RELIABILITY = ('auto', 'reliable', 'best_effort')
DEPTH_TRANSPORTS = ('raw', 'compressedDepth')
BIG = 1e6
TYPE_WORDS = {bool: 'true or false', int: 'an integer', float: 'a number', str: 'a string',
              tuple: 'a list of numbers'}


@dataclass(frozen=True)
class Spec:
    """One parameter: default (its type is the parameter's), description, constraints."""

    name: str
    default: object              # () = a float array, unset by default
    description: str
    choices: tuple = ()
    low: float = None            # inclusive range (FloatingPointRange / IntegerRange)
    high: float = None
    runtime: bool = False        # True: takes effect on the next frame


P = Spec
PARAMETERS = (
    P('checkpoint', '', 'a2j_ros checkpoint (.pt), or the file name of a bundled one '
      '(demo_hand_r18.pt); empty = the bundled demo model of mode (hand if mode is empty)'),
    P('device', 'cpu', 'torch device: auto (cuda when available), cpu, cuda or cuda:N'),
    P('backend', 'auto', 'inference backend (core.backends): auto = the fastest that matches '
      'eager fp32 here, chosen at start and cached; eager = plain PyTorch'),
    P('mode', '', "hand or body; empty = the checkpoint's crop mode (a mismatch is an error)",
      ('', 'hand', 'body')),
    P('roi_source', 'nearest', 'where the boxes come from: topic (a detector on rois, '
      'synchronised with the depth; every box is used), nearest (hand: nearest blob in a '
      'depth band; body: largest foreground blob) or full_frame (one box = the whole image)',
      ('topic', 'nearest', 'full_frame')),
    P('roi_msg_type', 'a2j', 'type on the rois topic: a2j (a2j_ros_msgs/RegionOfInterestArray) '
      'or vision_msgs (vision_msgs/Detection2DArray, where installed)', ('a2j', 'vision_msgs')),
    P('depth_transport', 'raw', 'raw (sensor_msgs/Image on depth/image) or compressedDepth '
      '(sensor_msgs/CompressedImage on depth/image/compressedDepth, as image_transport '
      'publishes it)', DEPTH_TRANSPORTS),
    P('sync_slop_s', 0.05, 'largest stamp difference (s) between a depth image and its ROIs',
      low=0.0, high=10.0),
    P('sync_queue_size', 10, 'messages kept per input while waiting for a partner',
      low=1, high=1000),
    P('use_message_filters', True, 'pair depth and ROIs with message_filters where installed '
      "(else the node's own synchroniser, same rules)"),
    P('depth_min_m', 0.1, 'nearer depth is ignored by the ROI search and the hand centre',
      low=0.0, high=100.0, runtime=True),
    P('depth_max_m', 1.5, 'farther depth is background for the ROI search and the hand centre',
      low=0.01, high=100.0, runtime=True),
    P('hand_band_m', 0.15, 'nearest source, hands: depth band behind the nearest pixel',
      low=0.001, high=10.0, runtime=True),
    P('min_blob_pixels', 60, 'nearest source: smaller blobs are noise', low=0, high=10**7,
      runtime=True),
    P('hand_radius_m', 0.06, 'nearest source, hands: the ROI is the part of the blob within '
      'this radius of a mean-shift centre started at its distal end (not the forearm); '
      '0 = the whole blob', low=0.0, high=10.0, runtime=True),
    P('reject_planes', True, 'nearest source, hands: skip a nearest blob that is a large '
      'plane (a table reaching toward the camera)', runtime=True),
    P('centre_depth_offset_m', 0.015, "hands: crop centre depth = median of the ROI's "
      'nearest band + this (joints lie behind the visible surface)', low=-1.0, high=1.0,
      runtime=True),
    P('body_input_scale', 0.001, 'bodies: depth unit fed to the network per mm (0.001 = '
      'metres; 1.0 for K2HPD-style models)', low=1e-9, high=BIG, runtime=True),
    P('max_instances', 1, 'most hands/bodies per frame of the detector-free sources (nearest, '
      'full_frame); 0 = no cap. Detector ROIs (roi_source topic) are all used',
      low=0, high=1000, runtime=True),
    P('tracking_enabled', True, 'follow each hand/body over time: Skeleton.id is a track id '
      '(stable while seen, never reused), crops follow the tracks, joints are smoothed; '
      'false = every frame alone, Skeleton.id = index in the frame', runtime=True),
    P('track_gate_m', 0.0, "largest mean joint distance (m) between a skeleton and a track's "
      "prediction for them to match; 0 = the mode's default (hand 0.08, body 0.25)",
      low=0.0, high=10.0, runtime=True),
    P('track_min_hits', 3, 'consecutive frames a new track needs before it is published',
      low=1, high=1000, runtime=True),
    P('track_timeout_s', 0.5, 'stamp time without a match after which a track is deleted '
      '(its markers removed; the instance gets a new id if seen again)', low=0.001,
      high=3600.0, runtime=True),
    P('track_min_confidence', 0.0, 'skeletons with a lower mean joint confidence neither '
      'start nor update a track, and a track below it is not followed', low=0.0, high=1.0,
      runtime=True),
    P('follow_enabled', True, 'centre the next crop on a confident track (constant-velocity '
      'prediction) instead of the ROI; the ROIs still add new instances and re-anchor a '
      'track that drifts', runtime=True),
    P('refine_iterations', 0, 'extra network passes, each crop centred on the previous '
      "pass's joints (for loose detector boxes; each costs one more network run)",
      low=0, high=3, runtime=True),
    P('smoothing_enabled', True, 'One Euro filter on each tracked joint coordinate, driven by '
      'the header stamps', runtime=True),
    P('smoothing_min_cutoff', 1.0, 'One Euro min_cutoff (Hz): lower = smoother when still; '
      '0 = smoothing off', low=0.0, high=1000.0, runtime=True),
    P('smoothing_beta', 0.05, 'One Euro beta (1/(mm/s) x Hz): higher = less lag when moving '
      '(config/body_pose.yaml: 0.005, body joints are noisier)',
      low=0.0, high=1000.0, runtime=True),
    P('smoothing_d_cutoff', 1.0, 'One Euro d_cutoff (Hz) of the speed estimate',
      low=0.001, high=1000.0, runtime=True),
    P('skeletons_raw_enabled', False, 'also publish skeletons_raw: the unsmoothed skeletons '
      'of every crop (track id where known)'),
    P('tf_enabled', False, 'publish each tracked joint on /tf as <tf_prefix><track id>/<joint '
      'name>, child of the depth optical frame (needs tf2_msgs)'),
    P('tf_prefix', 'a2j_', 'prefix of the joint TF frames (the launch files use a2j_hand_ or '
      'a2j_body_)'),
    P('markers_enabled', True, 'publish visualization_msgs/MarkerArray on markers',
      runtime=True),
    P('marker_joint_scale', 0.012, 'joint sphere diameter (m)', low=1e-4, high=10.0,
      runtime=True),
    P('marker_bone_width', 0.006, 'bone line width (m)', low=1e-4, high=10.0, runtime=True),
    P('marker_lifetime_s', 0.5, 'marker lifetime (s); 0 = forever (stale skeletons stay)',
      low=0.0, high=3600.0, runtime=True),
    P('marker_joint_color', (), 'joint RGBA (or RGB) in 0..1; unset = one palette colour per '
      'instance', runtime=True),
    P('marker_bone_color', (), 'bone RGBA (or RGB) in 0..1; unset = a lighter palette colour',
      runtime=True),
    P('debug_image_enabled', False, 'publish debug_image (sensor_msgs/Image rgb8: colour-mapped '
      'depth, ROIs, crops, skeletons) for rqt_image_view', runtime=True),
    P('depth_qos_reliability', 'auto', 'depth image subscription reliability: auto (reliable '
      'when every publisher found is reliable, else best effort; re-checked when publishers '
      'appear), reliable or best_effort', QOS_RELIABILITY),
    P('depth_qos_depth', 10, 'depth image subscription history depth (KEEP_LAST); frames the '
      'executor has not taken yet wait here (the worker keeps only the newest)',
      low=1, high=1000),
    P('roi_qos_reliability', 'auto', 'rois subscription reliability (as depth)',
      QOS_RELIABILITY),
    P('camera_info_qos_reliability', 'auto', 'camera_info subscription reliability (as depth)',
      QOS_RELIABILITY),
    P('diagnostics_period_s', 1.0, 'period of the /diagnostics message (s)',
      low=0.01, high=3600.0),
    P('log_throttle_s', 5.0, 'the same warning is logged at most once per this many seconds',
      low=0.0, high=3600.0, runtime=True),
    P('autostart', True, 'configure and activate once spinning (false: wait for a lifecycle '
      'manager or `ros2 lifecycle set`)'),
)
SPECS = {spec.name: spec for spec in PARAMETERS}
# parameters that no longer exist -> what to do instead (warned about when given)
REMOVED = {'frame_id': "removed: the outputs keep the depth image's frame (stamp and optical "
                       'frame); publish a TF from that frame instead of relabelling it'}
RUNTIME = frozenset(spec.name for spec in PARAMETERS if spec.runtime)


@dataclass(frozen=True)
class NodeSettings:
    """Checked parameter values, named as the parameters (SI units); mm properties below."""

    checkpoint: str
    device: str
    backend: str
    mode: str
    roi_source: str
    roi_msg_type: str
    depth_transport: str
    sync_slop_s: float
    sync_queue_size: int
    use_message_filters: bool
    depth_min_m: float
    depth_max_m: float
    hand_band_m: float
    min_blob_pixels: int
    hand_radius_m: float
    reject_planes: bool
    centre_depth_offset_m: float
    body_input_scale: float
    max_instances: int
    tracking_enabled: bool
    track_gate_m: float
    track_min_hits: int
    track_timeout_s: float
    track_min_confidence: float
    follow_enabled: bool
    refine_iterations: int
    smoothing_enabled: bool
    smoothing_min_cutoff: float
    smoothing_beta: float
    smoothing_d_cutoff: float
    skeletons_raw_enabled: bool
    tf_enabled: bool
    tf_prefix: str
    markers_enabled: bool
    marker_joint_scale: float
    marker_bone_width: float
    marker_lifetime_s: float
    marker_joint_color: tuple
    marker_bone_color: tuple
    debug_image_enabled: bool
    depth_qos_reliability: str
    depth_qos_depth: int
    roi_qos_reliability: str
    camera_info_qos_reliability: str
    diagnostics_period_s: float
    log_throttle_s: float
    autostart: bool

    @property
    def depth_min_mm(self):
        """Return depth_min_m in millimetres."""
        return 1e3 * self.depth_min_m

    @property
    def depth_max_mm(self):
        """Return depth_max_m in millimetres."""
        return 1e3 * self.depth_max_m

    @property
    def hand_band_mm(self):
        """Return hand_band_m in millimetres."""
        return 1e3 * self.hand_band_m

    @property
    def hand_radius_mm(self):
        """Return hand_radius_m in millimetres."""
        return 1e3 * self.hand_radius_m

    @property
    def centre_depth_offset_mm(self):
        """Return centre_depth_offset_m in millimetres."""
        return 1e3 * self.centre_depth_offset_m

    def changed(self, other):
        """Return the names of the parameters whose values differ from ``other``'s."""
        return {f.name for f in fields(self) if getattr(self, f.name) != getattr(other, f.name)}


def _range_text(spec):
    return f' (range {spec.low:g}..{spec.high:g})' if spec.low is not None else ''


def describe(spec):
    """Return the ParameterDescriptor text of ``spec`` (description, choices, when applied)."""
    text = spec.description
    if spec.choices:
        text += f' (one of: {", ".join(repr(c) for c in spec.choices)})'
    text += ('; takes effect on the next frame' if spec.runtime
             else '; read on configure (cleanup + configure to change it)')
    return text


def descriptor(spec):
    """Return the rcl_interfaces ParameterDescriptor of ``spec`` (type, range, description)."""
    from rcl_interfaces.msg import (
        FloatingPointRange,
        IntegerRange,
        ParameterDescriptor,
        ParameterType,
    )
    types = {bool: ParameterType.PARAMETER_BOOL, int: ParameterType.PARAMETER_INTEGER,
             float: ParameterType.PARAMETER_DOUBLE, str: ParameterType.PARAMETER_STRING,
             tuple: ParameterType.PARAMETER_DOUBLE_ARRAY}
    desc = ParameterDescriptor(name=spec.name, type=types[type(spec.default)],
                               description=describe(spec))
    if spec.choices:
        desc.additional_constraints = 'one of: ' + ', '.join(repr(c) for c in spec.choices)
    if spec.low is not None and isinstance(spec.default, float):
        desc.floating_point_range = [FloatingPointRange(
            from_value=float(spec.low), to_value=float(spec.high), step=0.0)]
    elif spec.low is not None:
        desc.integer_range = [IntegerRange(from_value=int(spec.low), to_value=int(spec.high),
                                           step=1)]
    return desc


def _widen_override(overrides, spec):
    """Let YAML ``1`` stand for a float parameter's ``1.0`` (and [1, 0, 0] for a colour)."""
    from rclpy.parameter import Parameter
    given = overrides.get(spec.name)
    if given is None:
        return
    if isinstance(spec.default, float) and given.type_ == Parameter.Type.INTEGER:
        overrides[spec.name] = Parameter(spec.name, Parameter.Type.DOUBLE, float(given.value))
    elif (isinstance(spec.default, tuple)
          and given.type_ == Parameter.Type.INTEGER_ARRAY):
        overrides[spec.name] = Parameter(spec.name, Parameter.Type.DOUBLE_ARRAY,
                                         [float(v) for v in given.value])


def widen_numbers(params):
    """Pre-set callback: ``ros2 param set ... depth_max_m 2`` means 2.0 (int -> float)."""
    from rclpy.parameter import Parameter
    out = []
    for param in params:
        spec = SPECS.get(param.name)
        if spec is not None and param.type_ == Parameter.Type.INTEGER and isinstance(
                spec.default, float):
            param = Parameter(param.name, Parameter.Type.DOUBLE, float(param.value))
        elif (spec is not None and param.type_ == Parameter.Type.INTEGER_ARRAY
              and spec.default == ()):
            param = Parameter(param.name, Parameter.Type.DOUBLE_ARRAY,
                              [float(v) for v in param.value])
        out.append(param)
    return out


def declare_parameters(node):
    """Declare every parameter of PARAMETERS on ``node``; return {name: error} of bad overrides.

    A given value of the wrong type or out of range does not stop the node: the parameter
    keeps its default and the error is returned, so configure can refuse with that line.
    """
    from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException
    from rclpy.parameter import Parameter
    # rclpy keeps the --ros-args / launch values here; there is no public accessor
    overrides = getattr(node, '_parameter_overrides', {})
    errors = {}
    for spec in PARAMETERS:
        _widen_override(overrides, spec)
        default = Parameter.Type.DOUBLE_ARRAY if spec.default == () else spec.default
        try:
            node.declare_parameter(spec.name, default, descriptor(spec))
        except (InvalidParameterTypeException, InvalidParameterValueException) as exc:
            given = overrides.get(spec.name)
            shown = given.value if given is not None else '?'
            why = (f'must be {TYPE_WORDS[type(spec.default)]}'
                   if isinstance(exc, InvalidParameterTypeException)
                   else f'is outside {spec.low:g}..{spec.high:g}' if spec.low is not None
                   else str(exc).splitlines()[-1])
            errors[spec.name] = f'parameter {spec.name} = {shown!r} {why}'
            node.declare_parameter(spec.name, default, descriptor(spec), ignore_override=True)
    node.add_pre_set_parameters_callback(widen_numbers)
    return errors


def removed_parameters(node):
    """Return one warning line per removed parameter given to ``node`` (REMOVED)."""
    given = getattr(node, '_parameter_overrides', {})
    return [f'parameter {name} {why}' for name, why in REMOVED.items() if name in given]


def _color(name, value):
    """Return an RGBA/RGB tuple in 0..1, or () for the palette (unset or empty)."""
    values = tuple(float(v) for v in (() if value is None else value))
    if values and (len(values) not in (3, 4) or not all(0.0 <= v <= 1.0 for v in values)):
        raise InputError(f'parameter {name} must be 3 or 4 numbers in 0..1, got {list(values)}')
    return values


def settings_from_values(values):
    """Return the NodeSettings of ``values`` ({name: value}); InputError names a bad one.

    Types and ranges are rclpy's to check (descriptors); this adds the choices, the depth
    range order, colours and the availability of vision_msgs.
    """
    raw = dict(values)
    for spec in PARAMETERS:
        value = raw[spec.name]
        if spec.choices and value not in spec.choices:
            raise InputError(f'parameter {spec.name} = {value!r}; use one of '
                             f'{", ".join(repr(c) for c in spec.choices)}')
        if spec.low is not None and not (isinstance(value, (int, float))
                                         and spec.low <= value <= spec.high):
            raise InputError(f'parameter {spec.name} = {value!r} is outside '
                             f'{spec.low:g}..{spec.high:g}')
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError(f'parameter {spec.name} = {value!r} is not finite')
    if raw['depth_min_m'] >= raw['depth_max_m']:
        raise InputError(f'depth_min_m ({raw["depth_min_m"]}) must be below depth_max_m '
                         f'({raw["depth_max_m"]})')
    if raw['roi_source'] == 'topic' and raw['roi_msg_type'] == 'vision_msgs':
        try:
            import vision_msgs.msg  # noqa: F401
        except ImportError:
            raise InputError('roi_msg_type vision_msgs: vision_msgs is not installed '
                             '(install ros-<distro>-vision-msgs or use a2j)') from None
    for name in ('marker_joint_color', 'marker_bone_color'):
        raw[name] = _color(name, raw[name])
    names = {f.name for f in fields(NodeSettings)}
    return NodeSettings(**{k: v for k, v in raw.items() if k in names})


def parameter_values(node):
    """Return {name: value} of every PARAMETERS entry on ``node`` (None when unset)."""
    from rclpy.exceptions import ParameterUninitializedException
    values = {}
    for spec in PARAMETERS:
        try:
            values[spec.name] = node.get_parameter(spec.name).value
        except ParameterUninitializedException:
            values[spec.name] = None
    return values


def read_settings(node):
    """Return the NodeSettings of ``node``'s parameters; InputError names a bad one."""
    return settings_from_values(parameter_values(node))


def check_change(current, changes, configured):
    """Return ``(settings or None, reason)`` for setting ``changes`` ({name: value}).

    ``current`` holds every parameter's value. Refused (None and the reason): a value
    that fails ``settings_from_values`` (checked first), or a parameter read on configure
    while the node is ``configured``. Names not in PARAMETERS (use_sim_time, ...) are
    rclpy's business.
    """
    ours = {k: v for k, v in changes.items() if k in SPECS}
    if not ours:
        return None, ''
    try:
        settings = settings_from_values(dict(current, **ours))
    except InputError as exc:
        return None, str(exc)
    fixed = sorted(set(ours) - RUNTIME)
    if configured and fixed:
        return None, (f'{", ".join(fixed)} is read on configure: deactivate and cleanup the '
                      'node, set it, then configure again')
    return settings, ''


__all__ = ['DEPTH_TRANSPORTS', 'NodeSettings', 'PARAMETERS', 'QOS_RELIABILITY', 'REMOVED',
           'RUNTIME', 'SPECS', 'Spec', 'check_change', 'declare_parameters', 'descriptor',
           'describe', 'parameter_values', 'read_settings', 'removed_parameters',
           'settings_from_values', 'widen_numbers']
