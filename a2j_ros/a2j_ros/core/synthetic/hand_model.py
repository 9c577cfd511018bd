"""An articulated right hand made of capsules and spheres, posed within joint limits.

Hand frame (millimetres): origin at the wrist centre, +y along the fingers, +x toward the
little finger, +z out of the palm (palm side). Internally the hand has 21 joints (wrist; per
finger MCP, PIP, DIP, tip; thumb CMC, MCP, IP, tip) plus the two wrist points and the palm
centre; ``NYU_FROM_INTERNAL`` maps them to the nyu_hand_14 layout (tip and PIP per finger,
thumb tip/IP/MCP, the two wrist points, palm centre).

Proportions were fitted to the NYU test ground truth published with A2J
(test/data/a2j_published/nyu/nyu_keypointsUVD_test.mat): mean tip-to-PIP 37/45/50/46 mm
(pinky..index), PIP-to-palm 63-71 mm, thumb 21 mm (tip-IP) and 41 mm (IP-MCP), wrist points
31 mm apart and 72 mm from the palm centre.
"""
from dataclasses import dataclass

import numpy as np

from a2j_ros.core.synthetic.geometry import deg, rot_x, rot_y, rot_z

# Fingers in the order index, middle, ring, pinky: MCP position (x, y, z), rest spread (deg),
# phalanx lengths (proximal, middle, distal) and radii.
FINGERS = {
    'index': ((-26.0, 96.0, 0.0), -8.0, (40.0, 25.0, 20.0), (9.0, 8.0, 7.0)),
    'middle': ((-8.0, 101.0, 0.0), 0.0, (44.0, 28.0, 22.0), (9.0, 8.0, 7.0)),
    'ring': ((10.0, 97.0, 0.0), 7.0, (41.0, 25.0, 20.0), (8.5, 7.5, 6.5)),
    'pinky': ((26.0, 89.0, 0.0), 15.0, (33.0, 19.0, 17.0), (7.5, 6.5, 6.0)),
}
THUMB_CMC = (-22.0, 20.0, 6.0)
THUMB_LENGTHS = (46.0, 40.0, 21.0)          # metacarpal, proximal, distal
THUMB_RADII = (13.0, 10.0, 8.5)
PALM_CENTRE = (0.0, 70.0, 0.0)
WRIST_POINTS = ((15.5, 0.0, 0.0), (-15.5, 0.0, 0.0))   # pinky side, thumb side
FOREARM_LENGTH, FOREARM_RADIUS = 240.0, 28.0

# Internal joint indices.
WRIST, PALM, WRIST_PINKY, WRIST_THUMB = 0, 1, 2, 3
FINGER_BASE = {'index': 4, 'middle': 8, 'ring': 12, 'pinky': 16}   # MCP, PIP, DIP, TIP
THUMB_BASE = 20                                                     # CMC, MCP, IP, TIP
NUM_INTERNAL = 24

# nyu_hand_14 order: pinky tip/mid, ring tip/mid, middle tip/mid, index tip/mid, thumb
# tip/mid/root, wrist (pinky side), wrist (thumb side), palm.
NYU_FROM_INTERNAL = np.array([19, 17, 15, 13, 11, 9, 7, 5, 23, 22, 21, WRIST_PINKY,
                              WRIST_THUMB, PALM])


@dataclass
class HandPoseLimits:
    """Joint limits in degrees (flexion curls toward the palm)."""

    mcp_flex: tuple = (-15.0, 90.0)
    pip_flex: tuple = (0.0, 110.0)
    dip_ratio: tuple = (0.5, 0.85)           # DIP flexion as a fraction of PIP flexion
    spread: tuple = (-12.0, 12.0)            # extra abduction at each MCP
    thumb_cmc_flex: tuple = (-15.0, 45.0)
    thumb_cmc_abd: tuple = (-25.0, 25.0)
    thumb_mcp_flex: tuple = (-5.0, 60.0)
    thumb_ip_flex: tuple = (-10.0, 80.0)
    wrist_flex: tuple = (-50.0, 50.0)
    wrist_dev: tuple = (-20.0, 20.0)


def _sample_curls(rng):
    """Return per-finger curl in 0..1: independent, or shared by the hand (fists, open)."""
    if rng.random() < 0.35:
        base = rng.random()
        return np.clip(base + rng.normal(0.0, 0.12, 5), 0.0, 1.0)
    return rng.random(5)


@dataclass
class HandPose:
    """The angles (degrees) that pose a hand; blend two with ``HandPose.blend``.

    ``fingers`` (4, 4): per finger (index, middle, ring, pinky) MCP, PIP and DIP flexion and
    abduction; ``thumb`` (4,): CMC abduction, CMC, MCP and IP flexion; ``wrist`` (2,): flexion
    and deviation.
    """

    fingers: np.ndarray
    thumb: np.ndarray
    wrist: np.ndarray

    def blend(self, other, weight):
        """Return the pose ``weight`` of the way from this one to ``other`` (0..1)."""
        w = float(weight)
        return HandPose(*((1.0 - w) * np.asarray(a) + w * np.asarray(b) for a, b in (
            (self.fingers, other.fingers), (self.thumb, other.thumb),
            (self.wrist, other.wrist))))


