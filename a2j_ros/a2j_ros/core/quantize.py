"""int8 that keeps the joints: mixed-precision QDQ quantisation of the A2J heads graph.

Post-training static quantisation with onnxruntime's tools (``onnxruntime.quantization``):

* QDQ format (QuantizeLinear/DequantizeLinear pairs, fused by onnxruntime into int8 kernels),
  per-channel int8 weights, uint8 activations; 7-bit weights (``reduce_range``) only on CPUs
  without VNNI, where u8s8 products can saturate (onnxruntime's CPU guidance).
* Calibration on crops of the checkpoint's own kind: synthetic frames rendered, cropped and
  normalised with the checkpoint's crop settings (training split; never the judging frames).
  MinMax, Percentile (99.999) or Entropy ranges; ``search_plan`` keeps the one that moves the
  joints least.
* Per-layer sensitivity: each Conv quantised alone, the mean joint shift (mm) it causes on
  held-out frames. Mixed precision: the most sensitive convs stay fp32 (``fp32_nodes``),
  added in order of sensitivity until the int8 graph is within the bound.
* Judged on held-out frames (the validation split, other frames than the tuning ones): mean
  3D error of int8 against the same model's fp32, and the mean joint shift between the two.

A plan (``Int8Plan``: calibration method, fp32 nodes, the held-out figures, whether it passes)
is a small dict stored in the checkpoint (``int8_plan`` entry) or in the backend cache
(``core.auto_backend``); ``core.backends`` builds the ``onnx_int8`` backend from it.
"""
import contextlib
from dataclasses import asdict, dataclass, field
import io
import json
import os
import tempfile
import time

import numpy as np
import torch

from a2j_ros.core.cpu_info import cpu_has_vnni
from a2j_ros.core.errors import InputError

BOUND_MM = 0.5              # int8 mean 3D error must stay within this of fp32's
CALIBRATION_METHODS = ('minmax', 'percentile', 'entropy')
PLAN_FORMAT = 'a2j_ros.int8_plan'
PLAN_VERSION = 1


@dataclass
class Frames:
    """Cropped frames with ground truth: what quantisation is calibrated and judged on."""

    crops: np.ndarray          # (N, 1, S, S) float32 normalised
    transform: object          # core.cropping.CropTransform of the N crops
    camera: object             # PinholeCamera of the frames
    gt_xyz: np.ndarray         # (N, K, 3) mm

    def __len__(self):
        return len(self.crops)

    def to_xyz(self, crop_uvd):
        """Map crop predictions (N, K, 3) to xyz mm."""
        return self.transform.to_xyz(np.asarray(crop_uvd, dtype=np.float64), self.camera)


def synthetic_frames(crop_config, count, split='val', start=0, seed=0):
    """Render frames ``start..start+count-1`` of the synthetic set of the crop's kind.

    Hands: ``SyntheticHands`` cropped at their (noisy) centre; bodies: ``SyntheticBodies``
    cropped by their box. Returns ``Frames``.
    """
    from a2j_ros.core.cropping import crop_body, crop_hand, CropTransform
    from a2j_ros.core.synthetic.dataset import SyntheticBodies, SyntheticHands
    if count < 1:
        raise InputError(f'need at least one frame, got {count}')
    hand = crop_config.mode == 'hand'
    data = (SyntheticHands if hand else SyntheticBodies)(split, int(start + count), seed=seed)
    crops, transforms, gts = [], [], []
    for index in range(int(start), int(start + count)):
        sample = data.load(index)
        if hand:
            crop, transform = crop_hand(sample.depth, sample.centre_uvd, data.camera, crop_config)
        else:
            crop, transform = crop_body(sample.depth, sample.box, crop_config,
                                        getattr(data, 'input_scale', 1e-3))
        crops.append(crop)
        transforms.append(transform)
        gts.append(data.camera.unproject(np.asarray(sample.joints_uvd, dtype=np.float64)))
    return Frames(np.stack(crops)[:, None].astype(np.float32), CropTransform.concat(transforms),
                  data.camera, np.stack(gts))


