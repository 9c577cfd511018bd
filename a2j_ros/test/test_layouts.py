import pytest

from a2j_ros.core.layouts import get_layout, LAYOUTS


@pytest.mark.parametrize('name, joints, kind, dims', [
    ('nyu_hand_14', 14, 'hand', 3), ('icvl_hand_16', 16, 'hand', 3),
    ('hands2017_hand_21', 21, 'hand', 3), ('itop_body_15', 15, 'body', 3),
    ('k2hpd_body_19', 19, 'body', 2)])
def test_layout_sizes(name, joints, kind, dims):
    layout = get_layout(name)
    assert (layout.num_joints, layout.kind, layout.dims) == (joints, kind, dims)


@pytest.mark.parametrize('name', sorted(LAYOUTS))
def test_bones_form_one_tree_over_all_joints(name):
    layout = LAYOUTS[name]
    names = layout.joint_names
    assert len(set(names)) == len(names)
    assert all(n == n.lower() and ' ' not in n for n in names)
    assert len(layout.bones) == layout.num_joints - 1
    parent = list(range(layout.num_joints))

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for a, b in layout.bones:
        assert 0 <= a < layout.num_joints and 0 <= b < layout.num_joints and a != b
        parent[root(a)] = root(b)
    assert len({root(i) for i in range(layout.num_joints)}) == 1


def test_itop_order_matches_the_dataset():
    assert get_layout('itop_body_15').joint_names[:4] == ('head', 'neck', 'r_shoulder',
                                                          'l_shoulder')
    assert get_layout('itop_body_15').joint_names[8] == 'torso'


def test_pdj_torso_joints_of_k2hpd_are_authors_indices():
    # A2J's src/k2hpd.py measures the torso from joint 1 to the middle of joints 9 and 12.
    names = get_layout('k2hpd_body_19').joint_names
    assert names.index('neck') == 1
    assert {names.index('l_hip'), names.index('r_hip')} == {9, 12}


def test_unknown_layout_names_the_known_ones():
    with pytest.raises(KeyError, match='nyu_hand_14'):
        get_layout('nope')