def draw_hand_pose(rng, limits=None):
    """Draw random hand angles within ``limits`` (a HandPose)."""
    limits = HandPoseLimits() if limits is None else limits
    curls = _sample_curls(rng)
    fingers = np.zeros((4, 4))
    for f, (mcp, spread, lengths, radii) in enumerate(FINGERS.values()):
        c = curls[f]
        mcp_flex = np.interp(c, [0, 1], limits.mcp_flex) + rng.normal(0, 8)
        pip_flex = np.interp(c, [0, 1], limits.pip_flex) + rng.normal(0, 10)
        mcp_flex = np.clip(mcp_flex, *limits.mcp_flex)
        pip_flex = np.clip(pip_flex, *limits.pip_flex)
        dip_flex = pip_flex * rng.uniform(*limits.dip_ratio)
        abd = spread + rng.uniform(*limits.spread) * (1.0 - 0.6 * c)
        fingers[f] = (mcp_flex, pip_flex, dip_flex, abd)
    thumb = np.array([rng.uniform(*limits.thumb_cmc_abd), rng.uniform(*limits.thumb_cmc_flex),
                      rng.uniform(*limits.thumb_mcp_flex), rng.uniform(*limits.thumb_ip_flex)])
    wrist_flex = rng.uniform(*limits.wrist_flex)
    wrist = np.array([wrist_flex, rng.uniform(*limits.wrist_dev)])
    return HandPose(fingers, thumb, wrist)


def build_hand(pose, forearm_length=FOREARM_LENGTH):
    """Return (joints (24, 3) mm in hand frame, capsules (C, 7)) of a HandPose.

    Capsules are (start xyz, end xyz, radius) rows. The forearm is a capsule of
    ``forearm_length`` mm leaving the wrist, bent by the wrist angles (a longer one stands for
    the forearm and upper arm running out of the image, as a real arm does).
    """
    joints = np.zeros((NUM_INTERNAL, 3))
    joints[PALM] = PALM_CENTRE
    joints[WRIST_PINKY], joints[WRIST_THUMB] = WRIST_POINTS
    capsules = []
    for f, (name, (mcp, spread, lengths, radii)) in enumerate(FINGERS.items()):
        mcp_flex, pip_flex, dip_flex, abd = pose.fingers[f]
        frame = rot_z(deg(-abd)) @ rot_x(deg(mcp_flex))
        base = FINGER_BASE[name]
        joints[base] = mcp
        position = np.array(mcp, dtype=float)
        for k, flex in enumerate((0.0, pip_flex, dip_flex)):
            frame = frame @ rot_x(deg(flex))
            nxt = position + frame @ np.array([0.0, lengths[k], 0.0])
            joints[base + k + 1] = nxt
            capsules.append((*position, *nxt, radii[k]))
            position = nxt
        # the metacarpal inside the palm: from near the wrist to the MCP
        capsules.append((mcp[0] * 0.55, 12.0, -1.0, *mcp, 11.5))
    # thumb: rest direction out to the thumb side and toward the palm side
    cmc_abd, cmc_flex, mcp_flex, ip_flex = pose.thumb
    frame = rot_z(deg(40.0)) @ rot_y(deg(45.0)) @ rot_z(deg(cmc_abd)) @ rot_x(deg(cmc_flex))
    position = np.array(THUMB_CMC, dtype=float)
    joints[THUMB_BASE] = position
    for k, flex in enumerate((0.0, mcp_flex, ip_flex)):
        frame = frame @ rot_x(deg(flex))
        nxt = position + frame @ np.array([0.0, THUMB_LENGTHS[k], 0.0])
        joints[THUMB_BASE + k + 1] = nxt
        capsules.append((*position, *nxt, THUMB_RADII[k]))
        position = nxt
    # palm slab: two capsules across it, plus the wrist
    capsules.append((-20.0, 45.0, 0.0, 20.0, 45.0, 0.0, 15.0))
    capsules.append((-24.0, 75.0, 0.0, 22.0, 75.0, 0.0, 13.0))
    capsules.append((-14.0, 8.0, 0.0, 14.0, 8.0, 0.0, 16.0))
    # forearm, bent at the wrist
    wrist = rot_x(deg(pose.wrist[0])) @ rot_z(deg(pose.wrist[1]))
    elbow = wrist @ np.array([0.0, -float(forearm_length), 0.0])
    capsules.append((0.0, 0.0, 0.0, *elbow, FOREARM_RADIUS))
    return joints, np.array(capsules)


def pose_hand(rng, limits=None, forearm_length=FOREARM_LENGTH):
    """Draw one random hand pose; return (joints (24, 3) mm in hand frame, capsules (C, 7))."""
    return build_hand(draw_hand_pose(rng, limits), forearm_length)


__all__ = ['FINGERS', 'HandPose', 'HandPoseLimits', 'NUM_INTERNAL', 'NYU_FROM_INTERNAL', 'PALM',
           'build_hand', 'draw_hand_pose', 'pose_hand']
