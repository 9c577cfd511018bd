"""The live replay's closed graph: options, private domain, environments (no DDS needed)."""
import os

import pytest

from a2j_ros.core.errors import InputError
from a2j_ros.ros.replay_graph import (
    check_live_options,
    child_environment,
    choose_domain,
    graph_environment,
    scoped_environ,
)


@pytest.mark.parametrize('kwargs,match', [
    (dict(rate=float('nan')), '--rate'), (dict(rate=0.0), '--rate'),
    (dict(rate=float('inf')), '--rate'), (dict(startup_timeout_s=0.0), '--startup-timeout'),
    (dict(startup_timeout_s=float('inf')), '--startup-timeout'),
    (dict(domain_id=300), '0 and 232'), (dict(domain_id=-1), '0 and 232'),
    (dict(discovery='subnet'), '--discovery')])
def test_bad_live_options(kwargs, match):
    with pytest.raises(InputError, match=match):
        check_live_options(**kwargs)


def test_private_domain_differs_from_the_environment():
    assert choose_domain(7) == 7
    for _ in range(50):
        domain = choose_domain(None, {'ROS_DOMAIN_ID': '200'})
        assert 150 <= domain <= 232 and domain != 200


def test_graph_environment_stays_local_and_leaves_os_environ_alone():
    before = dict(os.environ)
    local = graph_environment(171, 'localhost')
    assert local == {'ROS_DOMAIN_ID': '171', 'ROS_AUTOMATIC_DISCOVERY_RANGE': 'LOCALHOST',
                     'ROS_STATIC_PEERS': None}
    assert graph_environment(171, 'environment') == {'ROS_DOMAIN_ID': '171'}
    env = child_environment(local, {'ROS_STATIC_PEERS': '10.0.0.9', 'HOME': '/h'})
    assert env == {'ROS_DOMAIN_ID': '171', 'ROS_AUTOMATIC_DISCOVERY_RANGE': 'LOCALHOST',
                   'HOME': '/h'}
    with scoped_environ(local):
        assert os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] == 'LOCALHOST'
        assert 'ROS_STATIC_PEERS' not in os.environ
    assert dict(os.environ) == before
