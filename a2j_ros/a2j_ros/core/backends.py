"""Inference backends: one A2J network run by eager PyTorch, torch.compile or onnxruntime.

``make_predictor(model, backend, device)`` returns a ``Predictor`` whose ``predict(x)`` takes
normalised crops (N, 1, S, S) (torch or numpy) and returns, like ``A2JNet.predict``, a dict
``uvd`` (N, K, 3) and ``confidence`` (N, K), float32 torch tensors (on the CPU for the onnx
backends). Only the network runs in the backend; its raw head outputs are cast to float32 and
aggregated by ``core.aggregation.decode`` (Eq. 1-2, softmax over anchors) in fp32, always.

Backends (``BACKENDS``; ``available_backends(device)`` lists the ones that work here):

============== ====== ==================================================================
name           device what runs the network
============== ====== ==================================================================
eager          both   the model as given, fp32 (A2JNet is already channels_last)
channels_last  both   model and input converted to NHWC, fp32
fused          both   BatchNorm folded into the preceding conv, NHWC, fp32
bf16           both   fused, weights and activations bfloat16 (CPU: only where the CPU has
                      native bf16, AVX512-BF16 or AMX; elsewhere oneDNN emulates it and it
                      is far slower than fp32)
fp16           cuda   fused, weights and activations float16
compile        both   torch.compile (inductor) of the fused fp32 model with
                      ``torch._inductor.config.freezing = True``; compiled on the first call
                      (``compile_seconds``), recompiled for each new batch size
onnx           both   ONNX export of the heads run by onnxruntime, all graph optimisations
                      (CPU provider; CUDA provider on cuda)
onnx_int8      cpu    the onnx graph quantised to int8 by ``core.quantize``: QDQ, per-channel
                      weights, the checkpoint's int8 plan (calibration method, convs kept
                      fp32); without a plan MinMax with the stem conv fp32
tensorrt       cuda   onnxruntime's TensorRT provider, fp16, engine cache on disk
============== ====== ==================================================================

``auto`` (``make_predictor(model, 'auto')``, the node's default) is not a backend of its own:
``core.auto_backend`` picks the fastest of these that runs here and matches eager fp32 on a
few crops, and caches that choice per checkpoint + machine.

The CUDA paths (fp16, bf16 on cuda, compile on cuda, onnx on cuda, tensorrt) are written
but untested on the machine this package is developed on (it has no GPU).
Devices are strings ('cpu', 'cuda', 'cuda:1', 'auto'); nothing calls ``.cuda()``.
"""
import torch

from a2j_ros.core.cpu_info import cpu_flags, cpu_has_native_bf16
from a2j_ros.core.errors import InputError
from a2j_ros.core.predictors import (
    available_backends,
    BackendInfo,
    BACKENDS,
    BackendUnavailable,
    build_predictor,
    device_type,
    OnnxPredictor,
    onnxruntime_providers,
    Predictor,
    TorchPredictor,
)
from a2j_ros.core.predictors import backend_status as concrete_status

AUTO = 'auto'     # make_predictor's "choose for me" (core.auto_backend)


def backend_status(backend, device='cpu'):
    """Return None when ``backend`` (or 'auto') can run on ``device`` here, else the reason."""
    if backend == AUTO:
        if device_type(device) == 'cuda' and not torch.cuda.is_available():
            return 'CUDA is not available here'
        return None
    return concrete_status(backend, device)


def make_predictor(model, backend='eager', device='cpu', **options):
    """Return a Predictor running ``model`` (an A2JNet) with ``backend`` on ``device``.

    ``backend='auto'``: the fastest backend that runs here and matches eager fp32
    (``core.auto_backend.choose_backend``; the predictor's ``selection`` says what and why;
    option ``auto_cache`` overrides its cache folder, ``threads`` its onnxruntime threads).
    Any other name is built by ``core.predictors.build_predictor`` with ``options`` (force,
    threads, calibration, compile_mode, warmup, int8_plan, int8_cache, auto_cache).
    Raise BackendUnavailable naming the reason when the backend cannot run here.
    """
    if backend != AUTO:
        return build_predictor(model, backend, device, **options)
    if not hasattr(model, 'config') or not hasattr(model, 'anchors_for'):
        raise InputError('make_predictor needs an A2JNet (with .config and .anchors_for)')
    from a2j_ros.core.auto_backend import choose_backend
    reason = backend_status(backend, device)
    if reason is not None:
        raise BackendUnavailable(f'backend auto on {device}: {reason}')
    return choose_backend(model, device, threads=options.get('threads'),
                          cache=options.get('auto_cache'))[0]


__all__ = ['AUTO', 'BACKENDS', 'BackendInfo', 'BackendUnavailable', 'OnnxPredictor',
           'Predictor', 'TorchPredictor', 'available_backends', 'backend_status',
           'build_predictor', 'cpu_flags', 'cpu_has_native_bf16', 'device_type',
           'make_predictor', 'onnxruntime_providers']
