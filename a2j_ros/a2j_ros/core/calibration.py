"""Per-joint confidence calibration: raw anchor confidence -> probability of being right.

The network's confidence (core.aggregation) ranks joints well but its values mean nothing in
themselves (the demo model's all lie between 0.009 and 0.053). A ``ConfidenceCalibration``
maps it, per joint, to the fraction of joints with that raw confidence that lie within
``radius_mm`` of the truth (20 mm for hands, 100 mm for bodies: ITOP's mAP threshold).

Fitting (``fit_calibration``), per joint, on held-out frames: the joints are sorted by raw
confidence and cut into ``bins`` groups of equal count; each group's hit rate (error within
the radius) is made non-decreasing in raw confidence by isotonic regression weighted by the
group sizes (``scipy.optimize.isotonic_regression``, pool-adjacent-violators); the map goes
through (group mean raw confidence, fitted rate) and is linear in between, constant beyond.

``expected_calibration_error`` is the usual ECE: ten equal-width confidence bins,
sum over bins of (bin share) * |hit rate - mean confidence|.

A calibration is stored in the checkpoint as the plain dict ``to_dict()`` under the key
``calibration`` (``a2j calibrate``), and ``PosePipeline.from_checkpoint`` applies it.
"""
from dataclasses import dataclass, field

import numpy as np

from a2j_ros.core.errors import InputError

RADIUS_MM = {'hand': 20.0, 'body': 100.0}
MIN_PER_BIN = 10
ECE_BINS = 10


@dataclass
class ConfidenceCalibration:
    """Per joint, a monotone piecewise-linear map through (raw, calibrated) knots."""

    radius_mm: float
    knots_raw: list                     # K lists of increasing raw confidences
    knots_calibrated: list              # K lists of non-decreasing probabilities in 0..1
    info: dict = field(default_factory=dict)     # how it was fitted (frames, seed, ECE ...)

    @property
    def num_joints(self):
        """Return K."""
        return len(self.knots_raw)

    def apply(self, confidence):
        """Return calibrated confidences for raw ones (..., K) (float32, same shape)."""
        raw = np.asarray(confidence, dtype=np.float64)
        if raw.shape[-1] != self.num_joints:
            raise InputError(f'the calibration is for {self.num_joints} joints, the model '
                             f'gave {raw.shape[-1]}')
        out = np.empty_like(raw)
        for j, (xs, ys) in enumerate(zip(self.knots_raw, self.knots_calibrated)):
            out[..., j] = np.interp(raw[..., j], xs, ys)
        return np.clip(out, 0.0, 1.0).astype(np.float32)

    def to_dict(self):
        """Return the plain dict stored in a checkpoint."""
        return {'method': 'isotonic_binned', 'radius_mm': float(self.radius_mm),
                'knots_raw': [[float(v) for v in xs] for xs in self.knots_raw],
                'knots_calibrated': [[float(v) for v in ys] for ys in self.knots_calibrated],
                'info': dict(self.info)}

    @classmethod
    def from_dict(cls, data, source='checkpoint'):
        """Rebuild a calibration from ``to_dict()``; InputError naming ``source`` if broken."""
        try:
            xs = [np.asarray(v, dtype=np.float64) for v in data['knots_raw']]
            ys = [np.asarray(v, dtype=np.float64) for v in data['knots_calibrated']]
            radius = float(data['radius_mm'])
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f'{source}: unreadable confidence calibration ({exc})') from None
        if len(xs) != len(ys) or not xs or any(
                len(x) != len(y) or len(x) == 0 or np.any(np.diff(x) <= 0)
                or np.any(np.diff(y) < 0) or np.any((y < 0) | (y > 1)) for x, y in zip(xs, ys)):
            raise InputError(f'{source}: the confidence calibration is not a set of monotone '
                             'maps into 0..1')
        return cls(radius, [x.tolist() for x in xs], [y.tolist() for y in ys],
                   dict(data.get('info') or {}))


