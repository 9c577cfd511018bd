"""The concrete inference backends: one A2J network run by PyTorch, torch.compile or onnxruntime.

``build_predictor(model, backend, device)`` builds one of ``BACKENDS`` (the table is in
``core.backends``, which adds ``auto`` on top); ``backend_status`` says whether one runs here.
Only the network runs in the backend; its raw head outputs are cast to float32 and aggregated
by ``core.aggregation.decode`` (Eq. 1-2) in fp32, always.
"""
import copy
from dataclasses import dataclass
import os
from pathlib import Path
import tempfile
import time

import numpy as np
import torch

from a2j_ros.core.aggregation import decode
from a2j_ros.core.batchnorm_folding import fold_batchnorm
from a2j_ros.core.cpu_info import cpu_flags, cpu_has_native_bf16
from a2j_ros.core.errors import A2JError, InputError


class BackendUnavailable(A2JError):
    """A backend cannot run here (missing package, provider, GPU or CPU feature)."""


@dataclass(frozen=True)
class BackendInfo:
    """What a backend is and where it runs."""

    name: str
    devices: tuple      # device types it supports: 'cpu', 'cuda'
    description: str


BACKENDS = {b.name: b for b in (
    BackendInfo('eager', ('cpu', 'cuda'), 'PyTorch eager fp32, the model as given'),
    BackendInfo('channels_last', ('cpu', 'cuda'), 'PyTorch eager fp32, NHWC'),
    BackendInfo('fused', ('cpu', 'cuda'), 'eager fp32, BatchNorm folded into convs, NHWC'),
    BackendInfo('bf16', ('cpu', 'cuda'), 'fused, bfloat16 weights and activations'),
    BackendInfo('fp16', ('cuda',), 'fused, float16 weights and activations'),
    BackendInfo('compile', ('cpu', 'cuda'), 'torch.compile inductor, freezing, fp32'),
    BackendInfo('onnx', ('cpu', 'cuda'), 'onnxruntime fp32, all graph optimisations'),
    BackendInfo('onnx_int8', ('cpu',), 'onnxruntime, int8 static quantisation'),
    BackendInfo('tensorrt', ('cuda',), 'onnxruntime TensorRT provider, fp16'),
)}


# ------------------------------------------------------------------ what this machine can do

def device_type(device='cpu'):
    """Return 'cpu' or 'cuda' for a device string or torch.device ('auto' included)."""
    name = 'cpu' if device is None else str(device)
    if name == 'auto':
        name = 'cuda' if torch.cuda.is_available() else 'cpu'
    try:
        kind = torch.device(name).type
    except RuntimeError:
        raise InputError(f'unknown device {device!r}; use auto, cpu, cuda or cuda:N') from None
    if kind not in ('cpu', 'cuda'):
        raise InputError(f'unsupported device {device!r}; use auto, cpu, cuda or cuda:N')
    return kind


def onnxruntime_providers():
    """Return onnxruntime's available execution providers ([] when it is not installed)."""
    try:
        import onnxruntime
    except ImportError:
        return []
    return list(onnxruntime.get_available_providers())


def backend_status(backend, device='cpu'):
    """Return None when ``backend`` can run on ``device`` here, else the reason it cannot."""
    if backend not in BACKENDS:
        return f'unknown backend {backend!r}; known: {", ".join(BACKENDS)}'
    kind = device_type(device)
    if kind not in BACKENDS[backend].devices:
        return f'{backend} runs on {"/".join(BACKENDS[backend].devices)} only'
    if kind == 'cuda' and not torch.cuda.is_available():
        return 'CUDA is not available here'
    if backend == 'bf16' and kind == 'cpu' and not cpu_has_native_bf16():
        return ('this CPU has no native bf16 (no AVX512-BF16/AMX): oneDNN would emulate it, '
                'much slower than fp32')
    if backend.startswith('onnx') or backend == 'tensorrt':
        try:
            import onnx  # noqa: F401
        except ImportError:
            return 'the onnx package is not installed'
        providers = onnxruntime_providers()
        need = {'cpu': 'CPUExecutionProvider', 'cuda': 'CUDAExecutionProvider'}[kind]
        if backend == 'tensorrt':
            need = 'TensorrtExecutionProvider'
        if need not in providers:
            return f'onnxruntime has no {need} here (has: {", ".join(providers) or "none"})'
    if backend == 'onnx_int8':
        try:
            import onnxruntime.quantization  # noqa: F401
        except ImportError:
            return 'onnxruntime.quantization is not importable'
    return None


