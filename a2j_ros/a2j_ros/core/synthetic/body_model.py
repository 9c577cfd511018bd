"""An articulated human body made of capsules and spheres, in the ITOP 15-joint layout.

Body frame (millimetres): origin at the torso joint (mid spine), +y up, +x toward the
subject's left, +z toward the subject's front. Joints are returned in the itop_body_15 order
(head, neck, shoulders, elbows, hands, torso, hips, knees, feet; r before l). Segment lengths
are adult averages (upper arm 280, forearm to hand 270, thigh 420, shin 430 mm), jittered per
subject by a global size factor.
"""
from dataclasses import dataclass

import numpy as np

from a2j_ros.core.synthetic.geometry import deg, rot_x, rot_y, rot_z

HEAD, NECK, R_SHOULDER, L_SHOULDER, R_ELBOW, L_ELBOW, R_HAND, L_HAND, TORSO, R_HIP, L_HIP, \
    R_KNEE, L_KNEE, R_FOOT, L_FOOT = range(15)
DOWN = np.array([0.0, -1.0, 0.0])


@dataclass
class BodyPoseLimits:
    """Joint limits in degrees."""

    shoulder_flex: tuple = (-40.0, 160.0)     # arm forward (+) / backward (-)
    shoulder_abd: tuple = (0.0, 110.0)        # arm out to the side
    upper_arm_twist: tuple = (-60.0, 60.0)
    elbow_flex: tuple = (0.0, 140.0)
    hip_flex: tuple = (-20.0, 90.0)
    hip_abd: tuple = (-5.0, 35.0)
    knee_flex: tuple = (0.0, 110.0)
    spine_bend: tuple = (-15.0, 25.0)         # forward bend
    spine_side: tuple = (-12.0, 12.0)
    spine_twist: tuple = (-25.0, 25.0)
    head_tilt: tuple = (-20.0, 20.0)


@dataclass
class BodyPose:
    """The angles (degrees) and size that pose a body.

    ``spine`` (3,): twist, side bend, forward bend; ``head_tilt``; ``arms`` (2, 4): per arm
    (right, left) shoulder flexion, abduction, upper-arm twist, elbow flexion; ``legs`` (2, 3):
    per leg hip flexion, abduction, knee flexion; ``scale``: the subject's size factor.
    """

    scale: float
    spine: np.ndarray
    head_tilt: float
    arms: np.ndarray
    legs: np.ndarray


def _draw_arm(rng, limits):
    flex = rng.uniform(*limits.shoulder_flex) if rng.random() < 0.7 else rng.uniform(-20, 30)
    abd = rng.uniform(*limits.shoulder_abd) if rng.random() < 0.6 else rng.uniform(0, 25)
    return flex, abd, rng.uniform(*limits.upper_arm_twist), rng.uniform(*limits.elbow_flex)


def _draw_leg(rng, limits):
    """Most draws stand, some walk, sit or kick."""
    if rng.random() < 0.6:
        flex, knee_flex = rng.uniform(-10, 20), rng.uniform(0, 20)
    else:
        flex, knee_flex = rng.uniform(*limits.hip_flex), rng.uniform(*limits.knee_flex)
    return flex, rng.uniform(*limits.hip_abd), knee_flex


def draw_body_pose(rng, limits=None):
    """Draw random body angles and size within ``limits`` (a BodyPose)."""
    limits = BodyPoseLimits() if limits is None else limits
    scale = rng.uniform(0.88, 1.1)
    spine = np.array([rng.uniform(*limits.spine_twist), rng.uniform(*limits.spine_side),
                      rng.uniform(*limits.spine_bend)])
    head_tilt = rng.uniform(*limits.head_tilt)
    arms = np.array([_draw_arm(rng, limits) for _ in range(2)])
    legs = np.array([_draw_leg(rng, limits) for _ in range(2)])
    return BodyPose(scale, spine, head_tilt, arms, legs)


def _arm(pose, side, shoulder, spine, scale):
    """Return (elbow, hand) for one arm angles (4,); ``side`` is +1 for left, -1 for right."""
    flex, abd, twist, elbow_flex = pose
    upper = spine @ rot_z(deg(side * abd)) @ rot_x(deg(-flex))
    elbow = shoulder + upper @ DOWN * 280.0 * scale
    fore = upper @ rot_y(deg(twist)) @ rot_x(deg(-elbow_flex))
    hand = elbow + fore @ DOWN * 270.0 * scale
    return elbow, hand


