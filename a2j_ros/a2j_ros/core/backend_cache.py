"""The backend cache: per checkpoint + machine choices of ``backend: auto``, int8 plans and graphs.

Folder ``cache_dir()``: ``$XDG_CACHE_HOME/a2j_ros``, else ``~/.cache/a2j_ros``.

* ``backends.json``: {model key | machine key: chosen backend, timings, rejections}.
* ``int8/<model key>.plan.json``: the checkpoint's int8 plan (``a2j quantize``).
* ``int8/<model key>.onnx``: its quantised graph, so quantisation runs once per machine.

The model key hashes the model's config, crop settings and weights; the machine key the CPU
model and flags, the device (and GPU name), thread count and library versions. Files are
written atomically; an unreadable file is ignored (and rewritten), never fatal.
"""
import hashlib
import json
import logging
import os
from pathlib import Path
import platform

import torch

from a2j_ros.core.cpu_info import cpu_flags, cpu_model_name
from a2j_ros.core.errors import InputError

LOG = logging.getLogger('a2j_ros.backends')
CACHE_VERSION = 1


def cache_dir():
    """Return the cache folder: $XDG_CACHE_HOME/a2j_ros, else ~/.cache/a2j_ros."""
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return Path(base) / 'a2j_ros'


def model_key(model):
    """Return a short hash of a model's config and weights (its identity for the cache)."""
    digest = hashlib.blake2b(digest_size=12)
    digest.update(json.dumps(model.config.to_dict(), sort_keys=True).encode())
    crop = getattr(model, 'crop_config', None)
    digest.update(json.dumps(crop.to_dict() if crop is not None else None,
                             sort_keys=True).encode())
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().to('cpu', torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()


def machine_key(device):
    """Return a short hash of what makes backend speed differ between machines."""
    try:
        import onnxruntime
        ort = onnxruntime.__version__
    except ImportError:
        ort = None
    kind = torch.device('cuda' if str(device) == 'auto' and torch.cuda.is_available()
                        else 'cpu' if str(device) == 'auto' else str(device)).type
    parts = {'cpu': cpu_model_name(), 'machine': platform.machine(), 'flags': sorted(cpu_flags()),
             'threads': torch.get_num_threads(), 'torch': torch.__version__, 'ort': ort,
             'device': kind,
             'gpu': torch.cuda.get_device_name(torch.device(device)) if kind == 'cuda' else None}
    return hashlib.blake2b(json.dumps(parts, sort_keys=True).encode(),
                           digest_size=8).hexdigest()


# ------------------------------------------------------------------ the cache file

def read_cache(path):
    """Return the entries of a backends.json cache file ({} when missing or unreadable)."""
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get('version') != CACHE_VERSION:
        return {}
    return data.get('entries', {}) if isinstance(data.get('entries'), dict) else {}


def write_cache(path, key, entry):
    """Add one entry to the cache file atomically; a read-only cache is only logged."""
    from a2j_ros.core.atomic import atomic_write
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        entries = read_cache(path)
        entries[key] = entry
        with atomic_write(path) as stream:
            stream.write(json.dumps({'version': CACHE_VERSION, 'entries': entries},
                                    indent=1).encode())
    except OSError as exc:
        LOG.warning('backend cache %s not written: %s', path, exc)


def int8_plan_for(model, cache=None):
    """Return the Int8Plan stored for this model (in the model or the cache), or None."""
    from a2j_ros.core.quantize import Int8Plan
    plan = getattr(model, 'int8_plan', None)
    if isinstance(plan, dict):
        plan = Int8Plan.from_dict(plan)
    if plan is not None:
        return plan
    path = Path(cache or cache_dir()) / 'int8' / f'{model_key(model)}.plan.json'
    if not path.is_file():
        return None
    try:
        return Int8Plan.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, InputError) as exc:
        LOG.warning('int8 plan %s unreadable, ignored: %s', path, exc)
        return None


def int8_graph_path(model, cache=None):
    """Return the path of this model's cached int8 graph (built from its stored plan)."""
    return Path(cache or cache_dir()) / 'int8' / f'{model_key(model)}.onnx'


def store_int8_plan(model, plan, cache=None):
    """Write ``plan`` for this model into the cache (dropping its old int8 graph); return it."""
    from a2j_ros.core.atomic import atomic_write
    path = Path(cache or cache_dir()) / 'int8' / f'{model_key(model)}.plan.json'
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as stream:
        stream.write(json.dumps(plan.to_dict(), indent=1).encode())
    int8_graph_path(model, cache).unlink(missing_ok=True)
    return path


__all__ = ['CACHE_VERSION', 'cache_dir', 'int8_graph_path', 'int8_plan_for', 'machine_key',
           'model_key', 'read_cache', 'store_int8_plan', 'write_cache']