def available_backends(device='cpu'):
    """Return the names of the backends that can run on ``device`` on this machine."""
    return [name for name in BACKENDS if backend_status(name, device) is None]


# ------------------------------------------------------------------ predictors

class Predictor:
    """Run an A2J network by one backend; aggregate its heads in fp32.

    Attributes: ``name`` (backend), ``device`` (torch.device), ``input_size`` (S),
    ``compile_seconds`` (time spent building: export, quantisation, compilation; 0 for eager).
    """

    def __init__(self, model, name, device):
        self.name, self.device = name, device
        self.input_size = int(model.config.input_size)
        self.use_depth = bool(model.config.use_depth)
        self.use_concentration = bool(model.config.anchor_proposal)
        self.num_joints = int(model.config.num_joints)
        # (A, 2) fp32 anchors of an S x S crop, built once, copied once per output device
        self.anchors = {'cpu': model.anchors_for(
            torch.empty(0, 1, self.input_size, self.input_size)).float()}
        self.compile_seconds = 0.0
        self.selection = None       # core.auto_backend.Selection when chosen by 'auto'

    def describe(self):
        """Return the backend's name, with why it was chosen when 'auto' chose it."""
        return self.name if self.selection is None else self.selection.summary()

    def anchors_on(self, device):
        """Return the fp32 anchors (A, 2) on ``device`` (cached)."""
        key = str(device)
        if key not in self.anchors:
            self.anchors[key] = self.anchors['cpu'].to(device)
        return self.anchors[key]

    def check_input(self, x):
        """Return x as a float32 tensor (N, 1, S, S); raise InputError when it is not."""
        if isinstance(x, np.ndarray):
            x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        if not isinstance(x, torch.Tensor):
            raise InputError(f'crops must be a torch tensor or numpy array, got {type(x)}')
        s = self.input_size
        if x.dim() != 4 or x.shape[1] != 1 or x.shape[2] != s or x.shape[3] != s:
            raise InputError(f'{self.name} predictor expects crops shaped (N, 1, {s}, {s}), '
                             f'got {tuple(x.shape)}')
        if x.shape[0] == 0:
            raise InputError('empty batch: no crops to predict')
        return x.float()

    def heads(self, x):
        """Return (logits, offsets, depth or None) for checked float32 crops x."""
        raise NotImplementedError

    @torch.no_grad()
    def predict(self, x):
        """Return ``uvd`` (N, K, 3) and ``confidence`` (N, K) for crops x (N, 1, S, S)."""
        x = self.check_input(x)
        logits, offsets, depth = self.heads(x)
        outputs = {'logits': logits.float(), 'offsets': offsets.float(),
                   'depth': None if depth is None else depth.float()}
        return decode(outputs, self.anchors_on(outputs['logits'].device),
                      use_concentration=self.use_concentration)

    def predict_crops(self, x):
        """Return ``uvd`` (N, K, 3) only."""
        return self.predict(x)['uvd']

    def __repr__(self):
        return f'Predictor({self.name!r}, device={str(self.device)!r})'


class TorchPredictor(Predictor):
    """Eager / channels_last / fused / bf16 / fp16 / compile: a torch module on a device."""

    def __init__(self, model, name, device, dtype=torch.float32, fold=False,
                 channels_last=True, compile_mode=None):
        super().__init__(model, name, device)
        net = fold_batchnorm(model) if fold else copy.deepcopy(model).eval()
        self.channels_last = channels_last
        if channels_last:
            net = net.to(memory_format=torch.channels_last)
        self.net = net.to(device=device, dtype=dtype)
        self.dtype = dtype
        self.fn = self.net
        self.compile_mode = compile_mode
        self.warm = False
        if compile_mode is not None:
            self.fn = torch.compile(self.net, mode=compile_mode, fullgraph=False, dynamic=False)

    def heads(self, x):
        """Run the module; return its head outputs in the backend's dtype."""
        x = x.to(device=self.device, dtype=self.dtype)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        if self.compile_mode is None:
            out = self.fn(x)
        else:
            import torch._inductor.config as inductor_config
            with inductor_config.patch(freezing=True):
                start = time.perf_counter()
                out = self.fn(x)
                if not self.warm:
                    self.compile_seconds = time.perf_counter() - start
                    self.warm = True
        return out['logits'], out['offsets'], out['depth']


