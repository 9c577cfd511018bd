"""Synthetic depth data: articulated hands and bodies rendered through a pinhole camera."""
from a2j_ros.core.synthetic.dataset import BodyScene, HandScene, SyntheticBodies, SyntheticHands

__all__ = ['BodyScene', 'HandScene', 'SyntheticBodies', 'SyntheticHands']
