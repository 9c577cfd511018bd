"""Subscriptions whose QoS follows the publishers they find, the way rosbag2 records.

The rule (rosbag2_transport's ``adapt_request_to_offers``): request RELIABLE when every
publisher of the topic offers RELIABLE, else BEST_EFFORT (which matches every publisher);
request TRANSIENT_LOCAL when every publisher offers it, else VOLATILE. A reliable
subscription gets every frame of a reliable camera driver even for VGA depth over Fast DDS's
default transports (docs/transport.md); a best-effort one still matches a best-effort driver.

``AdaptiveSubscription`` applies it to one topic: with ``auto`` and no publisher yet it
waits (no subscription, so a reliable publisher is never first matched best effort), and
``refresh()`` (called from a timer) re-checks the publishers and re-creates the
subscription when the adapted QoS changes. An incompatible-QoS event is one warning naming
the topic. ``reliable`` / ``best_effort`` fix the reliability (durability still adapts).
"""
from dataclasses import dataclass

RELIABLE, BEST_EFFORT = 'reliable', 'best_effort'
TRANSIENT_LOCAL, VOLATILE = 'transient_local', 'volatile'
REFRESH_PERIOD_S = 0.5


@dataclass(frozen=True)
class QosChoice:
    """What to request: reliability, durability, and a note when the offers disagree."""

    reliability: str
    durability: str
    note: str = ''


def adapt_to_offers(offers, requested='auto'):
    """Return the QosChoice for publishers offering ``offers``, or None to wait.

    ``offers``: one (reliability, durability) pair per publisher, each 'reliable' /
    'best_effort' and 'transient_local' / 'volatile'. ``requested``: 'auto' (adapt),
    'reliable' or 'best_effort' (fixed reliability). None: ``auto`` with no publisher.
    """
    offers = list(offers)
    if not offers:
        return None if requested == 'auto' else QosChoice(requested, VOLATILE)
    reliable = sum(r == RELIABLE for r, _ in offers)
    latched = sum(d == TRANSIENT_LOCAL for _, d in offers)
    notes = []
    if requested == 'auto':
        reliability = RELIABLE if reliable == len(offers) else BEST_EFFORT
        if 0 < reliable < len(offers):
            notes.append(f'{reliable} of {len(offers)} publishers are reliable: best effort '
                         'matches them all, frames of the reliable ones may be lost')
    else:
        reliability = requested
        if requested == RELIABLE and reliable < len(offers):
            notes.append(f'{len(offers) - reliable} best-effort publisher(s) cannot match a '
                         'reliable subscription (use auto or best_effort)')
    durability = TRANSIENT_LOCAL if latched == len(offers) else VOLATILE
    if 0 < latched < len(offers):
        notes.append('some publishers are transient_local, not all: volatile (no latched '
                     'message from them)')
    return QosChoice(reliability, durability, '; '.join(notes))


def offer_of(qos):
    """Return the (reliability, durability) names of an rclpy QoSProfile."""
    from rclpy.qos import DurabilityPolicy, ReliabilityPolicy
    reliability = RELIABLE if qos.reliability == ReliabilityPolicy.RELIABLE else BEST_EFFORT
    durability = (TRANSIENT_LOCAL if qos.durability == DurabilityPolicy.TRANSIENT_LOCAL
                  else VOLATILE)
    return reliability, durability


def profile_of(choice, depth):
    """Return the KEEP_LAST rclpy QoSProfile of a QosChoice."""
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST, depth=int(depth),
        reliability=(ReliabilityPolicy.RELIABLE if choice.reliability == RELIABLE
                     else ReliabilityPolicy.BEST_EFFORT),
        durability=(DurabilityPolicy.TRANSIENT_LOCAL if choice.durability == TRANSIENT_LOCAL
                    else DurabilityPolicy.VOLATILE))


def type_name(msg_type):
    """Return 'pkg/msg/Name' of a generated message class."""
    return f'{msg_type.__module__.split(".")[0]}/msg/{msg_type.__name__}'


class AdaptiveSubscription:
    """One subscription of ``node`` whose QoS follows its topic's publishers (module doc).

    ``setting`` is the ``*_qos_reliability`` parameter's value and ``parameter`` its name
    (for the messages). ``topic`` may be relative (resolved and remapped by the node).
    """

    def __init__(self, node, msg_type, topic, callback, setting, depth, parameter):
        self.node, self.msg_type, self.callback = node, msg_type, callback
        self.topic = topic if topic.startswith('/') else node.resolve_topic_name(topic)
        self.setting, self.depth, self.parameter = setting, int(depth), parameter
        self.choice = None
        self.subscription = None
        self._said_waiting = False
        self._warned_incompatible = False
        self.refresh()

    def offers(self):
        """Return the (reliability, durability) offers of the topic's publishers of our type."""
        wanted = type_name(self.msg_type)
        return [offer_of(info.qos_profile)
                for info in self.node.get_publishers_info_by_topic(self.topic)
                if info.topic_type == wanted]

    def refresh(self):
        """Re-check the publishers; re-subscribe if the adapted QoS changed (then True)."""
        offers = self.offers()
        choice = adapt_to_offers(offers, self.setting)
        log = self.node.get_logger()
        if choice is None:
            if self.subscription is None and not self._said_waiting:
                self._said_waiting = True
                log.info(f'{self.topic}: no publisher yet; subscribing once one appears '
                         f'(QoS adapted to it, {self.parameter}: auto)')
            return False
        if choice == self.choice and self.subscription is not None:
            return False
        self._destroy_subscription()
        from rclpy.event_handler import SubscriptionEventCallbacks
        self.subscription = self.node.create_subscription(
            self.msg_type, self.topic, self.callback, profile_of(choice, self.depth),
            event_callbacks=SubscriptionEventCallbacks(incompatible_qos=self._incompatible))
        self.choice = choice
        kinds = ', '.join(sorted({f'{r}/{d}' for r, d in offers})) or 'none yet'
        log.info(f'{self.topic}: subscribed {choice.reliability}/{choice.durability} '
                 f'({len(offers)} publisher(s) offering {kinds})'
                 + (f'; {choice.note}' if choice.note else ''))
        return True

    def _incompatible(self, info):
        if self._warned_incompatible:
            return
        self._warned_incompatible = True
        policy = getattr(info.last_policy_kind, 'name', info.last_policy_kind)
        self.node.get_logger().warning(
            f'{self.topic}: a publisher offers QoS incompatible with this '
            f'{self.choice.reliability}/{self.choice.durability} subscription (policy '
            f'{policy}); its messages are not received. {self.parameter}: auto adapts to it')

    def _destroy_subscription(self):
        if self.subscription is not None:
            self.node.destroy_subscription(self.subscription)
            self.subscription = None

    def destroy(self):
        """Remove the subscription from the node."""
        self._destroy_subscription()
        self.choice = None


__all__ = ['AdaptiveSubscription', 'QosChoice', 'REFRESH_PERIOD_S', 'adapt_to_offers',
           'offer_of', 'profile_of', 'type_name']
