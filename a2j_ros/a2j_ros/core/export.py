"""ONNX export of an A2J network, with its checkpoint's metadata, checked by onnxruntime.

The exported graph takes ``crops`` (N, 1, S, S) float32, the normalised crops of
``core.cropping`` (S fixed, N fixed or dynamic), and by default includes the aggregation
(Eq. 1-2) and the confidence of ``core.aggregation``: outputs ``uvd`` (N, K, 3) (u, v crop
pixels, depth target; 0 in 2D mode) and ``confidence`` (N, K). The file alone then gives
joints in any ONNX runtime (C++, TensorRT, ...), with the anchors stored as a constant.
With ``heads_only`` the outputs are the raw heads ``logits`` (N, A, K), ``offsets``
(N, A, K, 2) and ``depth`` (N, A, K) (absent in 2D mode): what ``core.backends`` runs, so
the aggregation stays in PyTorch fp32 and int8 quantisation never touches the softmax.

``fp16`` stores and computes the network in float16 (for GPUs); inputs and outputs stay
float32 and the aggregation runs in float32 inside the graph.

Metadata (ONNX ``metadata_props``, all strings; JSON where structured):
``a2j_ros.model_config``, ``a2j_ros.crop_config`` (``null`` without one),
``a2j_ros.joint_names``, ``a2j_ros.outputs`` (``joints`` or ``heads``),
``a2j_ros.precision`` (``fp32``/``fp16``), ``a2j_ros.input_size``, ``a2j_ros.version``.
BatchNorm is folded into the convolutions before export.
"""
import io
import json
from pathlib import Path
import warnings

import numpy as np
import torch
from torch import nn

from a2j_ros import __version__
from a2j_ros.core.aggregation import decode
from a2j_ros.core.atomic import atomic_write
from a2j_ros.core.batchnorm_folding import fold_batchnorm
from a2j_ros.core.errors import A2JError, CheckpointError, InputError

DEFAULT_OPSET = 17
METADATA_PREFIX = 'a2j_ros.'


class ExportError(A2JError):
    """An ONNX export failed, or its file does not check out."""


class ExportWrapper(nn.Module):
    """The network as the ONNX graph sees it: crops in, joints (or raw heads) out."""

    def __init__(self, model, heads_only=False, fp16=False):
        super().__init__()
        self.model = model.half() if fp16 else model
        self.heads_only, self.fp16 = heads_only, fp16
        self.use_depth = bool(model.config.use_depth)
        self.use_concentration = bool(model.config.anchor_proposal)
        size = int(model.config.input_size)
        anchors = model.anchors_for(torch.empty(0, 1, size, size))
        self.register_buffer('anchors', anchors.float(), persistent=False)

    def forward(self, crops):
        """Return (uvd, confidence), or the raw heads when ``heads_only``."""
        out = self.model(crops.half() if self.fp16 else crops)
        heads = {'logits': out['logits'].float(), 'offsets': out['offsets'].float(),
                 'depth': None if out['depth'] is None else out['depth'].float()}
        if self.heads_only:
            if heads['depth'] is None:
                return heads['logits'], heads['offsets']
            return heads['logits'], heads['offsets'], heads['depth']
        joints = decode(heads, self.anchors, use_concentration=self.use_concentration)
        return joints['uvd'], joints['confidence']


def output_names(model, heads_only=False):
    """Return the names of the exported graph's outputs."""
    if not heads_only:
        return ['uvd', 'confidence']
    return ['logits', 'offsets'] + (['depth'] if model.config.use_depth else [])


def export_onnx_bytes(model, heads_only=False, opset=DEFAULT_OPSET, dynamic_batch=True,
                      fp16=False, fold=True):
    """Return the ONNX model of ``model`` (an A2JNet) serialised as bytes (no metadata)."""
    opset = int(opset)
    if not 13 <= opset <= 21:
        raise InputError(f'opset {opset} not supported; use 13..21 (default {DEFAULT_OPSET})')
    net = fold_batchnorm(model) if fold else model
    net = net.float().cpu().eval()
    wrapper = ExportWrapper(net, heads_only=heads_only, fp16=fp16).eval()
    size = int(model.config.input_size)
    example = torch.zeros(1, 1, size, size)
    names = output_names(model, heads_only)
    dynamic = ({name: {0: 'batch'} for name in ['crops'] + names} if dynamic_batch else None)
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter('ignore')            # tracer warnings about shape checks
            torch.onnx.export(wrapper, (example,), buffer, dynamo=False, opset_version=opset,
                              input_names=['crops'], output_names=names,
                              dynamic_axes=dynamic, do_constant_folding=True)
    except Exception as exc:   # the exporter raises many types; say what failed, in one line
        raise ExportError(f'ONNX export failed: {type(exc).__name__}: '
                          f'{str(exc).strip().splitlines()[0] if str(exc).strip() else ""}'
                          ) from exc
    return buffer.getvalue()