def mean_error_mm(frames, crop_uvd):
    """Return the mean 3D joint error (mm) of crop predictions against the frames' truth."""
    return float(np.linalg.norm(frames.to_xyz(crop_uvd) - frames.gt_xyz, axis=-1).mean())


def mean_shift_mm(frames, crop_uvd, reference_uvd):
    """Return the mean 3D distance (mm) between two predictions of the same frames."""
    return float(np.linalg.norm(frames.to_xyz(crop_uvd) - frames.to_xyz(reference_uvd),
                                axis=-1).mean())


# ------------------------------------------------------------------ the machine's int8 kind

def default_reduce_range():
    """7-bit weights only on x86 without VNNI (u8s8 saturation); full 8 bits elsewhere."""
    import platform
    return platform.machine().lower() in ('x86_64', 'amd64') and not cpu_has_vnni()


# ------------------------------------------------------------------ the plan

@dataclass
class Int8Plan:
    """How to quantise one checkpoint, and how well that held on held-out frames."""

    calibration: str = 'minmax'
    fp32_nodes: list = field(default_factory=list)     # Conv node names kept fp32
    reduce_range: bool = False
    calibration_frames: int = 32
    held_out: dict = field(default_factory=dict)       # frames, fp32_mm, int8_mm, delta, shift
    sensitivity: dict = field(default_factory=dict)    # node -> mean shift mm, quantised alone
    passes: bool = False                               # held-out delta within BOUND_MM
    bound_mm: float = BOUND_MM
    speed: dict = field(default_factory=dict)          # fp32_ms, int8_ms (one thread, batch 1)

    def to_dict(self):
        """Return a JSON-able dict (with format and version tags)."""
        return {'format': PLAN_FORMAT, 'version': PLAN_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, data):
        """Return the plan of ``to_dict`` output; raise InputError when it is not one."""
        if not isinstance(data, dict) or data.get('format') != PLAN_FORMAT:
            raise InputError('not an a2j_ros int8 plan (no format tag)')
        if int(data.get('version', 0)) > PLAN_VERSION:
            raise InputError(f'int8 plan version {data.get("version")} is newer than this '
                             f'a2j_ros ({PLAN_VERSION})')
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        plan = cls(**known)
        if plan.calibration not in CALIBRATION_METHODS:
            raise InputError(f'int8 plan: unknown calibration {plan.calibration!r}')
        return plan

    def summary(self):
        """Return one line: method, fp32 layers, held-out figures."""
        h = self.held_out
        figures = (f'; held-out {h.get("frames")} frames: fp32 {h.get("fp32_mm", 0):.2f} mm, '
                   f'int8 {h.get("int8_mm", 0):.2f} mm (delta {h.get("delta_mm", 0):+.2f}, '
                   f'mean shift {h.get("shift_mm", 0):.2f} mm)') if h else ''
        return (f'{self.calibration} calibration, {len(self.fp32_nodes)} conv(s) kept fp32'
                + figures + ('' if self.passes else f' - over the {self.bound_mm} mm bound'))


# ------------------------------------------------------------------ quantising a graph

def conv_nodes(onnx_bytes):
    """Return the names of the Conv nodes of a graph, in graph order."""
    import onnx
    return [n.name for n in onnx.load_from_string(onnx_bytes).graph.node if n.op_type == 'Conv']


def _method(name):
    from onnxruntime.quantization import CalibrationMethod
    table = {'minmax': CalibrationMethod.MinMax, 'percentile': CalibrationMethod.Percentile,
             'entropy': CalibrationMethod.Entropy}
    if name not in table:
        raise InputError(f'unknown calibration {name!r}; use {", ".join(CALIBRATION_METHODS)}')
    return table[name]


