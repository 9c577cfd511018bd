"""Our typestore: standard ROS 2 type hashes and a2j_ros_msgs found or the fallback copy."""
import json
import os
from pathlib import Path

import pytest

from a2j_ros.bag import typestore as ts

REPO = Path(__file__).resolve().parents[2]
MSG_DIR = REPO / 'a2j_ros_msgs' / 'msg'


def test_finds_msg_files():
    folder = ts.find_msg_dir()
    assert folder is not None and (folder / 'SkeletonArray.msg').is_file()


def test_fallback_copy_has_the_same_hashes(tmp_path, monkeypatch):
    assert MSG_DIR.is_dir(), f'a2j_ros_msgs sources not next to this package: {MSG_DIR}'
    from_files = ts.make_typestore(MSG_DIR)
    monkeypatch.setattr(ts, 'find_msg_dir', lambda: None)
    assert ts.load_msg_definitions() == ts.MSG_DEFINITIONS
    fallback = ts.make_typestore()
    for name in (ts.ROI_ARRAY, ts.SKELETON, ts.SKELETON_ARRAY):
        assert fallback.hash_rihs01(name) == from_files.hash_rihs01(name)


def _installed_hash(share, package, name):
    path = Path(share) / package / 'msg' / f'{name}.json'
    assert path.is_file(), f'{path} not installed'
    return json.loads(path.read_text())['type_hashes'][0]['hash_string']


@pytest.mark.parametrize('msgtype', [ts.IMAGE, ts.CAMERA_INFO, ts.ROI_ARRAY, ts.SKELETON,
                                     ts.SKELETON_ARRAY])
def test_hashes_match_the_ros_build(msgtype):
    """Bags carry the RIHS01 hashes that rosidl generated for the installed messages."""
    package, _msg, name = msgtype.split('/')
    prefixes = [p for p in os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep) if p]
    shares = [Path(p) / 'share' for p in prefixes if (Path(p) / 'share' / package).is_dir()]
    assert shares, f'{package} is not installed on AMENT_PREFIX_PATH'
    assert ts.default_typestore().hash_rihs01(msgtype) == _installed_hash(shares[0], package,
                                                                          name)
