"""Dataset presets: joint layout, camera, crop settings and metric of each dataset A2J uses.

Normalisation statistics are the values of A2J's ``data/<dataset>/*_mean.npy`` and
``*_std.npy`` (github.com/zhangboshen/A2J; shipped in test/data/a2j_published),
written out here so nothing is read at run time; a test compares them with the files. For the
body datasets A2J uses element [3] of the 4-element arrays (the depth channel, in metres).
"""
from dataclasses import dataclass, field
from typing import Optional

from a2j_ros.core.camera import PinholeCamera
from a2j_ros.core.config import CropConfig

# How ground truth and the authors' prediction files store joints:
#   'uvd'          (u, v, depth) in full-image pixels and ``file_depth_mm`` units (NYU, ICVL)
#   'xyz'          x, y, z in the optical frame, ``file_depth_mm`` units (HANDS 2017 results)
#   'xyz_y_up'     world x, y, z in ``file_depth_mm`` units with y up (ITOP, metres)
#   'uv'           (u, v) pixels only (K2HPD, 2D)
GT_KINDS = ('uvd', 'xyz', 'xyz_y_up', 'uv')
METRICS = ('mean_error', 'map', 'pdj')


@dataclass(frozen=True)
class DatasetPreset:
    """Everything that differs between datasets, in one record."""

    name: str
    description: str
    layout: str                              # core.layouts name
    camera: Optional[PinholeCamera]          # None for 2D-only datasets (K2HPD)
    crop: CropConfig
    metric: str = 'mean_error'               # headline metric: mean_error | map | pdj
    gt_kind: str = 'uvd'                     # see GT_KINDS
    file_depth_mm: float = 1.0               # millimetres per depth unit in dataset files
    input_scale: float = 1.0                 # body crops: depth image units -> network units
    reference: dict = field(default_factory=dict)   # file names under a2j_published/
    source: str = ''                         # where the intrinsics come from


def _hand_crop(cube_xy_mm, mean, std):
    return CropConfig(mode='hand', input_size=176, cube_xy_mm=cube_xy_mm, depth_thres_mm=150.0,
                      norm_mean=mean, norm_std=std, mu=1.0, theta_is_centre=True)


def _body_crop(mean, std, mu=50.0):
    return CropConfig(mode='body', input_size=288, norm_mean=mean, norm_std=std, mu=mu,
                      theta_is_centre=False)


# ITOP's own projection (its dataset code and A2J's src/itop_side.py):
# x = (u - 160) * z * 0.0035, y = (120 - v) * z * 0.0035, i.e. f = 1 / 0.0035 px, y up.
ITOP_FOCAL = 1.0 / 0.0035
_ITOP_CAMERA = PinholeCamera(fx=ITOP_FOCAL, fy=ITOP_FOCAL, cx=160.0, cy=120.0,
                             width=320, height=240)

