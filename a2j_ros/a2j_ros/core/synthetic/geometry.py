"""Rotations and small vector helpers for the synthetic skeletons (numpy, millimetres)."""
import numpy as np


def rot_x(angle):
    """Return the 3x3 rotation by ``angle`` radians about x (y turns toward z)."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rot_y(angle):
    """Return the 3x3 rotation by ``angle`` radians about y (z turns toward x)."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rot_z(angle):
    """Return the 3x3 rotation by ``angle`` radians about z (x turns toward y)."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def deg(values):
    """Convert degrees to radians (numbers or arrays)."""
    return np.deg2rad(values)


def uniform_deg(rng, low, high, size=None):
    """Draw angles uniformly in [low, high] degrees; return radians."""
    return np.deg2rad(rng.uniform(low, high, size))


__all__ = ['deg', 'rot_x', 'rot_y', 'rot_z', 'uniform_deg']