class Quantizer:
    """Quantise one fp32 heads graph many ways, calibrating each method once.

    ``onnx_bytes``: the fp32 graph (``core.export.export_onnx_bytes(heads_only=True)``);
    ``crops``: calibration crops (M, 1, S, S). Pre-processing (shape inference) runs once;
    tensor ranges are cached per calibration method in a temporary folder.
    """

    def __init__(self, onnx_bytes, crops, reduce_range=None):
        from onnxruntime.quantization.shape_inference import quant_pre_process
        self.crops = np.ascontiguousarray(crops, dtype=np.float32)
        if self.crops.ndim != 4 or len(self.crops) == 0:
            raise InputError(f'calibration crops must be (M, 1, S, S), got {self.crops.shape}')
        self.reduce_range = default_reduce_range() if reduce_range is None else reduce_range
        self._tmp = tempfile.TemporaryDirectory(prefix='a2j_int8_')
        raw = os.path.join(self._tmp.name, 'raw.onnx')
        self.path = os.path.join(self._tmp.name, 'prepped.onnx')
        with open(raw, 'wb') as f:
            f.write(onnx_bytes)
        quant_pre_process(raw, self.path, skip_symbolic_shape=True)
        with open(self.path, 'rb') as f:
            self.convs = conv_nodes(f.read())

    def close(self):
        """Remove the temporary folder."""
        self._tmp.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def quantize(self, method='minmax', fp32_nodes=(), only_nodes=None):
        """Return the QDQ int8 graph (bytes).

        ``fp32_nodes`` stay float; ``only_nodes``: quantise just these (layer sensitivity).
        """
        from onnxruntime.quantization import (
            CalibrationDataReader,
            QuantFormat,
            quantize_static,
            QuantType,
        )
        unknown = [n for n in list(fp32_nodes) + list(only_nodes or []) if n not in self.convs]
        if unknown:
            raise InputError(f'int8 plan names convs this graph does not have: {unknown[:3]}')
        crops = self.crops

        class Reader(CalibrationDataReader):
            def __init__(self):
                self.items = iter([{'crops': crops[i:i + 1]} for i in range(len(crops))])

            def get_next(self):
                return next(self.items, None)

        cache = os.path.join(self._tmp.name, f'ranges_{method}.json')
        out = os.path.join(self._tmp.name, 'q.onnx')
        extra = {}
        if method == 'percentile':
            extra['CalibPercentile'] = 99.999
        with contextlib.redirect_stdout(io.StringIO()):     # its calibrators print progress
            quantize_static(self.path, out, None if os.path.isfile(cache) else Reader(),
                            quant_format=QuantFormat.QDQ, per_channel=True,
                            reduce_range=self.reduce_range, activation_type=QuantType.QUInt8,
                            weight_type=QuantType.QInt8, calibrate_method=_method(method),
                            nodes_to_quantize=list(only_nodes) if only_nodes else None,
                            nodes_to_exclude=list(fp32_nodes), extra_options=extra,
                            calibration_cache_path=cache)
        with open(out, 'rb') as f:
            return f.read()


# ------------------------------------------------------------------ running graphs

class HeadsRunner:
    """Run a heads graph with onnxruntime and aggregate in fp32 like ``core.backends``."""

    def __init__(self, onnx_bytes, model, threads=1):
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(onnx_bytes, options,
                                            providers=['CPUExecutionProvider'])
        size = int(model.config.input_size)
        self.anchors = model.anchors_for(torch.empty(0, 1, size, size)).float()
        self.use_concentration = bool(model.config.anchor_proposal)

    def uvd(self, crops, batch=16):
        """Return crop uvd (N, K, 3) numpy for crops (N, 1, S, S)."""
        from a2j_ros.core.aggregation import decode
        outs = []
        for i in range(0, len(crops), batch):
            heads = [torch.from_numpy(o) for o in
                     self.session.run(None, {'crops': crops[i:i + batch]})]
            out = {'logits': heads[0], 'offsets': heads[1],
                   'depth': heads[2] if len(heads) > 2 else None}
            outs.append(decode(out, self.anchors, use_concentration=self.use_concentration)
                        ['uvd'].numpy())
        return np.concatenate(outs)

    def latency_ms(self, crop, iters=5):
        """Return the median ms of one batch-1 session run."""
        from a2j_ros.core.bench import time_call
        feed = {'crops': np.ascontiguousarray(crop[:1])}
        return time_call(lambda: self.session.run(None, feed), warmup=2,
                         iters=iters)['median_ms']