PRESETS = {p.name: p for p in (
    DatasetPreset(
        name='nyu', description='NYU Hand Pose, 8252 test frames, 14 joints (Kinect v1)',
        layout='nyu_hand_14',
        # A2J src/nyu.py uses fy = -587.07 (world y up); the sign does not change distances.
        camera=PinholeCamera(fx=588.03, fy=587.07, cx=320.0, cy=240.0, width=640, height=480),
        crop=_hand_crop(110.0, -0.66877532422628, 28.329582076876047),
        reference={'gt': 'nyu/nyu_keypointsUVD_test.mat', 'pred': 'nyu/a2j_pred_nyu_test_uvd.txt',
                   'centre': 'nyu/nyu_center_test.mat', 'mean': 'nyu/nyu_mean.npy',
                   'std': 'nyu/nyu_std.npy'},
        source='NYU dataset convert_uvd_to_xyz (Tompson et al. 2014); A2J src/nyu.py'),
    DatasetPreset(
        name='icvl', description='ICVL Hand Posture, 1596 test frames, 16 joints (Creative ToF)',
        layout='icvl_hand_16',
        camera=PinholeCamera(fx=240.99, fy=240.96, cx=160.0, cy=120.0, width=320, height=240),
        crop=_hand_crop(95.0, 4.827061368455762, 16.29524411165314),
        reference={'gt': 'icvl/icvl_keypointsUVD_test.mat',
                   'pred': 'icvl/a2j_pred_icvl_test_uvd.txt',
                   'centre': 'icvl/icvl_center_test.mat',
                   'mean': 'icvl/icvl_mean.npy', 'std': 'icvl/icvl_std.npy'},
        source='A2J src/icvl.py (also DeepPrior, V2V-PoseNet)'),
    DatasetPreset(
        name='hands2017', description='HANDS 2017 / BigHand2.2M, 21 joints (Intel SR300)',
        layout='hands2017_hand_21',
        # fy differs from fx in the 6th decimal: 475.065857 (BigHand2.2M's SR300 calibration,
        # as in A2J src/hands2017.py and the First-Person Hand Action benchmark's scripts).
        camera=PinholeCamera(fx=475.065948, fy=475.065857, cx=315.944855, cy=245.287079,
                             width=640, height=480),
        crop=_hand_crop(100.0, -6.392391573671643, 25.006860723599576),
        # The challenge's result files (and A2J's writeTxt) hold an image name then x, y, z mm.
        gt_kind='xyz',
        source='A2J src/hands2017.py; BigHand2.2M (Yuan et al. 2017)'),
    DatasetPreset(
        name='itop_side', description='ITOP front/side view, 4863 test frames, 15 joints',
        layout='itop_body_15', camera=_ITOP_CAMERA,
        crop=_body_crop(3.44405131, 0.54039816),
        metric='map', gt_kind='xyz_y_up', file_depth_mm=1000.0, input_scale=1e-3,
        reference={'gt': 'itop_side/itop_side_keypoints3D_test.mat',
                   'pred': 'itop_side/a2j_pred_itop_side_test_uvd.mat',
                   'bndbox': 'itop_side/itop_side_bndbox_test.mat',
                   'mean': 'itop_side/itop_side_mean.npy', 'std': 'itop_side/itop_side_std.npy'},
        source='ITOP (Haque et al. 2016) projection constant 0.0035; A2J src/itop_side.py'),
    DatasetPreset(
        name='itop_top', description='ITOP top view, 4863 test frames, 15 joints',
        layout='itop_body_15', camera=_ITOP_CAMERA,
        crop=_body_crop(2.14307806, 0.60997053),
        metric='map', gt_kind='xyz_y_up', file_depth_mm=1000.0, input_scale=1e-3,
        reference={'gt': 'itop_top/itop_top_keypoints3D_test.mat',
                   'bndbox': 'itop_top/itop_top_bndbox_test.mat'},
        source='ITOP (Haque et al. 2016) projection constant 0.0035; A2J src/itop_top.py'),
    DatasetPreset(
        name='k2hpd', description='K2HPD, 39732 test frames, 19 joints in 2D (Kinect v2, 256x212)',
        layout='k2hpd_body_19', camera=None,
        # The images are min-max normalised 8-bit depth (A2J data/k2hpd/data_preprosess.py),
        # so the crop takes raw image values (input_scale 1) and has no depth target.
        crop=_body_crop(88.0089685580459, 67.12190293151532, mu=1.0),
        metric='pdj', gt_kind='uv', input_scale=1.0,
        reference={'gt': 'k2hpd/k2hpd_keypoints_test.mat',
                   'bndbox': 'k2hpd/k2hpd_bndbox_test.mat',
                   'mean': 'k2hpd/k2hpd_mean.npy', 'std': 'k2hpd/k2hpd_std.npy'},
        source='Wang et al. 2016; A2J src/k2hpd.py (2D, no intrinsics published)'),
    # Synthetic presets: a fixed contract with core.synthetic, which renders with them.
    DatasetPreset(
        name='synthetic_hand', description='rendered hands, NYU-14 layout, 320x240',
        layout='nyu_hand_14',
        camera=PinholeCamera(fx=241.0, fy=241.0, cx=160.0, cy=120.0, width=320, height=240),
        crop=_hand_crop(110.0, 0.0, 40.0),
        source='a2j_ros synthetic renderer (fixed contract)'),
    DatasetPreset(
        name='synthetic_body', description='rendered bodies, ITOP-15 layout, 320x240',
        layout='itop_body_15',
        camera=PinholeCamera(fx=285.71, fy=285.71, cx=160.0, cy=120.0, width=320, height=240),
        crop=_body_crop(3.44405131, 0.54039816),
        metric='map', input_scale=1e-3,
        source='a2j_ros synthetic renderer (fixed contract); ITOP side normalisation'),
)}


def get_preset(name):
    """Return the DatasetPreset called ``name``; raise KeyError naming the known ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f'unknown dataset {name!r}; known: {sorted(PRESETS)}') from None


__all__ = ['DatasetPreset', 'PRESETS', 'get_preset', 'GT_KINDS', 'METRICS', 'ITOP_FOCAL']