class OnnxPredictor(Predictor):
    """onnx / onnx_int8 / tensorrt: the heads exported to ONNX, run by onnxruntime.

    On CUDA the crops and head outputs stay on the GPU through onnxruntime's IO binding
    (``io_binding`` True once a bound run worked; a failing binding falls back to host copies).
    """

    def __init__(self, model, name, device, threads=None, calibration=None, opset=17,
                 cache_dir=None, int8_plan=None, int8_cache=None):
        super().__init__(model, name, device)
        import onnxruntime as ort

        from a2j_ros.core.export import export_onnx_bytes
        start = time.perf_counter()
        self.int8_plan = None
        data = None
        if name == 'onnx_int8' and int8_cache is not None and Path(int8_cache).is_file():
            data = Path(int8_cache).read_bytes()
            self.int8_plan = int8_plan
        if data is None:
            data = export_onnx_bytes(model, heads_only=True, opset=opset, dynamic_batch=True)
            if name == 'onnx_int8':
                data = self._quantize(model, data, calibration, int8_plan, int8_cache)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = int(threads or torch.get_num_threads())
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(data, options,
                                            providers=self.providers(name, device, cache_dir,
                                                                     self.input_size))
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.io_binding = None if device.type == 'cuda' else False
        self.compile_seconds = time.perf_counter() - start

    def _quantize(self, model, data, calibration, plan, cache_path):
        """Return the int8 graph of ``plan`` (default: MinMax, stem fp32); cache it."""
        from a2j_ros.core.atomic import atomic_write
        from a2j_ros.core.quantize import default_plan, quantize_with_plan
        crops = None if calibration is None else self.calibration_crops(calibration)
        if crops is None and getattr(model, 'crop_config', None) is None:
            raise InputError('onnx_int8 needs calibration crops (M, 1, S, S) of the data the '
                             'model will see (calibration=...), or a model with crop settings')
        self.int8_plan = plan if plan is not None else default_plan(data)
        data = quantize_with_plan(data, model, self.int8_plan, crops)
        if cache_path is not None:
            try:
                Path(cache_path).parent.mkdir(parents=True, exist_ok=True)
                with atomic_write(cache_path) as stream:
                    stream.write(data)
            except OSError:
                pass          # a read-only cache only costs the quantisation next time
        return data

    def calibration_crops(self, calibration):
        """Return float32 numpy calibration crops (M, 1, S, S); raise InputError if bad."""
        return self.check_input(torch.as_tensor(calibration)).cpu().numpy()

    @staticmethod
    def providers(name, device, cache_dir=None, size=176, max_batch=8):
        """Return the onnxruntime provider list of a backend on a device.

        TensorRT gets an optimisation profile for batches 1..``max_batch`` (optimised for 1)
        and an engine cache, so the engine is built once per machine, not per start.
        """
        if device.type == 'cpu':
            return ['CPUExecutionProvider']
        cuda = ('CUDAExecutionProvider', {'device_id': device.index or 0})
        if name != 'tensorrt':
            return [cuda, 'CPUExecutionProvider']
        cache = str(cache_dir or Path(tempfile.gettempdir()) / 'a2j_ros_trt_cache')
        os.makedirs(cache, exist_ok=True)
        trt = ('TensorrtExecutionProvider', {
            'device_id': device.index or 0, 'trt_fp16_enable': True,
            'trt_engine_cache_enable': True, 'trt_engine_cache_path': cache,
            'trt_profile_min_shapes': f'crops:1x1x{size}x{size}',
            'trt_profile_opt_shapes': f'crops:1x1x{size}x{size}',
            'trt_profile_max_shapes': f'crops:{max_batch}x1x{size}x{size}'})
        return [trt, cuda, 'CPUExecutionProvider']

    def heads(self, x):
        """Run the session; return torch tensors (CPU; on CUDA via IO binding)."""
        if self.io_binding is not False:
            try:
                outs = self._run_bound(x)
                self.io_binding = True
            except Exception:    # noqa: BLE001 - any binding failure: plain host copies
                self.io_binding = False
                outs = None
            if outs is not None:
                return outs[0], outs[1], (outs[2] if len(outs) > 2 else None)
        outs = self.session.run(self.output_names, {'crops': x.cpu().numpy()})
        outs = [torch.from_numpy(o) for o in outs]
        return outs[0], outs[1], (outs[2] if len(outs) > 2 else None)

    def _run_bound(self, x):
        """CUDA: bind the crops' GPU memory as input and the outputs to the GPU."""
        x = x.to(self.device).contiguous()
        binding = self.session.io_binding()
        binding.bind_input('crops', 'cuda', self.device.index or 0, np.float32,
                           tuple(x.shape), x.data_ptr())
        for name in self.output_names:
            binding.bind_output(name, 'cuda', self.device.index or 0)
        self.session.run_with_iobinding(binding)
        values = binding.get_outputs()
        try:
            return [torch.from_dlpack(v.to_dlpack()) for v in values]
        except (AttributeError, RuntimeError):
            return [torch.from_numpy(v).to(self.device) for v in binding.copy_outputs_to_cpu()]


