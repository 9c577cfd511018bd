"""The ROS-free pose pipeline: ROIs -> one network batch -> skeletons in mm."""
from pathlib import Path

import numpy as np
import pytest
import torch

from a2j_ros.core.camera import PinholeCamera
from a2j_ros.core.checkpoint import save_checkpoint
from a2j_ros.core.config import CropConfig, ModelConfig
from a2j_ros.core.errors import A2JError, CheckpointError, InputError
from a2j_ros.core.model import A2JNet
from a2j_ros.core.pipeline import PosePipeline, sample_depth
from a2j_ros.core.synthetic import SyntheticHands

DEMO_CHECKPOINT = Path(__file__).resolve().parents[1] / 'data' / 'demo_hand_r18.pt'

CAMERA = PinholeCamera(fx=241.0, fy=241.0, cx=160.0, cy=120.0, width=320, height=240)


class CentrePredictor:
    """Predict every joint at the crop's centre pixel with depth target 0; record batches."""

    def __init__(self, num_joints=14):
        self.batches = []
        self.num_joints = num_joints

    def predict(self, x):
        n, _, size, _ = x.shape
        self.batches.append(n)
        uvd = torch.zeros(n, self.num_joints, 3)
        uvd[..., :2] = size / 2.0
        return {'uvd': uvd, 'confidence': torch.full((n, self.num_joints), 0.75)}


def _two_hands():
    depth = np.full((240, 320), 1200.0, np.float32)
    depth[100:140, 60:100] = 500.0
    depth[90:130, 200:240] = 600.0
    return depth


def test_two_hands_one_batch_and_geometry():
    predictor = CentrePredictor()
    crop = CropConfig(mode='hand', input_size=64)
    pipe = PosePipeline(predictor, crop, 'nyu_hand_14', centre_depth_offset_mm=10.0)
    rois = [[60, 100, 40, 40], [200, 90, 40, 40]]
    frame = pipe.estimate_frame(_two_hands(), CAMERA, rois, [0.9, 0.8])
    assert predictor.batches == [2]                      # all ROIs in ONE batch
    assert len(frame.results) == 2 and frame.rejected == []
    first = frame.results[0]
    # theta = centre depth: the depth target 0 maps back to the centre's depth (band + offset)
    assert first.centre_uvd.tolist() == pytest.approx([79.5, 119.5, 510.0])
    assert first.joints_uvd[:, 2] == pytest.approx(np.full(14, 510.0))
    # the crop centre pixel maps back near the ROI centre (cube of +-110 mm at 510 mm)
    assert first.joints_uvd[0, :2] == pytest.approx([79.5, 119.5], abs=1.0)
    # by hand: x = (79.5 - 160) * 510 / 241 = -170.35, y = (119.5 - 120) * 510 / 241 = -1.06,
    # within the 1 px above (510 / 241 = 2.1 mm per pixel)
    assert first.joints_xyz_mm[:, 2] == pytest.approx(np.full(14, 510.0))
    assert first.joints_xyz_mm[0, :2] == pytest.approx([-170.35, -1.06], abs=2.2)
    assert first.confidence == pytest.approx(np.full(14, 0.75))
    assert first.score == pytest.approx(0.9) and first.roi == (60, 100, 40, 40)
    half = 110.0 * 241.0 / 510.0
    assert first.crop_box[2] == pytest.approx(2 * half, abs=1.5)
    assert set(frame.timings_ms) == {'prepare', 'crop', 'net', 'decode', 'total'}


def test_bad_rois_are_rejected_the_rest_goes_through():
    predictor = CentrePredictor()
    pipe = PosePipeline(predictor, CropConfig(mode='hand', input_size=64), 'nyu_hand_14')
    depth = _two_hands()
    depth[0:20, 0:20] = 0.0
    rois = [[500, 10, 20, 20], [10, 10, 0, 5], [0, 0, 20, 20], [60, 100, 40, 40]]
    frame = pipe.estimate_frame(depth, CAMERA, rois)
    assert [r.index for r in frame.rejected] == [0, 1, 2]
    assert 'outside' in frame.rejected[0].reason and 'no valid depth' in frame.rejected[2].reason
    assert len(frame.results) == 1 and predictor.batches == [1]
    empty = pipe.estimate_frame(depth, CAMERA, np.zeros((0, 4)))
    assert empty.results == [] and predictor.batches == [1]   # no network call


def test_frame_errors():
    pipe = PosePipeline(CentrePredictor(), CropConfig(mode='hand', input_size=64),
                        'nyu_hand_14')
    with pytest.raises(InputError, match='2-D'):
        pipe.estimate(np.zeros((4, 4, 3), np.float32), CAMERA, [])
    with pytest.raises(InputError, match='320x240'):
        pipe.estimate(np.zeros((100, 100), np.float32), CAMERA, [])
    with pytest.raises(InputError, match='scores'):
        pipe.estimate(_two_hands(), CAMERA, [[60, 100, 40, 40]], [0.5, 0.5])


