"""The pose node's parameters: typed with ranges, checked when set, runtime ones live."""
import time

from conftest import save_random_hand_checkpoint
from node_harness import box_around, camera_info, Harness
import pytest

from a2j_ros.core.errors import InputError
from a2j_ros.core.synthetic import SyntheticHands
from a2j_ros.ros.image_conversion import depth_mm_to_image
from a2j_ros.ros.node_params import check_change, PARAMETERS, RUNTIME, settings_from_values, SPECS

DEFAULTS = {spec.name: (None if spec.default == () else spec.default) for spec in PARAMETERS}


def test_defaults_are_valid_and_inside_their_own_constraints():
    settings = settings_from_values(DEFAULTS)
    assert settings.depth_max_mm == 1500.0 and settings.marker_joint_color == ()
    for spec in PARAMETERS:
        if spec.choices:
            assert spec.default in spec.choices, spec.name
        if spec.low is not None:
            assert spec.low <= spec.default <= spec.high, spec.name


@pytest.mark.parametrize('change, match', [
    ({'roi_source': 'bogus'}, "roi_source = 'bogus'; use one of 'topic'"),
    ({'depth_qos_reliability': 'system_default'}, 'use one of'),
    ({'depth_min_m': 2.0}, 'must be below depth_max_m'),
    ({'marker_joint_color': [1.0, 0.0]}, '3 or 4 numbers'),
    ({'marker_bone_color': [2.0, 0.0, 0.0]}, 'in 0..1'),
    ({'max_instances': -1}, 'outside 0..1000'),
])
def test_bad_values_are_refused_with_the_reason(change, match):
    with pytest.raises(InputError, match=match):
        settings_from_values(dict(DEFAULTS, **change))
    settings, reason = check_change(DEFAULTS, change, configured=False)
    assert settings is None and match.split("'")[0].strip() in reason


def test_reconfigure_only_parameters_are_refused_while_configured():
    settings, reason = check_change(DEFAULTS, {'checkpoint': 'other.pt'}, configured=True)
    assert settings is None and 'read on configure' in reason and 'checkpoint' in reason
    settings, reason = check_change(DEFAULTS, {'checkpoint': 'other.pt'}, configured=False)
    assert reason == '' and settings.checkpoint == 'other.pt'
    settings, reason = check_change(DEFAULTS, {'max_instances': 3, 'depth_max_m': 2.5},
                                    configured=True)
    assert reason == '' and (settings.max_instances, settings.depth_max_mm) == (3, 2500.0)
    assert check_change(DEFAULTS, {'use_sim_time': True}, configured=True) == (None, '')
    assert {'marker_joint_scale', 'depth_max_m', 'max_instances'} <= RUNTIME
    assert not {'checkpoint', 'device', 'roi_source', 'depth_qos_reliability'} & RUNTIME


# -- on a live node, through its parameter services (as `ros2 param` does) ------------------


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    return str(save_random_hand_checkpoint(tmp_path_factory.mktemp('ck') / 'r18.pt'))


@pytest.fixture
def harness(ros_context, checkpoint):
    h = Harness(ros_context, checkpoint, roi_source='topic')
    assert h.connected(), 'node did not come up'
    yield h
    h.close()


def test_descriptors_carry_types_and_ranges(harness):
    from rcl_interfaces.msg import ParameterType
    node = harness.node
    depth = node.describe_parameter('depth_max_m')
    assert depth.type == ParameterType.PARAMETER_DOUBLE and not depth.dynamic_typing
    assert (depth.floating_point_range[0].from_value,
            depth.floating_point_range[0].to_value) == (SPECS['depth_max_m'].low,
                                                         SPECS['depth_max_m'].high)
    cap = node.describe_parameter('max_instances')
    assert cap.type == ParameterType.PARAMETER_INTEGER and cap.integer_range[0].from_value == 0
    source = node.describe_parameter('roi_source')
    assert "'topic'" in source.additional_constraints and 'read on configure' in \
        source.description
    assert 'next frame' in node.describe_parameter('marker_joint_scale').description


def test_bad_values_set_through_the_service_are_refused(harness):
    results = harness.set_parameters(roi_source='bogus')
    assert not results[0].successful and 'use one of' in results[0].reason
    results = harness.set_parameters(max_instances=2.5)
    assert not results[0].successful and 'type' in results[0].reason.lower()
    results = harness.set_parameters(depth_max_m='hello')
    assert not results[0].successful
    results = harness.set_parameters(depth_max_m=500.0)
    assert not results[0].successful and 'range' in results[0].reason
    results = harness.set_parameters(checkpoint='/tmp/other.pt')      # configured: refused
    assert not results[0].successful and 'read on configure' in results[0].reason
    node = harness.node
    assert node.get_parameter('roi_source').value == 'topic'
    assert node.get_parameter('depth_max_m').value == 1.5
    assert node.get_parameter('max_instances').value == 1


def test_a_runtime_value_changes_the_next_frame(harness):
    data = SyntheticHands('val', 2)
    h = harness
    frame = data[0]
    h.send(depth_mm_to_image(frame.depth), camera_info(data.camera),
           rois=[box_around(frame.joints_uvd)], stamp_sec=1)
    assert h.wait(lambda: h.markers), 'no markers'
    assert h.markers[-1].markers[0].scale.x == pytest.approx(0.012)
    results = h.set_parameters(marker_joint_scale=0.05, depth_max_m=2)     # 2 -> 2.0
    assert all(r.successful for r in results), [r.reason for r in results]
    count = len(h.markers)
    h.send(depth_mm_to_image(frame.depth), rois=[box_around(frame.joints_uvd)], stamp_sec=2)
    assert h.wait(lambda: len(h.markers) > count)
    assert h.markers[-1].markers[0].scale.x == pytest.approx(0.05)
    assert h.node.pipeline.max_depth_mm == 2000.0


def test_fifty_get_and_describe_calls_all_answer(harness):
    """50 consecutive get/describe calls through rclpy's parameter client: none hangs."""
    from rclpy.parameter_client import AsyncParameterClient
    client = AsyncParameterClient(harness.peer, harness.node.get_fully_qualified_name())
    assert harness.wait(client.services_are_ready, 10.0)
    slowest = 0.0
    for i in range(50):
        start = time.monotonic()
        if i % 2:
            future = client.describe_parameters(['depth_max_m', 'roi_source'])
        else:
            future = client.get_parameters(['depth_max_m', 'roi_source'])
        assert harness.wait(future.done, 5.0), f'call {i} did not answer within 5 s'
        slowest = max(slowest, time.monotonic() - start)
        result = future.result()
        values = result.descriptors if i % 2 else result.values
        assert len(values) == 2
    assert slowest < 5.0