def build_predictor(model, backend='eager', device='cpu', *, force=False, threads=None,
                    calibration=None, compile_mode=None, warmup=True, int8_plan=None,
                    int8_cache=None, auto_cache=None):
    """Return a Predictor running ``model`` (an A2JNet) with ``backend`` on ``device``.

    ``backend`` is one of ``BACKENDS`` (``core.backends.make_predictor`` also takes 'auto').
    ``force=True`` builds a backend that
    ``available_backends`` leaves out for speed reasons (bf16 on a CPU without native bf16),
    for parity checks. ``threads``: onnxruntime intra-op threads (default: torch's).
    ``calibration``: crops (M, 1, S, S) for onnx_int8 (default: rendered frames of the
    model's crop settings); ``int8_plan``: a ``core.quantize.Int8Plan`` (default: the one
    stored for this checkpoint, else MinMax with the stem conv fp32); ``int8_cache``: file
    the int8 graph is read from / written to; ``auto_cache``: the cache folder where the
    checkpoint's int8 plan is looked up (``core.backend_cache``).
    ``compile_mode``: torch.compile mode for 'compile' (default None = inductor's default;
    'max-autotune-no-cudagraphs' tunes longer). ``warmup`` runs one batch-1 call now, so
    compilation happens here and ``compile_seconds`` is known.
    Raise BackendUnavailable naming the reason when the backend cannot run here.
    """
    if not hasattr(model, 'config') or not hasattr(model, 'anchors_for'):
        raise InputError('make_predictor needs an A2JNet (with .config and .anchors_for)')
    from a2j_ros.core.checkpoint import resolve_device
    reason = backend_status(backend, device)
    if reason is not None and not (force and backend == 'bf16' and 'native bf16' in reason):
        raise BackendUnavailable(f'backend {backend!r} on {device}: {reason}')
    dev = resolve_device(device)
    model = model.eval()
    if backend == 'eager':
        predictor = TorchPredictor(model, backend, dev, channels_last=False)
    elif backend == 'channels_last':
        predictor = TorchPredictor(model, backend, dev)
    elif backend == 'fused':
        predictor = TorchPredictor(model, backend, dev, fold=True)
    elif backend == 'bf16':
        predictor = TorchPredictor(model, backend, dev, dtype=torch.bfloat16, fold=True)
    elif backend == 'fp16':
        predictor = TorchPredictor(model, backend, dev, dtype=torch.float16, fold=True)
    elif backend == 'compile':
        predictor = TorchPredictor(model, backend, dev, fold=True,
                                   compile_mode=compile_mode or 'default')
    else:
        if backend == 'onnx_int8' and int8_plan is None:
            from a2j_ros.core.backend_cache import int8_graph_path, int8_plan_for
            int8_plan = int8_plan_for(model, auto_cache)
            if int8_plan is not None and int8_cache is None and calibration is None:
                int8_cache = int8_graph_path(model, auto_cache)    # the plan's graph
        predictor = OnnxPredictor(model, backend, dev, threads=threads, calibration=calibration,
                                  int8_plan=int8_plan, int8_cache=int8_cache)
    if warmup:
        s = predictor.input_size
        predictor.predict(torch.zeros(1, 1, s, s))
    return predictor


__all__ = ['BACKENDS', 'BackendInfo', 'BackendUnavailable', 'OnnxPredictor', 'Predictor',
           'TorchPredictor', 'available_backends', 'backend_status', 'build_predictor',
           'cpu_flags', 'cpu_has_native_bf16', 'device_type',
           'onnxruntime_providers']
