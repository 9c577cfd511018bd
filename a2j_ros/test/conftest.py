"""Shared fixtures and helpers of the test suite."""
import os
from pathlib import Path

import pytest

# The authors' published test-set results, shipped with the tests (data/a2j_published/README.md).
A2J_PUBLISHED = Path(__file__).resolve().parent / 'data' / 'a2j_published'


@pytest.fixture(scope='session', autouse=True)
def private_cache(tmp_path_factory):
    """Point XDG_CACHE_HOME (backend auto's cache) at a folder of this test session.

    Tests never read or write the user's ~/.cache; node processes started by tests inherit it.
    """
    saved = os.environ.get('XDG_CACHE_HOME')
    os.environ['XDG_CACHE_HOME'] = str(tmp_path_factory.mktemp('xdg_cache'))
    yield
    if saved is None:
        os.environ.pop('XDG_CACHE_HOME', None)
    else:
        os.environ['XDG_CACHE_HOME'] = saved


@pytest.fixture(scope='session')
def a2j_published():
    """Return the folder of the authors' published data; fail (never skip) if it is missing."""
    assert (A2J_PUBLISHED / 'README.md').is_file(), f'test data missing: {A2J_PUBLISHED}'
    return A2J_PUBLISHED


@pytest.fixture
def ros_context():
    """Yield a private rclpy Context, initialised for one test and shut down after it."""
    import rclpy
    context = rclpy.context.Context()
    rclpy.init(context=context)
    try:
        yield context
    finally:
        rclpy.shutdown(context=context)


def spin_until(executor, predicate, timeout_s=10.0):
    """Spin ``executor`` until ``predicate()`` is true or ``timeout_s`` passes; return it."""
    import time
    deadline = time.monotonic() + timeout_s
    while not predicate() and time.monotonic() < deadline:
        executor.spin_once(timeout_sec=0.05)
    return predicate()


def save_random_hand_checkpoint(path, seed=0, input_size=64):
    """Save a randomly initialised ResNet-18 nyu_hand_14 model like a trained one; return path."""
    import torch

    from a2j_ros.core.checkpoint import save_checkpoint
    from a2j_ros.core.config import CropConfig, ModelConfig
    from a2j_ros.core.model import A2JNet
    torch.manual_seed(seed)
    model = A2JNet(ModelConfig(backbone='resnet18', num_joints=14, layout='nyu_hand_14',
                               input_size=input_size))
    save_checkpoint(path, model, CropConfig(mode='hand', input_size=input_size, norm_std=40.0))
    return path
