"""The pose node's lifecycle: autostart once spinning, failed configure stays alive, retries."""
from conftest import save_random_hand_checkpoint
from lifecycle_msgs.msg import State, Transition
from lifecycle_msgs.srv import ChangeState, GetState
from node_harness import Harness
import pytest
from rclpy.parameter import Parameter

from a2j_ros.ros.pose_node import PoseNode


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    return str(save_random_hand_checkpoint(tmp_path_factory.mktemp('ck') / 'r18.pt'))


def _call(h, service_type, name, request):
    client = h.peer.create_client(service_type, f'{h.node.get_fully_qualified_name()}/{name}')
    assert h.wait(client.service_is_ready, 10.0), f'{name} service not available'
    future = client.call_async(request)
    assert h.wait(future.done, 30.0), f'{name} did not answer'
    return future.result()


def _state(h):
    return _call(h, GetState, 'get_state', GetState.Request()).current_state.id


def _transition(h, transition_id):
    return _call(h, ChangeState, 'change_state',
                 ChangeState.Request(transition=Transition(id=transition_id))).success


def test_no_transition_before_spinning(ros_context, checkpoint):
    node = PoseNode(context=ros_context, parameter_overrides=[
        Parameter('checkpoint', value=checkpoint)])
    try:
        assert node._state_machine.current_state[0] == State.PRIMARY_STATE_UNCONFIGURED
        assert node.pipeline is None
    finally:
        node.destroy_node()


def test_failed_configure_stays_alive_and_a_later_configure_brings_it_up(
        ros_context, checkpoint, tmp_path):
    h = Harness(ros_context, str(tmp_path / 'missing.pt'))
    try:
        assert h.logged('cannot configure'), 'no configure error logged'
        line = next(x for x in h.logs if 'cannot configure' in x)
        assert 'missing.pt' in line and 'not found' in line
        assert f'ros2 lifecycle set /{h.name} configure' in line
        assert _state(h) == State.PRIMARY_STATE_UNCONFIGURED          # alive, answering
        assert 'not found' in h.node.configure_error
        results = h.set_parameters(checkpoint=checkpoint)
        assert results[0].successful, results[0].reason
        assert _transition(h, Transition.TRANSITION_CONFIGURE)
        assert _transition(h, Transition.TRANSITION_ACTIVATE)
        assert _state(h) == State.PRIMARY_STATE_ACTIVE
        assert h.connected()
        assert _transition(h, Transition.TRANSITION_DEACTIVATE)
        assert h.node._worker is None and h.node._inputs is None
        assert _transition(h, Transition.TRANSITION_CLEANUP)
        assert h.node.pipeline is None
        for text in ('configured:', 'active: listening', 'inactive:', 'unconfigured:'):
            assert h.logged(text), f'no log line for {text!r}'
    finally:
        h.close()


@pytest.mark.parametrize('params, match', [
    ({'roi_source': 'radar'}, 'roi_source'),
    ({'mode': 'body'}, 'hand model'),
    ({'hand_radius_m': -0.1}, 'hand_radius_m = -0.1 is outside'),
    ({'max_instances': 2.5}, 'max_instances = 2.5 must be an integer'),
])
def test_configure_errors_name_the_parameter(ros_context, checkpoint, params, match):
    overrides = [Parameter('checkpoint', value=checkpoint), Parameter('autostart', value=False)]
    overrides += [Parameter(k, value=v) for k, v in params.items()]
    node = PoseNode(context=ros_context, parameter_overrides=overrides)
    try:
        node.trigger_configure()
        assert match in node.configure_error
        assert node._state_machine.current_state[0] == State.PRIMARY_STATE_UNCONFIGURED
        name = next(iter(params))
        good = {'roi_source': 'nearest', 'mode': 'hand', 'hand_radius_m': 0.06,
                'max_instances': 2}[name]
        assert node.set_parameters([Parameter(name, value=good)])[0].successful
        node.trigger_configure()
        assert node.configure_error == '' and node.pipeline is not None
    finally:
        node.destroy_node()


def test_removed_frame_id_is_warned_about(ros_context, checkpoint):
    h = Harness(ros_context, checkpoint, frame_id='base_link')
    try:
        assert h.logged('parameter frame_id removed')
        assert not h.node.has_parameter('frame_id')
    finally:
        h.close()
