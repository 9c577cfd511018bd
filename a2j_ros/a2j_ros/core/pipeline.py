"""Depth image + camera + ROIs -> 3D skeletons: the code the pose node and `a2j replay` share.

One frame at a time: every usable ROI of the frame is cropped (a hand cube around a centre
found in the ROI, or the body box), all crops go through the network in ONE batch, and the
crop predictions are mapped back to full-image (u, v, depth mm) and to xyz mm in the camera's
optical frame. A ROI that cannot be used (outside the image, zero size, no valid depth) is
reported in ``FrameEstimate.rejected`` with the reason; the other ROIs of the frame still go
through. Each stage is timed (``FrameEstimate.timings_ms``) for diagnostics and benchmarks.

ROS-free: numpy, torch and the core only.
"""
from dataclasses import dataclass, field
import math
import time
from typing import Optional

import numpy as np
import torch

from a2j_ros.core.camera import PinholeCamera
from a2j_ros.core.config import CropConfig
from a2j_ros.core.cropping import body_boxes, crop_bodies, crop_hands, hand_boxes
from a2j_ros.core.depth_image import check_depth_image
from a2j_ros.core.errors import CheckpointError, InputError
from a2j_ros.core.layouts import get_layout, JointLayout
from a2j_ros.core.roi import as_rois, clip_roi, hand_centre

STAGES = ('prepare', 'crop', 'net', 'decode')


@dataclass
class PoseResult:
    """One hand or body of a frame."""

    joints_xyz_mm: np.ndarray          # (K, 3) optical frame, mm
    joints_uvd: np.ndarray             # (K, 3) u, v full-image pixels, depth mm
    confidence: np.ndarray             # (K,) in 0..1
    roi: tuple                         # (x, y, w, h) the ROI, clipped to the image
    score: float                       # the ROI's detection score (1.0 without a detector)
    crop_box: tuple                    # (x, y, w, h) the crop fed to the network
    centre_uvd: Optional[np.ndarray] = None   # hands: the crop centre (u, v, d mm)
    track_id: Optional[int] = None     # core.tracking id (None: untracked, per-frame)


@dataclass
class RejectedRoi:
    """A ROI that could not be used, with the reason."""

    index: int
    roi: tuple
    reason: str


@dataclass
class FrameEstimate:
    """Everything ``PosePipeline.estimate_frame`` found in one frame."""

    results: list = field(default_factory=list)       # PoseResult per usable ROI, in order
    rejected: list = field(default_factory=list)      # RejectedRoi
    timings_ms: dict = field(default_factory=dict)    # prepare, crop, net, decode, total


def _resolve_layout(layout, model):
    if isinstance(layout, JointLayout):
        return layout
    name = layout or getattr(getattr(model, 'config', None), 'layout', None)
    if not name:
        raise InputError('PosePipeline needs a joint layout (the model has no config)')
    try:
        return get_layout(name)
    except KeyError as exc:
        raise InputError(str(exc.args[0])) from None


def _box_to_roi(box):
    """Return (x, y, w, h) ints of a float (u_min, v_min, u_max, v_max) crop box."""
    x0, y0 = math.floor(box[0]), math.floor(box[1])
    return (x0, y0, max(math.floor(box[2]) - x0, 0), max(math.floor(box[3]) - y0, 0))


def sample_depth(depth_mm, uv, radius=2):
    """Return the median valid depth (mm) around each (u, v) of (K, 2); NaN where none.

    The window is (2 radius + 1) pixels square, cut at the image border. Vectorised: all
    windows are gathered at once, invalid and outside pixels are NaN, then one nanmedian.
    """
    height, width = depth_mm.shape
    uv = np.asarray(uv, dtype=np.float64).reshape(-1, 2)
    finite = np.all(np.isfinite(uv), axis=1)
    centre = np.zeros((len(uv), 2), np.int64)
    centre[finite] = np.rint(uv[finite]).astype(np.int64)
    offsets = np.arange(-radius, radius + 1)
    rows = centre[:, 1, None, None] + offsets[None, :, None]              # (K, S, 1)
    cols = centre[:, 0, None, None] + offsets[None, None, :]              # (K, 1, S)
    inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    values = depth_mm[np.clip(rows, 0, height - 1), np.clip(cols, 0, width - 1)]
    with np.errstate(invalid='ignore'):
        good = inside & np.isfinite(values) & (values > 0) & finite[:, None, None]
    window = np.where(good, values, np.nan).reshape(len(uv), -1)
    out = np.full(len(uv), np.nan)
    some = good.reshape(len(uv), -1).any(axis=1)
    if np.any(some):
        out[some] = np.nanmedian(window[some], axis=1)
    return out