def _fit_joint(raw, hit, bins):
    """Return (knots raw, knots calibrated) for one joint."""
    from scipy.optimize import isotonic_regression
    order = np.argsort(raw, kind='stable')
    raw, hit = raw[order], hit[order].astype(np.float64)
    groups = np.array_split(np.arange(len(raw)), max(1, min(bins, len(raw) // MIN_PER_BIN)))
    x = np.array([raw[g].mean() for g in groups])
    y = np.array([hit[g].mean() for g in groups])
    w = np.array([len(g) for g in groups], dtype=np.float64)
    # groups of equal raw confidence become one knot
    keys, inverse = np.unique(x, return_inverse=True)
    if len(keys) < len(x):
        w_sum = np.bincount(inverse, weights=w)
        y = np.bincount(inverse, weights=w * y) / w_sum
        x, w = keys, w_sum
    fitted = isotonic_regression(y, weights=w, increasing=True).x
    return x, np.clip(fitted, 0.0, 1.0)


def fit_calibration(confidence, errors_mm, radius_mm, bins=20, info=None):
    """Fit a ConfidenceCalibration on raw confidences (N, K) and joint errors (N, K) in mm."""
    conf = np.asarray(confidence, dtype=np.float64)
    err = np.asarray(errors_mm, dtype=np.float64)
    if conf.ndim != 2 or conf.shape != err.shape:
        raise InputError(f'confidences {conf.shape} and errors {err.shape} must both be (N, K)')
    if len(conf) < MIN_PER_BIN:
        raise InputError(f'calibration needs at least {MIN_PER_BIN} frames, got {len(conf)}')
    if not np.all(np.isfinite(conf)) or not np.all(np.isfinite(err)):
        raise InputError('confidences and errors must be finite')
    hits = err <= float(radius_mm)
    xs, ys = zip(*(_fit_joint(conf[:, j], hits[:, j], int(bins)) for j in range(conf.shape[1])))
    return ConfidenceCalibration(float(radius_mm), [x.tolist() for x in xs],
                                 [y.tolist() for y in ys], dict(info or {}))


def expected_calibration_error(confidence, hits, bins=ECE_BINS):
    """Return (ECE, table) for confidences and hits (any shape, flattened).

    ``table`` has per equal-width bin: ``edges`` (bins + 1), ``count``, ``confidence`` (mean,
    None if empty) and ``accuracy`` (hit rate, None if empty), for a reliability plot.
    """
    conf = np.asarray(confidence, dtype=np.float64).reshape(-1)
    hit = np.asarray(hits, dtype=bool).reshape(-1)
    if conf.size == 0 or conf.size != hit.size:
        raise InputError('expected_calibration_error needs as many hits as confidences (> 0)')
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    count = np.bincount(index, minlength=bins)
    conf_sum = np.bincount(index, weights=conf, minlength=bins)
    hit_sum = np.bincount(index, weights=hit.astype(np.float64), minlength=bins)
    used = count > 0
    mean_conf = np.where(used, conf_sum / np.maximum(count, 1), np.nan)
    accuracy = np.where(used, hit_sum / np.maximum(count, 1), np.nan)
    ece = float(np.sum(count[used] / conf.size * np.abs(accuracy[used] - mean_conf[used])))
    table = {'edges': edges.tolist(), 'count': count.tolist(),
             'confidence': [None if not u else float(v) for u, v in zip(used, mean_conf)],
             'accuracy': [None if not u else float(v) for u, v in zip(used, accuracy)]}
    return ece, table


def confidence_report(confidence, errors_mm, radius_mm, calibration=None):
    """Return the report section on confidence: ECE and reliability table, raw and calibrated.

    With a calibration, ``ece`` / ``reliability`` are those of the calibrated confidence and
    ``ece_raw`` / ``reliability_raw`` those of the network's; without one they coincide.
    """
    hits = np.asarray(errors_mm) <= float(radius_mm)
    raw_ece, raw_table = expected_calibration_error(confidence, hits)
    report = {'radius_mm': float(radius_mm), 'bins': ECE_BINS, 'calibrated': False,
              'ece_raw': raw_ece, 'reliability_raw': raw_table, 'ece': raw_ece,
              'reliability': raw_table, 'hit_rate': float(np.mean(hits)),
              'mean_confidence_raw': float(np.mean(confidence))}
    if calibration is not None:
        calibrated = calibration.apply(confidence)
        ece, table = expected_calibration_error(calibrated, hits)
        report.update(calibrated=True, ece=ece, reliability=table,
                      mean_confidence=float(np.mean(calibrated)))
    return report


__all__ = ['ConfidenceCalibration', 'ECE_BINS', 'RADIUS_MM', 'confidence_report',
           'expected_calibration_error', 'fit_calibration']
