"""Joint layouts: the number, order and names of the joints and the bones between them.

Every dataset keeps its own joint order; predictions, ground truth, messages and markers
all use the order given here. Names are lower_snake_case, ``l_``/``r_`` = subject's left/right.
"""
from dataclasses import dataclass
from typing import Tuple


@dataclass(frozen=True)
class JointLayout:
    """One skeleton layout."""

    name: str
    kind: str                         # 'hand' or 'body'
    joint_names: Tuple[str, ...]
    bones: Tuple[Tuple[int, int], ...]
    dims: int = 3                     # 3 for 3D layouts, 2 for in-plane only (K2HPD)

    @property
    def num_joints(self):
        """Number of joints K."""
        return len(self.joint_names)


def _chain(*idx):
    return tuple(zip(idx[:-1], idx[1:]))


# NYU (Tompson et al., SIGGRAPH 2014): the 14 joints of the usual evaluation protocol
# (DeepPrior, V2V-PoseNet, A2J), picked from the 36 annotated ones at indices 0, 3, 6, 9, 12,
# 15, 18, 21, 24, 25, 27, 30, 31, 32: per finger (pinky, ring, middle, index) tip and middle
# joint, thumb tip/mid/root, the two wrist points and the palm centre (the 'P1 P2 R1 R2 M1 M2
# I1 I2 T1 T2 T3 W1 W2 C' order of awesome-hand-pose-estimation's evaluation). Checked on
# A2J's published test ground truth (data/nyu/nyu_keypointsUVD_test.mat): every bone below has
# a stable length (std <= 7.7 mm over 8252 frames), joint 11 is the wrist point nearer the
# pinky and joint 12 the one nearer the thumb.
NYU_HAND_14 = JointLayout(
    name='nyu_hand_14', kind='hand',
    joint_names=('pinky_tip', 'pinky_mid', 'ring_tip', 'ring_mid', 'middle_tip', 'middle_mid',
                 'index_tip', 'index_mid', 'thumb_tip', 'thumb_mid', 'thumb_root',
                 'wrist_pinky_side', 'wrist_thumb_side', 'palm'),
    bones=(_chain(0, 1, 13) + _chain(2, 3, 13) + _chain(4, 5, 13) + _chain(6, 7, 13)
           + _chain(8, 9, 10, 13) + ((11, 13), (12, 13))),
)

# ICVL (Tang et al., CVPR 2014): palm, then thumb, index, middle, ring, pinky (root, mid,
# tip each), the order of the dataset's label files and of A2J's icvl_keypointsUVD_test.mat
# (bone lengths stable to <= 4 mm std over its 1596 test frames).
ICVL_HAND_16 = JointLayout(
    name='icvl_hand_16', kind='hand',
    joint_names=('palm',
                 'thumb_root', 'thumb_mid', 'thumb_tip', 'index_root', 'index_mid', 'index_tip',
                 'middle_root', 'middle_mid', 'middle_tip', 'ring_root', 'ring_mid', 'ring_tip',
                 'pinky_root', 'pinky_mid', 'pinky_tip'),
    bones=tuple(b for f in range(5) for b in _chain(0, 1 + 3 * f, 2 + 3 * f, 3 + 3 * f)),
)

# HANDS 2017 (Yuan et al., "BigHand2.2M benchmark", CVPR 2017; the challenge uses its order):
# wrist, the 5 MCPs (thumb, index, middle, ring, pinky), then PIP, DIP, TIP per finger.
HANDS2017_HAND_21 = JointLayout(
    name='hands2017_hand_21', kind='hand',
    joint_names=('wrist', 'thumb_mcp', 'index_mcp', 'middle_mcp', 'ring_mcp', 'pinky_mcp',
                 'thumb_pip', 'thumb_dip', 'thumb_tip', 'index_pip', 'index_dip', 'index_tip',
                 'middle_pip', 'middle_dip', 'middle_tip', 'ring_pip', 'ring_dip', 'ring_tip',
                 'pinky_pip', 'pinky_dip', 'pinky_tip'),
    bones=tuple(b for f in range(5) for b in _chain(0, 1 + f, 6 + 3 * f, 7 + 3 * f, 8 + 3 * f)),
)

# ITOP (Haque et al., ECCV 2016; front/side and top views share it): the order of the
# dataset's labels and of joint_id_to_name in A2J's src/itop_side.py.
ITOP_BODY_15 = JointLayout(
    name='itop_body_15', kind='body',
    joint_names=('head', 'neck', 'r_shoulder', 'l_shoulder', 'r_elbow', 'l_elbow', 'r_hand',
                 'l_hand', 'torso', 'r_hip', 'l_hip', 'r_knee', 'l_knee', 'r_foot', 'l_foot'),
    bones=(_chain(0, 1, 8) + _chain(1, 2, 4, 6) + _chain(1, 3, 5, 7)
           + _chain(8, 9, 11, 13) + _chain(8, 10, 12, 14)),
)

# K2HPD (Wang et al., "Human pose estimation from depth images via inference embedded
# multi-task learning", ACM MM 2016): 19 body joints annotated in 2D only. Neither the paper
# nor A2J's code names them; this order is inferred from the median positions in A2J's
# data/k2hpd/k2hpd_keypoints_test.mat and from A2J's PDJ code (src/k2hpd.py), which measures
# the torso from joint 1 to the middle of joints 9 and 12. Left/right assume a subject facing
# the camera in an unmirrored image (joints 3-5 and 9-11 lie on the image's left).
K2HPD_BODY_19 = JointLayout(
    name='k2hpd_body_19', kind='body', dims=2,
    joint_names=('head', 'neck', 'spine', 'r_shoulder', 'r_elbow', 'r_wrist', 'l_shoulder',
                 'l_elbow', 'l_wrist', 'r_hip', 'r_knee', 'r_ankle', 'l_hip', 'l_knee',
                 'l_ankle', 'shoulder_centre', 'hip_centre', 'r_hand', 'l_hand'),
    bones=(_chain(0, 1, 15, 2, 16) + _chain(15, 3, 4, 5, 17) + _chain(15, 6, 7, 8, 18)
           + _chain(16, 9, 10, 11) + _chain(16, 12, 13, 14)),
)

LAYOUTS = {layout.name: layout for layout in
           (NYU_HAND_14, ICVL_HAND_16, HANDS2017_HAND_21, ITOP_BODY_15, K2HPD_BODY_19)}


def get_layout(name):
    """Return the JointLayout called ``name``; raise KeyError naming the known ones."""
    try:
        return LAYOUTS[name]
    except KeyError:
        raise KeyError(f'unknown joint layout {name!r}; known: {sorted(LAYOUTS)}') from None
