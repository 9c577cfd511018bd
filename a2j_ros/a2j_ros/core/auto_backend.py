"""``backend: auto``: the fastest backend that runs here and matches eager fp32, chosen at start.

``choose_backend(model, device)`` builds each candidate backend of the device in turn (CPU:
onnx_int8 when the checkpoint has a passing int8 plan, bf16 where the CPU has native bf16,
onnx, fused, eager; CUDA: tensorrt, fp16, onnx, fused, eager), runs it on a few rendered crops
of the model's own kind, checks its joints against eager fp32 (parity) and times it at
batch 1. The fastest one within the parity bound wins; eager is the fallback. The whole search
is bounded by ``budget_s`` (candidates not reached are listed as such).

``torch.compile`` is never a candidate: it compiles for 5-60 s on the first frame of every
process, far past a node's start-up budget (choose ``backend: compile`` explicitly).

The choice is cached per checkpoint + machine (``cache_dir()``: ``$XDG_CACHE_HOME/a2j_ros``
or ``~/.cache/a2j_ros``, file ``backends.json``): the key is a hash of the model's weights and
config, the CPU model and flags, the device, thread count and library versions. On a cache hit
only the chosen backend is built and its parity checked again (a failing check reruns the
search). int8 graphs are cached beside it (``int8/<model key>.onnx``), so quantisation runs
once per machine.

Parity bounds: fp32 and half-precision backends must keep every joint within ``PARITY_MM``
(0.5 mm) of eager fp32 on the check crops; int8 is accepted only with a plan that passed the
held-out judgement (``core.quantize``) and a mean joint shift within 0.5 mm on the crops.
"""
from dataclasses import asdict, dataclass, field
import logging
from pathlib import Path
import time

import numpy as np
import torch

from a2j_ros.core.backend_cache import (
    cache_dir,
    int8_graph_path,
    int8_plan_for,
    machine_key,
    model_key,
    read_cache,
    write_cache,
)
from a2j_ros.core.errors import A2JError
from a2j_ros.core.predictors import (
    backend_status,
    BackendUnavailable,
    build_predictor,
    device_type,
)

LOG = logging.getLogger('a2j_ros.backends')
PARITY_MM = 0.5
CANDIDATES = {'cpu': ('onnx_int8', 'bf16', 'onnx', 'fused', 'eager'),
              'cuda': ('tensorrt', 'fp16', 'onnx', 'fused', 'eager')}
DEFAULT_BUDGET_S = 15.0
CHECK_CROPS = 4


@dataclass
class Selection:
    """What ``auto`` chose and why (logged, in /diagnostics, in ``a2j bench``)."""

    backend: str
    device: str
    parity_mm: float                 # largest (int8: mean) joint distance to eager fp32
    parity_kind: str                 # 'max' or 'mean'
    ms: dict = field(default_factory=dict)          # backend -> median ms at batch 1
    rejected: dict = field(default_factory=dict)    # backend -> reason
    cached: bool = False
    seconds: float = 0.0             # time spent choosing (this process)
    key: str = ''

    def summary(self):
        """Return one line: the choice, its parity and the alternatives' times."""
        times = ', '.join(f'{k} {v:.1f} ms' for k, v in sorted(self.ms.items(),
                                                              key=lambda kv: kv[1]))
        return (f'auto -> {self.backend} on {self.device}: parity {self.parity_kind} '
                f'{self.parity_mm:.3f} mm vs eager fp32 (bound {PARITY_MM} mm); '
                f'{"cached choice" if self.cached else "measured: " + times}; '
                f'start-up {self.seconds:.1f} s')

    def to_dict(self):
        """Return a JSON-able dict."""
        return asdict(self)


def check_crops(model, count=CHECK_CROPS):
    """Return ``count`` rendered crops (count, 1, S, S) of the model's own kind."""
    from a2j_ros.core.bench import bench_crop_config
    from a2j_ros.core.quantize import synthetic_frames
    crop = getattr(model, 'crop_config', None)
    if crop is None:
        mode = 'hand' if 'hand' in str(model.config.layout) else 'body'
        crop = bench_crop_config(mode, model.config.input_size)
    return synthetic_frames(crop, count, split='val', seed=11)


def parity_mm(uvd, reference, frames, kind='max'):
    """Return the largest ('max') or mean joint distance (mm) between two crop predictions."""
    a = frames.to_xyz(_numpy(uvd))
    b = frames.to_xyz(_numpy(reference))
    dist = np.linalg.norm(a - b, axis=-1)
    return float(dist.max() if kind == 'max' else dist.mean())


def _numpy(values):
    if isinstance(values, torch.Tensor):
        return values.detach().to('cpu', torch.float64).numpy()
    return np.asarray(values, dtype=np.float64)


# ------------------------------------------------------------------ choosing

