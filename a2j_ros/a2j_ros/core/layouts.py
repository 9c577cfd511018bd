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


# NYU: the 14 joints of the usual evaluation protocol (DeepPrior/V2V/A2J), picked from the
# 36 annotated ones at indices 0, 3, 6, 9, 12, 15, 18, 21, 24, 25, 27, 30, 31, 32.
NYU_HAND_14 = JointLayout(
    name='nyu_hand_14', kind='hand',
    joint_names=('pinky_tip', 'pinky_mid', 'ring_tip', 'ring_mid', 'middle_tip', 'middle_mid',
                 'index_tip', 'index_mid', 'thumb_tip', 'thumb_mid', 'thumb_root',
                 'wrist_pinky_side', 'wrist_thumb_side', 'palm'),
    bones=(_chain(0, 1, 13) + _chain(2, 3, 13) + _chain(4, 5, 13) + _chain(6, 7, 13)
           + _chain(8, 9, 10, 13) + ((11, 13), (12, 13))),
)

# ICVL: palm, then thumb, index, middle, ring, pinky (root, mid, tip each).
ICVL_HAND_16 = JointLayout(
    name='icvl_hand_16', kind='hand',
    joint_names=('palm',
                 'thumb_root', 'thumb_mid', 'thumb_tip', 'index_root', 'index_mid', 'index_tip',
                 'middle_root', 'middle_mid', 'middle_tip', 'ring_root', 'ring_mid', 'ring_tip',
                 'pinky_root', 'pinky_mid', 'pinky_tip'),
    bones=tuple(b for f in range(5) for b in _chain(0, 1 + 3 * f, 2 + 3 * f, 3 + 3 * f)),
)

# HANDS 2017 (BigHand2.2M order): wrist, 5 MCPs (T, I, M, R, P), then PIP, DIP, TIP per finger.
HANDS2017_HAND_21 = JointLayout(
    name='hands2017_hand_21', kind='hand',
    joint_names=('wrist', 'thumb_mcp', 'index_mcp', 'middle_mcp', 'ring_mcp', 'pinky_mcp',
                 'thumb_pip', 'thumb_dip', 'thumb_tip', 'index_pip', 'index_dip', 'index_tip',
                 'middle_pip', 'middle_dip', 'middle_tip', 'ring_pip', 'ring_dip', 'ring_tip',
                 'pinky_pip', 'pinky_dip', 'pinky_tip'),
    bones=tuple(b for f in range(5) for b in _chain(0, 1 + f, 6 + 3 * f, 7 + 3 * f, 8 + 3 * f)),
)

# ITOP (front/side and top views share it).
ITOP_BODY_15 = JointLayout(
    name='itop_body_15', kind='body',
    joint_names=('head', 'neck', 'r_shoulder', 'l_shoulder', 'r_elbow', 'l_elbow', 'r_hand',
                 'l_hand', 'torso', 'r_hip', 'l_hip', 'r_knee', 'l_knee', 'r_foot', 'l_foot'),
    bones=(_chain(0, 1, 8) + _chain(1, 2, 4, 6) + _chain(1, 3, 5, 7)
           + _chain(8, 9, 11, 13) + _chain(8, 10, 12, 14)),
)

LAYOUTS = {layout.name: layout for layout in
           (NYU_HAND_14, ICVL_HAND_16, HANDS2017_HAND_21, ITOP_BODY_15)}


def get_layout(name):
    """Return the JointLayout called ``name``; raise KeyError naming the known ones."""
    try:
        return LAYOUTS[name]
    except KeyError:
        raise KeyError(f'unknown joint layout {name!r}; known: {sorted(LAYOUTS)}') from None