# ------------------------------------------------------------------ sensitivity and search

def layer_sensitivity(quantizer, model, frames, reference_uvd, method='minmax', log=None):
    """Return {conv: mean joint shift mm} with only that conv quantised (held-out frames)."""
    result = {}
    for i, node in enumerate(quantizer.convs):
        runner = HeadsRunner(quantizer.quantize(method, only_nodes=[node]), model)
        result[node] = mean_shift_mm(frames, runner.uvd(frames.crops), reference_uvd)
        if log:
            log(f'  sensitivity {i + 1}/{len(quantizer.convs)} {node}: {result[node]:.3f} mm')
    return result


def search_plan(model, calibration_frames=32, tuning_frames=24, judging_frames=100,
                methods=CALIBRATION_METHODS, threads=1, log=None, max_fp32=None):
    """Find the int8 plan of ``model`` (an A2JNet with crop settings); return an Int8Plan.

    1. Calibration crops: training-split synthetic frames of the model's crop settings.
    2. Each calibration method on the fully quantised graph, judged by the mean joint shift
       against fp32 on ``tuning_frames`` validation frames; the best one is kept.
    3. Per-layer sensitivity with that method on the tuning frames.
    4. The most sensitive convs are kept fp32, one step at a time (1, 2, 3, 4, 6, 8, ...)
       until the tuning frames' mean shift is within the bound (and the int8 graph still
       faster than fp32), or ``max_fp32`` convs.
    5. The plan is judged on ``judging_frames`` other validation frames: mean 3D error of
       int8 and fp32 against the truth; ``passes`` when they are within ``BOUND_MM``.
    """
    from a2j_ros.core.export import export_onnx_bytes
    say = log or (lambda text: None)
    crop = getattr(model, 'crop_config', None)
    if crop is None:
        raise InputError('the model has no crop settings (crop_config): cannot render '
                         'calibration frames of its kind')
    model = model.float().cpu().eval()
    started = time.perf_counter()
    calib = synthetic_frames(crop, calibration_frames, split='train', seed=7)
    tuning = synthetic_frames(crop, tuning_frames, split='val', start=0)
    judging = synthetic_frames(crop, judging_frames, split='val', start=tuning_frames)
    fp32_bytes = export_onnx_bytes(model, heads_only=True, dynamic_batch=True)
    fp32 = HeadsRunner(fp32_bytes, model, threads)
    ref_tuning = fp32.uvd(tuning.crops)
    plan = Int8Plan(calibration_frames=int(calibration_frames))
    with Quantizer(fp32_bytes, calib.crops) as quantizer:
        plan.reduce_range = bool(quantizer.reduce_range)
        shifts = {}
        for method in methods:
            runner = HeadsRunner(quantizer.quantize(method), model, threads)
            shifts[method] = mean_shift_mm(tuning, runner.uvd(tuning.crops), ref_tuning)
            say(f'calibration {method}: all convs int8, mean shift {shifts[method]:.3f} mm '
                f'on {tuning_frames} tuning frames')
        plan.calibration = min(shifts, key=shifts.get)
        plan.sensitivity = layer_sensitivity(quantizer, model, tuning, ref_tuning,
                                             plan.calibration, log=say)
        order = sorted(plan.sensitivity, key=plan.sensitivity.get, reverse=True)
        fp32_ms = fp32.latency_ms(tuning.crops)
        limit = len(order) if max_fp32 is None else int(max_fp32)
        steps = [k for k in (0, 1, 2, 3, 4, 6, 8, 11, 15, 20, 26, 34, 44) if k <= limit]
        best = None
        for k in steps:
            runner = HeadsRunner(quantizer.quantize(plan.calibration, fp32_nodes=order[:k]),
                                 model, threads)
            shift = mean_shift_mm(tuning, runner.uvd(tuning.crops), ref_tuning)
            int8_ms = runner.latency_ms(tuning.crops)
            say(f'{k} conv(s) fp32: mean shift {shift:.3f} mm, {int8_ms:.1f} ms vs fp32 '
                f'{fp32_ms:.1f} ms')
            best = (k, runner, int8_ms)
            if shift <= BOUND_MM or int8_ms >= fp32_ms:
                break
        k, runner, int8_ms = best
        plan.fp32_nodes = order[:k]
    ref_judging = fp32.uvd(judging.crops)
    int8_judging = runner.uvd(judging.crops)
    fp32_mm = mean_error_mm(judging, ref_judging)
    int8_mm = mean_error_mm(judging, int8_judging)
    plan.held_out = {'frames': int(judging_frames), 'split': 'val',
                     'first_frame': int(tuning_frames), 'fp32_mm': fp32_mm, 'int8_mm': int8_mm,
                     'delta_mm': int8_mm - fp32_mm,
                     'shift_mm': mean_shift_mm(judging, int8_judging, ref_judging)}
    plan.speed = {'fp32_ms': fp32.latency_ms(judging.crops, iters=9),
                  'int8_ms': runner.latency_ms(judging.crops, iters=9), 'threads': int(threads),
                  'search_s': time.perf_counter() - started}
    plan.passes = bool(abs(plan.held_out['delta_mm']) <= BOUND_MM
                       and plan.speed['int8_ms'] < plan.speed['fp32_ms'])
    return plan


