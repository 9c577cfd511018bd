"""Measurement helpers of ``a2j bench``: timing, FLOPs, matrix-multiply peak, parity in mm.

* ``time_call``: median (and min) wall time of a call after warm-up.
* ``matmul_peak``: GFLOP/s of a square matrix multiply in this process, fp32 or bf16: the
  yardstick for "share of this machine's peak".
* ``count_flops``: FLOPs of one call (``torch.utils.flop_counter``; a multiply-add is 2).
* ``calibrate_batchnorm``: give an untrained network BatchNorm statistics of real-looking
  crops, so its activations have the scale of a trained one and parity numbers mean something.
* ``bench_crops``: rendered synthetic hand or body crops (``core.synthetic``), cropped and
  normalised like real ones.
* ``joint_difference_mm``: the largest joint difference between two predictions in mm.
"""
from dataclasses import replace
import time

import numpy as np
import torch

from a2j_ros.core.errors import InputError

DEFAULT_BODY_BOX_MM = 2000.0   # body crops: world size of a box side (a standing person)


def time_call(fn, warmup=2, iters=10, max_seconds=None):
    """Call ``fn()`` ``warmup`` times, then time ``iters`` calls; return a dict of ms.

    Keys ``median_ms``, ``min_ms``, ``iters`` (calls timed; fewer than asked when
    ``max_seconds`` ran out, at least 1).
    """
    for _ in range(int(warmup)):
        fn()
    times = []
    start = time.perf_counter()
    for _ in range(max(1, int(iters))):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if max_seconds is not None and time.perf_counter() - start > max_seconds:
            break
    times_ms = np.array(times) * 1e3
    return {'median_ms': float(np.median(times_ms)), 'min_ms': float(times_ms.min()),
            'iters': len(times)}


def matmul_peak(dtype=torch.float32, size=1024, iters=8):
    """Return the GFLOP/s of an n x n matrix multiply (median of ``iters``) on the CPU."""
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    timing = time_call(lambda: torch.mm(a, b), warmup=2, iters=iters)
    return 2.0 * size ** 3 / (timing['median_ms'] * 1e-3) / 1e9


def machine_peaks(native_bf16, size=1024):
    """Return {'fp32': GFLOP/s, 'bf16': GFLOP/s or None, 'bf16_emulated': bool}.

    Without native bf16 the bf16 multiply is emulated and slow; it is measured on a small
    matrix (256) only to show how slow, and the share of peak then uses fp32.
    """
    peaks = {'fp32': matmul_peak(torch.float32, size), 'bf16_emulated': not native_bf16}
    peaks['bf16'] = matmul_peak(torch.bfloat16, size if native_bf16 else 256,
                                iters=8 if native_bf16 else 2)
    return peaks


def count_flops(fn, *args):
    """Return the FLOPs of ``fn(*args)`` counted by torch.utils.flop_counter."""
    from torch.utils.flop_counter import FlopCounterMode
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        fn(*args)
    return int(counter.get_total_flops())


@torch.no_grad()
def calibrate_batchnorm(model, crops):
    """Set every BatchNorm's running mean/var to the statistics of ``crops``; return model.

    For untrained networks (no checkpoint): with torchvision's default statistics (0, 1)
    the activations grow through the ResNet, logits saturate and any rounding flips the
    softmax, which says nothing about a trained network. The model is left in eval mode.
    """
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None                   # cumulative average over the calibration batch
    model.train()
    try:
        model(torch.as_tensor(crops, dtype=torch.float32))
    finally:
        for m, momentum in zip(norms, saved):
            m.momentum = momentum
        model.eval()
    return model


def bench_crop_config(mode, input_size):
    """Return the CropConfig of the synthetic preset of ``mode`` ('hand'/'body') at this size."""
    from a2j_ros.core.presets import get_preset
    if mode not in ('hand', 'body'):
        raise InputError(f'crop mode must be hand or body, got {mode!r}')
    return replace(get_preset(f'synthetic_{mode}').crop, input_size=int(input_size))


def bench_crops(crop_config, count=4, seed=0):
    """Return ``count`` rendered, cropped, normalised crops (count, 1, S, S) float32.

    Hands come from ``SyntheticHands`` cropped around their centre, bodies from
    ``SyntheticBodies`` cropped by their box (the validation split, frames 0..count-1).
    """
    from a2j_ros.core.cropping import crop_bodies, crop_hands
    from a2j_ros.core.synthetic.dataset import SyntheticBodies, SyntheticHands
    hand = crop_config.mode == 'hand'
    data = (SyntheticHands if hand else SyntheticBodies)('val', int(count), seed=seed)
    crops = []
    for i in range(int(count)):
        sample = data.load(i)
        if hand:
            crop, _ = crop_hands(sample.depth, sample.centre_uvd[None], data.camera, crop_config)
        else:
            crop, _ = crop_bodies(sample.depth, sample.box[None], crop_config,
                                  input_scale=data.input_scale)
        crops.append(crop)
    return np.concatenate(crops)[:, None].astype(np.float32)


def mm_per_crop_unit(crop_config, body_box_mm=DEFAULT_BODY_BOX_MM):
    """Return (mm per crop pixel, mm per depth-target unit) of a crop config.

    Hands: the crop spans 2 * cube_xy_mm over input_size pixels; T^d = mu * (Z - theta) in
    mm. Bodies: the box is taken as ``body_box_mm`` wide (a person); T^d = mu * Z in metres.
    """
    size = float(crop_config.input_size)
    if crop_config.mode == 'hand':
        return 2.0 * crop_config.cube_xy_mm / size, 1.0 / crop_config.mu
    return float(body_box_mm) / size, 1000.0 / crop_config.mu


def joint_difference_mm(uvd, reference, crop_config, body_box_mm=DEFAULT_BODY_BOX_MM):
    """Return the largest joint distance (mm) between two crop-uvd predictions (N, K, 3)."""
    a, b = _as_float64(uvd), _as_float64(reference)
    if a.shape != b.shape or a.ndim != 3 or a.shape[-1] != 3:
        raise InputError(f'predictions must both be (N, K, 3), got {tuple(a.shape)} and '
                         f'{tuple(b.shape)}')
    px_mm, depth_mm = mm_per_crop_unit(crop_config, body_box_mm)
    scale = np.array([px_mm, px_mm, depth_mm])
    return float(np.linalg.norm((a - b) * scale, axis=-1).max())


def _as_float64(values):
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().double().numpy()
    return np.asarray(values, dtype=np.float64)


__all__ = ['DEFAULT_BODY_BOX_MM', 'bench_crop_config', 'bench_crops', 'calibrate_batchnorm',
           'count_flops', 'joint_difference_mm', 'machine_peaks',
           'matmul_peak', 'mm_per_crop_unit', 'time_call']
