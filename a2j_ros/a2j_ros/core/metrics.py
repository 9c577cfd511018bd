"""Pose accuracy metrics of the A2J paper (section 4.1.2), vectorised with numpy.

- Hands: mean 3D distance error, error per joint and the success-frame rate (the fraction of
  frames whose worst joint is within a threshold, paper Fig. 7; Oberweger et al. 2015).
- ITOP: mAP with the 10 cm rule (Haque et al. 2016): a joint is detected when its 3D distance
  to the ground truth is below 10 cm; the rate per joint is its "AP", the mean over joints mAP.
- K2HPD: PDJ (percent of detected joints, Toshev and Szegedy 2014, used by Wang et al. 2016 for
  K2HPD): a joint is detected when its 2D distance to the ground truth is at most a ratio
  (0.05, 0.10, 0.15, 0.20) of the frame's torso diameter, the distance from the neck to the
  middle of the two hips of the ground truth (as in A2J's evaluation, src/k2hpd.py).

Inputs are arrays (N, J, D) of one unit (millimetres for 3D); results are plain floats/arrays.
"""
import numpy as np

from a2j_ros.core.errors import InputError

PDJ_RATIOS = (0.05, 0.10, 0.15, 0.20)
SUCCESS_THRESHOLDS_MM = tuple(range(0, 81))


def _pair(pred, gt):
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if pred.shape != gt.shape or pred.ndim != 3 or pred.shape[-1] not in (2, 3):
        raise InputError(f'predictions {pred.shape} and ground truth {gt.shape} must have the '
                         f'same shape (N, J, 2|3)')
    return pred, gt


def joint_errors(pred, gt):
    """Return the Euclidean distance per frame and joint, shape (N, J)."""
    pred, gt = _pair(pred, gt)
    return np.sqrt(np.sum((pred - gt) ** 2, axis=-1))


def mean_error(errors):
    """Return the mean over all frames and joints of an (N, J) error array."""
    return float(np.mean(errors))


def per_joint_error(errors):
    """Return the mean error of each joint over frames, shape (J,)."""
    return np.mean(errors, axis=0)


def success_curve(errors, thresholds=SUCCESS_THRESHOLDS_MM):
    """Return the fraction of frames whose worst joint error is <= each threshold, (T,)."""
    worst = np.sort(np.max(errors, axis=1))
    counts = np.searchsorted(worst, np.asarray(thresholds, dtype=np.float64), side='right')
    return counts / max(len(worst), 1)


def detection_rate(errors, threshold):
    """Return the fraction of frames in which each joint's error is below ``threshold``, (J,)."""
    return np.mean(errors < threshold, axis=0)


def map_at(errors, threshold=100.0):
    """Return ``(mAP, AP per joint)`` in percent with the ``threshold`` rule (ITOP: 100 mm)."""
    per_joint = detection_rate(errors, threshold) * 100.0
    return float(np.mean(per_joint)), per_joint


def torso_diameter(gt, neck, hips):
    """Return the per-frame torso diameter: |gt[neck] - mean(gt[hips])|, shape (N,)."""
    gt = np.asarray(gt, dtype=np.float64)
    hip_mid = np.mean(gt[:, list(hips)], axis=1)
    return np.sqrt(np.sum((gt[:, neck] - hip_mid) ** 2, axis=-1))


def pdj(pred, gt, torso, ratios=PDJ_RATIOS):
    """Return ``{ratio: (overall %, per-joint % (J,))}`` of joints within ratio * torso."""
    errors = joint_errors(pred, gt)
    torso = np.asarray(torso, dtype=np.float64)
    if torso.shape != (errors.shape[0],):
        raise InputError(f'torso diameters must have shape ({errors.shape[0]},), '
                         f'got {torso.shape}')
    out = {}
    for ratio in ratios:
        hit = errors <= ratio * torso[:, None]
        out[float(ratio)] = (float(np.mean(hit) * 100.0), np.mean(hit, axis=0) * 100.0)
    return out


def group_left_right(joint_names, values):
    """Average values of joints that differ only by an ``l_``/``r_`` prefix.

    Returns a dict in order of first appearance, e.g. ``{'head': .., 'shoulder': ..}`` (the
    paper's Table 5 reports ITOP per joint this way).
    """
    groups = {}
    for name, value in zip(joint_names, values):
        key = name[2:] if name[:2] in ('l_', 'r_') else name
        groups.setdefault(key, []).append(float(value))
    return {key: float(np.mean(vals)) for key, vals in groups.items()}


__all__ = ['PDJ_RATIOS', 'SUCCESS_THRESHOLDS_MM', 'joint_errors', 'mean_error',
           'per_joint_error', 'success_curve', 'detection_rate', 'map_at', 'torso_diameter',
           'pdj', 'group_left_right']