def test_body_box_and_nan_depth():
    predictor = CentrePredictor(num_joints=15)
    crop = CropConfig(mode='body', input_size=64, mu=50.0, theta_is_centre=False)
    pipe = PosePipeline(predictor, crop, 'itop_body_15')
    depth = np.full((240, 320), np.nan, np.float32)
    depth[40:200, 100:160] = 3000.0
    frame = pipe.estimate_frame(depth, CAMERA, [[100, 40, 60, 160]])
    result = frame.results[0]
    assert result.crop_box == (100, 40, 60, 160)
    assert result.joints_uvd[0, :2] == pytest.approx([130.0, 120.0])
    assert result.joints_uvd[0, 2] == pytest.approx(0.0)      # T^d 0 = Z 0 for bodies
    assert result.centre_uvd is None


def test_2d_model_samples_depth_at_the_joints():
    class Flat2D(CentrePredictor):
        config = ModelConfig(num_joints=19, layout='k2hpd_body_19', use_depth=False)

    crop = CropConfig(mode='body', input_size=64, theta_is_centre=False)
    pipe = PosePipeline(Flat2D(19), crop)
    depth = np.zeros((240, 320), np.float32)
    depth[100:140, 100:160] = 2500.0
    result = pipe.estimate(depth, CAMERA, [[100, 100, 60, 40]])[0]
    assert result.joints_uvd[:, 2] == pytest.approx(np.full(19, 2500.0))
    assert np.all(np.isnan(sample_depth(depth, [[5.0, 5.0], [np.nan, 1.0]])))


def test_layout_and_crop_checks():
    with pytest.raises(CheckpointError, match='crop'):
        PosePipeline(CentrePredictor(), None, 'nyu_hand_14')
    with pytest.raises(InputError, match='unknown joint layout'):
        PosePipeline(CentrePredictor(), CropConfig(), 'no_such_layout')
    model = A2JNet(ModelConfig(backbone='resnet18', input_size=64, num_joints=14))
    with pytest.raises(InputError, match='16 joints'):
        PosePipeline(model, CropConfig(input_size=64), 'icvl_hand_16')


def test_trained_demo_checkpoint_lands_near_ground_truth(tmp_path):
    # The bundled demo model through the whole pipeline (ROI -> centre -> crop -> network ->
    # uncrop -> unproject) on held-out synthetic frames: its joints are near the generator's
    # ground truth (the README's 19.95 mm; the mean pose is 45.4 mm off).
    pipe = PosePipeline.from_checkpoint(DEMO_CHECKPOINT, device='cpu')
    assert pipe.mode == 'hand' and pipe.layout.name == 'nyu_hand_14'
    data = SyntheticHands('val', 6, seed=7)
    errors = []
    for i in range(len(data)):
        frame = data[i]
        lo = np.floor(frame.joints_uvd[:, :2].min(0)) - 10
        hi = np.ceil(frame.joints_uvd[:, :2].max(0)) + 10
        (r,) = pipe.estimate(frame.depth, data.camera, [[*lo, *(hi - lo)]])
        assert np.all((r.confidence >= 0) & (r.confidence <= 1))
        truth = data.camera.unproject(frame.joints_uvd)
        errors.append(np.linalg.norm(r.joints_xyz_mm - truth, axis=1).mean())
    assert np.mean(errors) < 35.0, f'mean joint error {np.mean(errors):.1f} mm'
    torch.manual_seed(0)
    model = A2JNet(ModelConfig(backbone='resnet18', input_size=64)).eval()
    path = save_checkpoint(tmp_path / 'r18.pt', model, CropConfig(mode='hand', input_size=64,
                                                                  norm_std=40.0))
    with pytest.raises(A2JError, match='no_such_backend'):
        PosePipeline.from_checkpoint(path, backend='no_such_backend')
    with pytest.raises(CheckpointError):
        PosePipeline.from_checkpoint(tmp_path / 'missing.pt')


def test_a_crop_that_cannot_be_made_is_rejected_the_rest_goes_through():
    predictor = CentrePredictor()
    # an offset of -550 mm puts the 500 mm hand's centre behind the camera: no cube there
    pipe = PosePipeline(predictor, CropConfig(mode='hand', input_size=64), 'nyu_hand_14',
                        centre_depth_offset_mm=-550.0)
    frame = pipe.estimate_frame(_two_hands(), CAMERA, [[60, 100, 40, 40], [200, 90, 40, 40],
                                                       [0, 0, 1, 1]])
    assert [r.index for r in frame.rejected] == [0, 2]
    assert 'depth > 0' in frame.rejected[0].reason and 'outside' in frame.rejected[1].reason
    assert len(frame.results) == 1 and frame.results[0].roi == (200, 90, 40, 40)
    assert frame.results[0].centre_uvd[2] == pytest.approx(50.0) and predictor.batches == [1]


def test_sample_depth_windows_at_and_beyond_the_border():
    depth = np.full((10, 12), 500.0, np.float32)
    depth[:, 0] = 100.0
    depth[9, 11] = 0.0                              # invalid
    out = sample_depth(depth, [[0.0, 0.0], [-2.4, 1.0], [-3.0, 5.0], [11.0, 9.0],
                               [30.0, 2.0], [np.inf, 2.0]])
    assert out[0] == pytest.approx(500.0)           # 3 x 3 inside: three 100, six 500
    assert out[1] == pytest.approx(100.0)           # only column 0 is inside the window
    assert np.isnan(out[2]) and np.isnan(out[4]) and np.isnan(out[5])   # nothing inside
    assert out[3] == pytest.approx(500.0)           # the invalid pixel is left out