def default_plan(onnx_bytes):
    """Return the plan used without a searched one: MinMax, the stem conv kept fp32.

    The stem (one raw depth channel in) was the most sensitive conv of every model measured
    (docs/performance.md); ``passes`` stays False: nothing was judged.
    """
    stem = [n for n in conv_nodes(onnx_bytes) if n.endswith('/backbone/conv1/Conv')]
    return Int8Plan(calibration='minmax', fp32_nodes=stem, reduce_range=default_reduce_range())


def quantize_with_plan(fp32_bytes, model, plan, crops=None):
    """Return the int8 graph (bytes) of ``plan`` for the fp32 heads graph of ``model``.

    ``crops``: calibration crops; default ``plan.calibration_frames`` training-split synthetic
    frames of the model's crop settings (what ``search_plan`` calibrated on).
    """
    if crops is None:
        crop = getattr(model, 'crop_config', None)
        if crop is None:
            raise InputError('int8 needs calibration crops or a model with crop settings')
        crops = synthetic_frames(crop, plan.calibration_frames, split='train', seed=7).crops
    with Quantizer(fp32_bytes, crops, reduce_range=plan.reduce_range) as quantizer:
        return quantizer.quantize(plan.calibration, fp32_nodes=plan.fp32_nodes)


def read_plan_json(path):
    """Return the Int8Plan stored as JSON in ``path``."""
    try:
        with open(path) as f:
            return Int8Plan.from_dict(json.load(f))
    except (OSError, ValueError) as exc:
        raise InputError(f'{path}: cannot read an int8 plan ({exc})') from None


__all__ = ['BOUND_MM', 'CALIBRATION_METHODS', 'Frames', 'HeadsRunner', 'Int8Plan', 'Quantizer',
           'conv_nodes', 'cpu_has_vnni', 'default_plan', 'default_reduce_range',
           'layer_sensitivity',
           'mean_error_mm', 'mean_shift_mm', 'quantize_with_plan', 'read_plan_json',
           'search_plan', 'synthetic_frames']