def metadata_for(model, heads_only=False, fp16=False):
    """Return the ``metadata_props`` dict (str -> str) written into an exported file."""
    from a2j_ros.core.checkpoint import joint_names_for
    crop = getattr(model, 'crop_config', None)
    props = {
        'model_config': json.dumps(model.config.to_dict()),
        'crop_config': json.dumps(crop.to_dict() if crop is not None else None),
        'joint_names': json.dumps(joint_names_for(model.config)),
        'outputs': 'heads' if heads_only else 'joints',
        'precision': 'fp16' if fp16 else 'fp32',
        'input_size': str(int(model.config.input_size)),
        'version': __version__,
    }
    return {METADATA_PREFIX + k: v for k, v in props.items()}


def export_onnx(model, path, opset=DEFAULT_OPSET, dynamic_batch=False, fp16=False,
                heads_only=False):
    """Export ``model`` to ``path`` with metadata, check it with onnx.checker; return the path.

    The file is written atomically (temp file in the same folder, then renamed).
    """
    import onnx
    data = export_onnx_bytes(model, heads_only=heads_only, opset=opset,
                             dynamic_batch=dynamic_batch, fp16=fp16)
    proto = onnx.load_from_string(data)
    proto.doc_string = ('A2J (Xiong et al., ICCV 2019) exported by a2j_ros: input crops '
                        '(N, 1, S, S) float32 normalised; see metadata_props a2j_ros.*')
    for key, value in metadata_for(model, heads_only, fp16).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    try:
        onnx.checker.check_model(proto, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise ExportError(f'exported graph fails onnx.checker: {exc}') from None
    path = Path(path)
    if path.parent and not path.parent.is_dir():
        raise InputError(f'output folder does not exist: {path.parent}')
    with atomic_write(path) as stream:
        stream.write(proto.SerializeToString())
    return path


def read_onnx_metadata(path):
    """Return the a2j_ros metadata of an exported file as a dict (JSON values decoded)."""
    import onnx
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f'ONNX file not found: {path}')
    try:
        proto = onnx.load(str(path), load_external_data=False)
    except Exception as exc:   # protobuf's DecodeError and friends
        raise CheckpointError(f'{path}: not an ONNX model ({type(exc).__name__})') from None
    meta = {}
    for entry in proto.metadata_props:
        if entry.key.startswith(METADATA_PREFIX):
            key = entry.key[len(METADATA_PREFIX):]
            value = entry.value
            if key in ('model_config', 'crop_config', 'joint_names'):
                value = json.loads(value)
            meta[key] = value
    return meta


def onnx_session(path_or_bytes, threads=None, providers=None):
    """Return an onnxruntime InferenceSession with all graph optimisations."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = int(threads or torch.get_num_threads())
    source = str(path_or_bytes) if isinstance(path_or_bytes, (str, Path)) else path_or_bytes
    return ort.InferenceSession(source, options,
                                providers=providers or ['CPUExecutionProvider'])


def check_onnx_parity(path, model, crops, threads=None):
    """Run ``path`` with onnxruntime and ``model`` eagerly on ``crops``; return the differences.

    Returns a dict: ``max_abs`` (largest difference of any output element), and for joint
    outputs ``uvd`` and ``confidence`` arrays from onnxruntime and ``reference_uvd``.
    """
    crops = np.ascontiguousarray(np.asarray(crops, dtype=np.float32))
    session = onnx_session(path, threads=threads)
    outputs = session.run(None, {'crops': crops})
    meta = read_onnx_metadata(path)
    heads_only = meta.get('outputs') == 'heads'
    with torch.no_grad():
        ref = ExportWrapper(model.float().cpu().eval(), heads_only=heads_only)(
            torch.from_numpy(crops))
    diffs = [float(np.max(np.abs(o - r.numpy()))) for o, r in zip(outputs, ref)]
    result = {'max_abs': max(diffs), 'per_output': dict(zip(
        [o.name for o in session.get_outputs()], diffs))}
    if not heads_only:
        result.update(uvd=outputs[0], confidence=outputs[1], reference_uvd=ref[0].numpy())
    return result


__all__ = ['DEFAULT_OPSET', 'ExportError', 'ExportWrapper', 'check_onnx_parity', 'export_onnx',
           'export_onnx_bytes', 'metadata_for', 'onnx_session', 'output_names',
           'read_onnx_metadata']
