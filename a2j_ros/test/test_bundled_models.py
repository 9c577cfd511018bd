"""Bundled demo checkpoints: found by name, and flagged as synthetic-only."""
from pathlib import Path

import pytest

from a2j_ros.ros.bundled_models import (
    is_synthetic,
    README_SECTION,
    resolve_checkpoint,
    synthetic_warning,
)

PACKAGE = Path(__file__).resolve().parents[1]


def test_resolve_checkpoint(tmp_path):
    assert Path(resolve_checkpoint('', 'hand')).name == 'demo_hand_r18.pt'
    assert Path(resolve_checkpoint('', 'hand')).is_file()
    assert Path(resolve_checkpoint('', 'body')).name == 'demo_body_r18.pt'
    assert Path(resolve_checkpoint('demo_hand_r18.pt')).is_file()
    own = tmp_path / 'hand.pt'
    own.write_bytes(b'x')
    assert resolve_checkpoint(str(own)) == str(own)
    assert resolve_checkpoint('nowhere/x.pt') == 'nowhere/x.pt'     # loading names it
    assert resolve_checkpoint('x.pt') == 'x.pt'


def test_synthetic_flag_and_warning():
    assert is_synthetic('/any/demo_hand_r18.pt', None)                 # bundled, no field
    assert is_synthetic('/any/model.pt', 'synthetic hands (a2j_ros.core.synthetic)')
    assert not is_synthetic('/any/model.pt', 'NYU hand pose dataset (authors)')
    assert not is_synthetic('/any/model.pt', None)
    text = synthetic_warning('/x/demo_hand_r18.pt', None)
    assert f'"{README_SECTION}"' in text and '\n' not in text
    assert f'## {README_SECTION}' in (PACKAGE.parent / 'README.md').read_text()


@pytest.mark.parametrize('trained_on, warns', [('synthetic hands', True), ('NYU', False)])
def test_node_warns_once_for_a_synthetic_model(ros_context, tmp_path, trained_on, warns):
    from node_harness import Harness
    import torch

    from a2j_ros.core.checkpoint import save_checkpoint
    from a2j_ros.core.config import CropConfig, ModelConfig
    from a2j_ros.core.model import A2JNet
    torch.manual_seed(0)
    model = A2JNet(ModelConfig(backbone='resnet18', input_size=64))
    path = save_checkpoint(tmp_path / 'm.pt', model, CropConfig(mode='hand', input_size=64),
                           trained_on=trained_on)
    h = Harness(ros_context, str(path))
    try:
        assert h.logged('configured:')
        h.wait(lambda: False, 0.3)
        demo_lines = [line for line in h.logs if 'DEMO MODEL' in line]
        assert len(demo_lines) == (1 if warns else 0)
    finally:
        h.close()