def _leg(pose, side, hip, scale):
    """Return (knee, foot) for one leg's angles (3,)."""
    flex, abd, knee_flex = pose
    thigh = rot_z(deg(side * abd)) @ rot_x(deg(-flex))
    knee = hip + thigh @ DOWN * 420.0 * scale
    foot = knee + thigh @ rot_x(deg(knee_flex)) @ DOWN * 430.0 * scale
    return knee, foot


def build_body(pose):
    """Return (joints (15, 3) mm in body frame, capsules (C, 7)) of a BodyPose.

    Capsules are (start xyz, end xyz, radius) rows, radii in millimetres.
    """
    scale = float(pose.scale)
    joints = np.zeros((15, 3))
    twist, side_bend, bend = pose.spine
    spine = rot_y(deg(twist)) @ rot_z(deg(side_bend)) @ rot_x(deg(bend))
    joints[TORSO] = (0.0, 0.0, 0.0)
    joints[NECK] = spine @ np.array([0.0, 290.0, 0.0]) * scale
    head_dir = spine @ rot_x(deg(pose.head_tilt)) @ np.array([0.0, 1.0, 0.0])
    joints[HEAD] = joints[NECK] + head_dir * 200.0 * scale
    for arm, (side, s_idx, e_idx, h_idx) in zip(pose.arms, ((-1, R_SHOULDER, R_ELBOW, R_HAND),
                                                            (1, L_SHOULDER, L_ELBOW, L_HAND))):
        joints[s_idx] = spine @ np.array([side * 185.0, 250.0, 0.0]) * scale
        joints[e_idx], joints[h_idx] = _arm(arm, side, joints[s_idx], spine, scale)
    for leg, (side, h_idx, k_idx, f_idx) in zip(pose.legs, ((-1, R_HIP, R_KNEE, R_FOOT),
                                                            (1, L_HIP, L_KNEE, L_FOOT))):
        joints[h_idx] = np.array([side * 100.0, -210.0, 0.0]) * scale
        joints[k_idx], joints[f_idx] = _leg(leg, side, joints[h_idx], scale)
    hips_mid = (joints[R_HIP] + joints[L_HIP]) / 2
    chest = spine @ np.array([0.0, 150.0, 0.0]) * scale
    r = scale
    capsules = [
        (*joints[HEAD], *joints[HEAD], 105.0 * r),
        (*joints[NECK], *(joints[NECK] + head_dir * 80.0), 55.0 * r),
        (*joints[R_SHOULDER], *joints[L_SHOULDER], 65.0 * r),
        (*chest - spine @ np.array([90.0, 0, 0]) * r, *chest + spine @ np.array([90.0, 0, 0]) * r,
         95.0 * r),
        (*joints[TORSO] - np.array([80.0, 0, 0]) * r, *joints[TORSO] + np.array([80.0, 0, 0]) * r,
         95.0 * r),
        (*hips_mid + np.array([-70.0, 30, 0]) * r, *hips_mid + np.array([70.0, 30, 0]) * r,
         95.0 * r),
    ]
    for a, b, radius in ((R_SHOULDER, R_ELBOW, 50.0), (L_SHOULDER, L_ELBOW, 50.0),
                         (R_ELBOW, R_HAND, 40.0), (L_ELBOW, L_HAND, 40.0),
                         (R_HIP, R_KNEE, 72.0), (L_HIP, L_KNEE, 72.0),
                         (R_KNEE, R_FOOT, 52.0), (L_KNEE, L_FOOT, 52.0)):
        capsules.append((*joints[a], *joints[b], radius * r))
    for hand in (R_HAND, L_HAND):
        capsules.append((*joints[hand], *joints[hand], 48.0 * r))
    return joints, np.array(capsules)


def pose_body(rng, limits=None):
    """Draw one random body pose; return (joints (15, 3) mm in body frame, capsules (C, 7))."""
    return build_body(draw_body_pose(rng, limits))


__all__ = ['BodyPose', 'BodyPoseLimits', 'build_body', 'draw_body_pose', 'pose_body']
