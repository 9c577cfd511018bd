"""What this CPU can do: feature flags, model name, native bf16, 8-bit dot products (VNNI).

Read at run time from torch and ``/proc/cpuinfo`` (empty where unreadable): the machines
this package runs on differ (AVX2 only, AVX-512, AVX-512 VNNI, AMX), so speed decisions are
made here, not in a document.
"""
from pathlib import Path

import torch


def cpu_flags():
    """Return the set of CPU feature flags from /proc/cpuinfo (empty where unreadable)."""
    try:
        text = Path('/proc/cpuinfo').read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith('flags'):
            return set(line.split(':', 1)[1].split())
    return set()


def cpu_model_name(default='unknown CPU'):
    """Return the CPU's model name from /proc/cpuinfo (``default`` where unreadable)."""
    try:
        text = Path('/proc/cpuinfo').read_text()
    except OSError:
        return default
    for line in text.splitlines():
        if line.startswith('model name'):
            return line.split(':', 1)[1].strip()
    return default


def cpu_has_native_bf16():
    """Return True when the CPU computes bf16 in hardware (AVX512-BF16 or AMX-BF16)."""
    checks = [getattr(torch.cpu, '_is_avx512_bf16_supported', None),
              getattr(torch.cpu, '_is_amx_tile_supported', None)]
    if any(check is not None and check() for check in checks):
        return True
    return bool({'avx512_bf16', 'amx_bf16'} & cpu_flags())


def cpu_has_vnni():
    """Return True when the CPU has an 8-bit dot-product instruction (VNNI or AMX-INT8)."""
    return bool({'avx512_vnni', 'avx_vnni', 'amx_int8'} & cpu_flags())


__all__ = ['cpu_flags', 'cpu_has_native_bf16', 'cpu_has_vnni', 'cpu_model_name']
