"""QoS adapted to the publishers found (rosbag2's rule), on hand-made offers and live topics."""
from conftest import spin_until
import pytest

from a2j_ros.ros.qos_adapt import adapt_to_offers, QosChoice

R, B, T, V = 'reliable', 'best_effort', 'transient_local', 'volatile'


@pytest.mark.parametrize('offers, requested, expected', [
    ([], 'auto', None),                                     # wait for a publisher
    ([], 'reliable', QosChoice(R, V)),
    ([(R, V)], 'auto', QosChoice(R, V)),
    ([(R, V), (R, V)], 'auto', QosChoice(R, V)),
    ([(B, V)], 'auto', QosChoice(B, V)),
    ([(R, T)], 'auto', QosChoice(R, T)),                    # latched camera_info
    ([(B, V)], 'best_effort', QosChoice(B, V)),
    ([(R, V)], 'best_effort', QosChoice(B, V)),
])
def test_adapt_to_offers(offers, requested, expected):
    assert adapt_to_offers(offers, requested) == expected


def test_mixed_offers_fall_back_with_a_note():
    choice = adapt_to_offers([(R, T), (B, V)], 'auto')
    assert (choice.reliability, choice.durability) == (B, V)
    assert '1 of 2 publishers are reliable' in choice.note and 'transient_local' in choice.note
    forced = adapt_to_offers([(B, V)], 'reliable')
    assert forced.reliability == R and 'cannot match' in forced.note


rclpy = pytest.importorskip('rclpy')


def test_live_subscription_follows_the_publishers(ros_context, capfd):
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from std_msgs.msg import String

    from a2j_ros.ros.qos_adapt import AdaptiveSubscription
    node = rclpy.create_node('qos_adapt_test', context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    got = []
    try:
        sub = AdaptiveSubscription(node, String, 'adapt_topic', got.append, 'auto', 5,
                                   'test_qos_reliability')
        assert sub.subscription is None                     # no publisher yet: waits
        reliable = node.create_publisher(String, 'adapt_topic', QoSProfile(depth=5))
        assert spin_until(executor, lambda: sub.refresh() or sub.subscription is not None, 10)
        assert sub.choice.reliability == R
        assert spin_until(executor, lambda: reliable.get_subscription_count() > 0, 10)
        reliable.publish(String(data='a'))
        assert spin_until(executor, lambda: got, 10)
        node.create_publisher(String, 'adapt_topic', QoSProfile(
            depth=5, reliability=ReliabilityPolicy.BEST_EFFORT))
        assert spin_until(executor, lambda: sub.refresh() or sub.choice.reliability == B, 10)
        err = capfd.readouterr().err
        assert '/adapt_topic: subscribed reliable/volatile (1 publisher(s)' in err
        assert '/adapt_topic: subscribed best_effort/volatile (2 publisher(s)' in err
        assert '1 of 2 publishers are reliable' in err
        fixed = AdaptiveSubscription(node, String, 'adapt_topic', got.append, 'reliable', 5,
                                     'test_qos_reliability')
        seen = []
        assert spin_until(executor, lambda: seen.append(capfd.readouterr().err)
                          or 'incompatible' in ''.join(seen), 10), ''.join(seen)
        fixed.destroy()
        sub.destroy()
    finally:
        executor.shutdown()
        node.destroy_node()