class PosePipeline:
    """Estimate the skeletons of one depth frame from its ROIs.

    ``model_or_predictor`` is an A2JNet or anything with the same ``predict(x)``
    (core.backends); ``crop_config`` and ``layout`` default to the model's. Hands: the crop
    centre is found in each ROI (``core.roi.hand_centre``); bodies: the ROI is the box.
    ``input_scale`` multiplies body depth (1e-3: mm to the metres body models take).
    ``calibration`` (core.calibration.ConfidenceCalibration, from the checkpoint with
    ``from_checkpoint``) maps the network's confidences to calibrated ones.
    """

    def __init__(self, model_or_predictor, crop_config=None, layout=None, device=None, *,
                 input_scale=1e-3, hand_band_mm=None, centre_depth_offset_mm=15.0,
                 min_depth_mm=1.0, max_depth_mm=float('inf'), calibration=None):
        self.predictor = model_or_predictor
        self.calibration = calibration
        crop = crop_config if crop_config is not None else getattr(
            model_or_predictor, 'crop_config', None)
        if isinstance(crop, dict):
            crop = CropConfig.from_dict(crop)
        if not isinstance(crop, CropConfig):
            raise CheckpointError('the model has no crop settings (crop_config); pass one')
        if crop.mode not in ('hand', 'body'):
            raise InputError(f"crop mode must be 'hand' or 'body', got {crop.mode!r}")
        self.crop_config = crop
        self.layout = _resolve_layout(layout, model_or_predictor)
        config = getattr(model_or_predictor, 'config', None)
        if config is not None and config.num_joints != self.layout.num_joints:
            raise InputError(f'layout {self.layout.name} has {self.layout.num_joints} joints, '
                             f'the model predicts {config.num_joints}')
        use_depth = config.use_depth if config is not None else getattr(
            model_or_predictor, 'use_depth', True)          # core.backends.Predictor has it
        self.use_depth = bool(use_depth) and self.layout.dims == 3
        self.device = self._device(device)
        self.input_scale = float(input_scale)
        self.hand_band_mm = float(crop.depth_thres_mm if hand_band_mm is None else hand_band_mm)
        self.centre_depth_offset_mm = float(centre_depth_offset_mm)
        self.min_depth_mm = float(min_depth_mm)
        self.max_depth_mm = float(max_depth_mm)

    def _device(self, device):
        module = self.predictor if isinstance(self.predictor, torch.nn.Module) else None
        if device is None:
            params = next(module.parameters(), None) if module is not None else None
            return params.device if params is not None else torch.device('cpu')
        from a2j_ros.core.checkpoint import resolve_device
        resolved = resolve_device(device)
        if module is not None:
            module.to(resolved)
        return resolved

    @property
    def mode(self):
        """Return 'hand' or 'body' (from the crop settings)."""
        return self.crop_config.mode

    @classmethod
    def from_checkpoint(cls, path, device='cpu', backend='eager', **kwargs):
        """Load a checkpoint (and a fast backend, see core.backends) into a pipeline.

        A confidence calibration stored in the checkpoint (``a2j calibrate``) is applied.
        """
        from a2j_ros.core.calibration import ConfidenceCalibration
        from a2j_ros.core.checkpoint import model_from_checkpoint, read_checkpoint, resolve_device
        data = read_checkpoint(path)
        model = model_from_checkpoint(data, path).to(resolve_device(device)).eval()
        if data.get('calibration') is not None and 'calibration' not in kwargs:
            kwargs['calibration'] = ConfidenceCalibration.from_dict(data['calibration'], path)
        if model.crop_config is None:
            raise CheckpointError(f'{path}: checkpoint has no crop settings (crop_config)')
        predictor = model
        if backend and backend != 'eager':
            try:
                from a2j_ros.core.backends import make_predictor
            except ImportError:
                raise InputError(f'backend {backend!r} needs a2j_ros.core.backends, which is '
                                 'not installed; use backend eager') from None
            predictor = make_predictor(model, backend, device)
        return cls(predictor, model.crop_config, model.config.layout,
                   device=None if predictor is model else device, **kwargs)

    def warm_up(self, batch=1):
        """Run the network once on blank crops, so the first real frame is not the slow one."""
        size = int(self.crop_config.input_size)
        self._run_network(np.zeros((batch, size, size), np.float32))

    def estimate(self, depth_mm, camera, rois, scores=None):
        """Return the list of PoseResult of one frame (see ``estimate_frame``)."""
        return self.estimate_frame(depth_mm, camera, rois, scores).results

    def estimate_frame(self, depth_mm, camera, rois, scores=None):
        """Estimate every ROI of one frame; return a FrameEstimate.

        ``depth_mm`` float32 (H, W), 0 or NaN invalid; ``camera`` a PinholeCamera of the
        same size (or of unknown size); ``rois`` (M, 4) x, y, w, h; ``scores`` (M,) or None.
        A bad frame (not 2-D, camera of another size) raises InputError; a bad ROI is
        skipped and listed in ``rejected``.
        """
        start = time.perf_counter()
        depth = self._check_frame(depth_mm, camera)
        rois = as_rois(rois)
        scores = (np.ones(len(rois), np.float32) if scores is None or len(scores) == 0
                  else np.asarray(scores, dtype=np.float32).reshape(-1))
        if len(scores) != len(rois):
            raise InputError(f'{len(rois)} ROIs but {len(scores)} scores')
        estimate = FrameEstimate()
        kept, anchors = self._prepare(depth, rois, estimate.rejected)
        return self._estimate_prepared(depth, camera, scores, kept, anchors, estimate, start)

    def estimate_anchors(self, depth_mm, camera, anchors, rois, scores=None):
        """Estimate crops placed by the caller; return a FrameEstimate like ``estimate_frame``.

        ``anchors``: hands (N, 3) crop centres (u, v, depth mm), bodies (N, 4) boxes
        (u_min, v_min, u_max, v_max); ``rois`` (N, 4) x, y, w, h name each crop's region in
        the results (``PoseResult.roi``); ``scores`` (N,) or None. The tracker uses this to
        centre the next crop on a track (core.follow). A crop that does not fit the image is
        listed in ``rejected``.
        """
        start = time.perf_counter()
        depth = self._check_frame(depth_mm, camera)
        width = 3 if self.mode == 'hand' else 4
        anchors = np.asarray(anchors, dtype=np.float64).reshape(-1, width)
        rois = as_rois(rois).reshape(-1, 4)
        if len(rois) != len(anchors):
            raise InputError(f'{len(anchors)} anchors but {len(rois)} ROIs')
        scores = (np.ones(len(anchors), np.float32) if scores is None
                  else np.asarray(scores, dtype=np.float32).reshape(-1))
        estimate = FrameEstimate()
        kept = [(i, tuple(int(v) for v in roi)) for i, roi in enumerate(rois)]
        return self._estimate_prepared(depth, camera, scores, kept, anchors, estimate, start)

    def _estimate_prepared(self, depth, camera, scores, kept, anchors, estimate, start):
        t_prep = time.perf_counter()
        cropped = self._crop_valid(depth, camera, kept, anchors, estimate.rejected)
        t_crop = t_net = time.perf_counter()
        if cropped is not None:
            crops, transform, kept, anchors = cropped
            uvd_crop, confidence = self._run_network(crops)
            t_net = time.perf_counter()
            estimate.results = self._decode(depth, camera, scores, kept, anchors, transform,
                                            uvd_crop, confidence)
        end = time.perf_counter()
        estimate.timings_ms = {'prepare': (t_prep - start) * 1e3, 'crop': (t_crop - t_prep) * 1e3,
                               'net': (t_net - t_crop) * 1e3, 'decode': (end - t_net) * 1e3,
                               'total': (end - start) * 1e3}
        return estimate

    def _check_frame(self, depth_mm, camera):
        depth = check_depth_image(depth_mm)
        if not isinstance(camera, PinholeCamera):
            raise InputError(f'camera must be a PinholeCamera, got {type(camera).__name__}')
        camera.check_image_size(depth.shape[1], depth.shape[0])
        return depth

    def prepare_rois(self, depth_mm, camera, rois, rejected):
        """Return the usable ``[(index, clipped ROI)]`` and their hand centres or body boxes.

        What ``estimate_frame`` does before cropping; unusable ROIs go to ``rejected``.
        """
        return self._prepare(self._check_frame(depth_mm, camera), as_rois(rois), rejected)

    def _prepare(self, depth, rois, rejected):
        """Return the usable (index, ROI) pairs and their hand centres (N, 3) or boxes (N, 4).

        Whether each crop fits the image is checked by ``_crop_valid``.
        """
        height, width = depth.shape
        kept, anchors = [], []
        for i, roi in enumerate(rois):
            clipped = clip_roi(roi, width, height)
            if clipped is None:
                rejected.append(RejectedRoi(i, tuple(int(v) for v in roi),
                                            'outside the image or zero size'))
                continue
            if self.mode == 'body':
                x, y, w, h = clipped
                anchor = (x, y, x + w, y + h)
            else:
                anchor = hand_centre(depth, clipped, band_mm=self.hand_band_mm,
                                     depth_offset_mm=self.centre_depth_offset_mm,
                                     min_mm=self.min_depth_mm, max_mm=self.max_depth_mm)
                if anchor is None:
                    rejected.append(RejectedRoi(i, clipped, 'no valid depth inside the ROI'))
                    continue
            kept.append((i, clipped))
            anchors.append(anchor)
        return kept, np.asarray(anchors, dtype=np.float64)

    def _crop_valid(self, depth, camera, kept, anchors, rejected):
        """Crop every kept ROI in one call; return (crops, transform, kept, anchors) or None.

        When a crop does not fit the image (InputError) each ROI is checked alone, the bad
        ones go to ``rejected`` (in ROI order) and the rest are cropped: the common case
        costs one batched crop, a bad ROI never stops the others.
        """
        if not kept:
            return None
        try:
            return (*self._crop(depth, camera, anchors), kept, anchors)
        except InputError:
            pass
        good = []
        for n, (index, roi) in enumerate(kept):
            try:
                if self.mode == 'body':
                    body_boxes(anchors[n:n + 1], self.crop_config, depth.shape)
                else:
                    hand_boxes(anchors[n:n + 1], camera, self.crop_config, depth.shape)
            except InputError as exc:
                rejected.append(RejectedRoi(index, roi, str(exc)))
            else:
                good.append(n)
        rejected.sort(key=lambda r: r.index)
        if not good:
            return None
        kept, anchors = [kept[n] for n in good], anchors[good]
        return (*self._crop(depth, camera, anchors), kept, anchors)

    def _crop(self, depth, camera, anchors):
        if self.mode == 'body':
            return crop_bodies(depth, anchors, self.crop_config, self.input_scale)
        return crop_hands(depth, anchors, camera, self.crop_config)

    def _run_network(self, crops):
        """Run all crops (N, S, S) in one batch; return numpy uvd (N, K, 3), confidence (N, K)."""
        x = torch.from_numpy(np.ascontiguousarray(crops[:, None])).to(self.device)
        with torch.inference_mode():
            out = self.predictor.predict(x)
        uvd = out['uvd'].detach().float().cpu().numpy()
        confidence = out.get('confidence')
        if confidence is None:
            confidence = np.ones(uvd.shape[:2], np.float32)
        else:
            confidence = confidence.detach().float().cpu().numpy()
            if self.calibration is not None:
                confidence = self.calibration.apply(confidence)
        return uvd, confidence

    def _decode(self, depth, camera, scores, kept, anchors, transform, uvd_crop, confidence):
        uvd = transform.to_image(uvd_crop.astype(np.float64))             # (N, K, 3) px, mm
        if not self.use_depth:     # 2D model: z is the measured depth at the joint, or NaN
            uvd[..., 2] = sample_depth(depth, uvd[..., :2].reshape(-1, 2)).reshape(uvd.shape[:2])
        xyz = camera.unproject(uvd)
        results = []
        for n, (index, roi) in enumerate(kept):
            results.append(PoseResult(
                joints_xyz_mm=xyz[n], joints_uvd=uvd[n], confidence=confidence[n],
                roi=roi, score=float(scores[index]),
                crop_box=_box_to_roi(transform.boxes[n]),
                centre_uvd=anchors[n].copy() if self.mode == 'hand' else None))
        return results


__all__ = ['FrameEstimate', 'PosePipeline', 'PoseResult', 'RejectedRoi', 'STAGES', 'sample_depth']