def _build(model, name, device, threads, cache, plan, key):
    if name != 'onnx_int8':
        return build_predictor(model, name, device, threads=threads)
    return build_predictor(model, name, device, threads=threads, int8_plan=plan,
                           int8_cache=int8_graph_path(model, cache))


def _candidates(device, plan):
    names, skipped = [], {}
    for name in CANDIDATES[device_type(device)]:
        reason = backend_status(name, device)
        if reason is None and name == 'onnx_int8':
            if plan is None:
                reason = 'no int8 plan for this checkpoint (a2j quantize --checkpoint CK)'
            elif not plan.passes:
                reason = f'its int8 plan fails the held-out bound ({plan.summary()})'
        if reason is None:
            names.append(name)
        else:
            skipped[name] = reason
    return names, skipped


def choose_backend(model, device='cpu', *, threads=None, budget_s=None,
                   cache=None, use_cache=True, iters=3):
    """Return (Predictor, Selection): the fastest backend within parity, built and warm.

    ``cache``: cache folder (default ``cache_dir()``); ``use_cache=False`` always measures
    (and still writes the result). ``budget_s`` bounds the search: once spent, the remaining
    candidates are skipped and the best one so far is taken.
    """
    from a2j_ros.core.bench import time_call
    started = time.perf_counter()
    budget_s = DEFAULT_BUDGET_S if budget_s is None else float(budget_s)
    cache = Path(cache or cache_dir())
    model = model.eval()
    key = model_key(model)
    full_key = f'{key}|{machine_key(device)}'
    frames = check_crops(model)
    eager = build_predictor(model, 'eager', device, warmup=False)
    reference = eager.predict(frames.crops)['uvd']
    plan = int8_plan_for(model, cache)
    kind = device_type(device)

    def parity(predictor):
        mode = 'mean' if predictor.name == 'onnx_int8' else 'max'
        return parity_mm(predictor.predict(frames.crops)['uvd'], reference, frames, mode), mode

    if use_cache:
        entry = read_cache(cache / 'backends.json').get(full_key)
        if entry and entry.get('backend') in CANDIDATES[kind]:
            try:
                predictor = (eager if entry['backend'] == 'eager' else
                             _build(model, entry['backend'], device, threads, cache, plan, key))
                value, mode = parity(predictor)
                if value <= PARITY_MM:
                    selection = Selection(predictor.name, str(device), value, mode,
                                          entry.get('ms', {}), entry.get('rejected', {}),
                                          cached=True, key=full_key,
                                          seconds=time.perf_counter() - started)
                    return _finish(predictor, selection)
                LOG.warning('cached backend %s now misses parity (%.3f mm); choosing again',
                            entry['backend'], value)
            except (A2JError, BackendUnavailable) as exc:
                LOG.warning('cached backend %s cannot be built (%s); choosing again',
                            entry.get('backend'), exc)
    names, rejected = _candidates(device, plan)
    x1 = torch.from_numpy(frames.crops[:1])
    ms, best, best_parity = {}, None, (0.0, 'max')
    for name in names:
        if time.perf_counter() - started > budget_s and name != 'eager':
            rejected[name] = f'not tried: the {budget_s:.0f} s start-up budget was spent'
            continue
        try:
            predictor = eager if name == 'eager' else _build(model, name, device, threads,
                                                             cache, plan, key)
        except (A2JError, RuntimeError, ImportError) as exc:
            rejected[name] = f'build failed: {type(exc).__name__}: {str(exc)[:200]}'
            continue
        value, mode = parity(predictor)
        if value > PARITY_MM:
            rejected[name] = f'parity {mode} {value:.3f} mm > {PARITY_MM} mm'
            continue
        ms[name] = time_call(lambda p=predictor: p.predict(x1), warmup=1, iters=iters,
                             max_seconds=2.0)['median_ms']
        if best is None or ms[name] < ms[best.name]:
            best, best_parity = predictor, (value, mode)
    if best is None:      # eager always passes its own parity; only a broken model gets here
        raise BackendUnavailable(f'no backend runs on {device}: {rejected}')
    selection = Selection(best.name, str(device), best_parity[0], best_parity[1], ms, rejected,
                          cached=False, key=full_key, seconds=time.perf_counter() - started)
    write_cache(cache / 'backends.json', full_key,
                 {'backend': best.name, 'ms': ms, 'rejected': rejected,
                  'parity_mm': best_parity[0], 'when': time.strftime('%Y-%m-%dT%H:%M:%S')})
    return _finish(best, selection)


def _finish(predictor, selection):
    predictor.selection = selection
    LOG.info('%s', selection.summary())
    for name, reason in selection.rejected.items():
        LOG.info('auto: %s left out: %s', name, reason)
    return predictor, selection


__all__ = ['CANDIDATES', 'DEFAULT_BUDGET_S', 'PARITY_MM', 'Selection', 'check_crops',
           'choose_backend', 'parity_mm']
