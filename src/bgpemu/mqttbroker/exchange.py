"""The broker's routing state: sessions, the subscription tree and the retained store; no I/O.

Theory of operation
-------------------
A PUBLISH is stored as retained when flagged (an empty payload clears the topic, 3.1.1
§3.3.1.3), then matched against the subscription tree and queued once per matching
client, with the highest QoS of that client's matching subscriptions (overlapping
subscriptions, 3.1.1 §3.3.5).  Retained messages are sent only to the subscription being
made, never to other clients (the amqtt defect): :meth:`Exchange.subscribe` returns them
for the caller to queue after its SUBACK.  Time comes in as ``now`` (loop time).

The retained store is bounded in topics and in bytes (payload and topic name).  A
retained message that does not fit is still delivered to the current subscribers but
not kept, and the topic's older document is removed with it (a late subscriber gets
nothing rather than a stale document); :meth:`Exchange.route` returns the reason the
first time this happens since the store last had room, for the broker to log.
"""

from __future__ import annotations

from bgpemu.mqttbroker.packets import (
    PropertyId,
    Publish,
    ReasonCode,
    RetainHandling,
    Subscribe,
    Will,
    first_property,
)
from bgpemu.mqttbroker.session import Delivery, Message, Session, Subscription
from bgpemu.mqttbroker.topics import SubscriptionTree, filter_problem, is_wildcard, matches

__all__ = ["DEFAULT_MAX_RETAINED_BYTES", "DEFAULT_MAX_RETAINED_TOPICS", "Exchange", "message_of"]

DEFAULT_MAX_RETAINED_TOPICS = 1_000_000
"""Default bound of retained topics: the biggest benchmark lab (vwan-2x50x200,
bench/README.md) retains between 10^4 and 10^5 documents."""

DEFAULT_MAX_RETAINED_BYTES = 8 * 1024**3
"""Default bound of retained bytes (8 GiB): that lab retains about 1.5 GB of JSON."""

_FORWARD_DROPPED = frozenset(
    {
        PropertyId.MESSAGE_EXPIRY_INTERVAL,
        PropertyId.TOPIC_ALIAS,
        PropertyId.SUBSCRIPTION_IDENTIFIER,
        PropertyId.WILL_DELAY_INTERVAL,
    }
)
"""Properties not forwarded as received: recomputed (expiry), or per hop (5.0 §3.3.2.3)."""


def message_of(source: Publish | Will, *, publisher: str, now: float) -> Message:
    """The message a client's PUBLISH or will carries, as the broker keeps it.

    Properties are forwarded unaltered but for the per-hop ones (5.0 §3.3.2.3); the
    Message Expiry Interval becomes a deadline in loop time (5.0 §3.3.2.3.3).
    """
    expiry = first_property(source.properties, PropertyId.MESSAGE_EXPIRY_INTERVAL)
    return Message(
        topic=source.topic,
        payload=source.payload,
        qos=source.qos,
        retain=source.retain,
        properties=tuple(p for p in source.properties if p[0] not in _FORWARD_DROPPED),
        expires_at=None if not isinstance(expiry, int) else now + expiry,
        publisher=publisher,
    )


class Exchange:
    """Sessions by client id, who subscribed to what, and the retained messages."""

    def __init__(
        self,
        *,
        max_retained_topics: int = DEFAULT_MAX_RETAINED_TOPICS,
        max_retained_bytes: int = DEFAULT_MAX_RETAINED_BYTES,
    ) -> None:
        if max_retained_topics < 0 or max_retained_bytes < 0:
            raise ValueError("retained limits must be >= 0")
        self.tree: SubscriptionTree[Subscription] = SubscriptionTree()
        self.retained: dict[str, Message] = {}
        """Retained messages by topic: change it only through :meth:`route`."""
        self.sessions: dict[str, Session] = {}
        self.max_retained_topics = max_retained_topics
        self.max_retained_bytes = max_retained_bytes
        self.retained_bytes = 0
        """Payload and topic bytes of :attr:`retained`."""
        self.retained_refused = 0
        """Retained messages not kept because the store was full."""
        self._full = False

    def route(self, message: Message) -> str | None:
        """Store ``message`` if retained, and queue it for every matching subscriber.

        3.1.1 §3.3.1.3: a retained message with an empty payload removes the retained
        message of its topic, and is still delivered to current subscribers.  Messages
        sent to established subscriptions carry RETAIN 0 unless the subscription asked
        for Retain As Published (5.0 §3.3.1.3).  Returns why the message was not
        retained, the first time the store is full since it last had room; else None.
        """
        refusal = None
        if message.retain:
            self._unstore(message.topic)
            if message.payload:
                refusal = self._store(message)
        by_client: dict[str, list[Subscription]] = {}
        for client_id, subscription in self.tree.match(message.topic):
            by_client.setdefault(client_id, []).append(subscription)
        for client_id, subscriptions in by_client.items():
            if client_id == message.publisher:  # No Local (5.0 §3.8.3.1)
                subscriptions = [s for s in subscriptions if not s.no_local]
                if not subscriptions:
                    continue
            self.sessions[client_id].enqueue(
                Delivery(
                    message=message,
                    qos=min(message.qos, max(s.qos for s in subscriptions)),
                    retain=message.retain and any(s.retain_as_published for s in subscriptions),
                    subscription_ids=tuple(
                        s.identifier for s in subscriptions if s.identifier is not None
                    ),
                )
            )
        return refusal

    @staticmethod
    def _size(message: Message) -> int:
        return len(message.payload) + len(message.topic)

    def _store(self, message: Message) -> str | None:
        size = self._size(message)
        topics = len(self.retained) + 1
        if topics <= self.max_retained_topics and (
            self.retained_bytes + size <= self.max_retained_bytes
        ):
            self.retained[message.topic] = message
            self.retained_bytes += size
            self._full = False
            return None
        self.retained_refused += 1
        if self._full:
            return None
        self._full = True
        return (
            f"retained store full ({len(self.retained)} topics, {self.retained_bytes} bytes; "
            f"limits {self.max_retained_topics} topics, {self.max_retained_bytes} bytes): "
            f"{message.topic!r} ({size} bytes) is delivered but not retained, and its older "
            "document removed; further refusals are counted, not logged, until there is room"
        )

    def _unstore(self, topic: str) -> None:
        old = self.retained.pop(topic, None)
        if old is not None:
            self.retained_bytes -= self._size(old)

    def subscribe(
        self, session: Session, packet: Subscribe, *, v5: bool, now: float
    ) -> tuple[list[int], list[Delivery], list[str]]:
        """SUBSCRIBE (3.1.1 §3.8.4, 5.0 §3.8.4): the SUBACK codes, then the retained
        deliveries to queue after the SUBACK, and the problems of refused filters."""
        identifier = first_property(packet.properties, PropertyId.SUBSCRIPTION_IDENTIFIER)
        codes: list[int] = []
        retained: list[Delivery] = []
        problems: list[str] = []
        for request in packet.subscriptions:
            problem = filter_problem(request.topic_filter)
            if problem is not None:
                problems.append(problem)
                codes.append(ReasonCode.TOPIC_FILTER_INVALID if v5 else 0x80)
                continue
            if v5 and request.topic_filter.startswith("$share/"):
                codes.append(ReasonCode.SHARED_SUBSCRIPTIONS_NOT_SUPPORTED)
                continue
            subscription = Subscription(
                qos=request.qos,
                no_local=request.no_local,
                retain_as_published=request.retain_as_published,
                identifier=identifier if isinstance(identifier, int) else None,
            )
            is_new = self.tree.add(request.topic_filter, session.client_id, subscription)
            session.subscriptions[request.topic_filter] = subscription
            codes.append(request.qos)
            handling = request.retain_handling
            if handling is RetainHandling.DO_NOT_SEND or (
                handling is RetainHandling.SEND_IF_NEW_SUBSCRIPTION and not is_new
            ):
                continue
            retained.extend(
                Delivery(
                    message=message,
                    qos=min(message.qos, request.qos),
                    retain=True,  # 3.1.1 §3.3.1.3: RETAIN 1 when sent because of a subscribe
                    subscription_ids=(subscription.identifier,) if subscription.identifier else (),
                )
                for message in self.retained_matching(request.topic_filter, now)
            )
        return codes, retained, problems

    def retained_matching(self, topic_filter: str, now: float) -> list[Message]:
        """The retained messages ``topic_filter`` matches, dropping expired ones."""
        if is_wildcard(topic_filter):
            found = [m for t, m in self.retained.items() if matches(topic_filter, t)]
        else:
            exact = self.retained.get(topic_filter)
            found = [] if exact is None else [exact]
        live = [m for m in found if m.expires_at is None or m.expires_at > now]
        if len(live) != len(found):
            for message in found:
                if message.expires_at is not None and message.expires_at <= now:
                    self._unstore(message.topic)
        return live

    def unsubscribe(self, session: Session, topic_filters: tuple[str, ...]) -> list[int]:
        """UNSUBSCRIBE (3.1.1 §3.10.4, 5.0 §3.10.4): the UNSUBACK reason codes."""
        codes: list[int] = []
        for topic_filter in topic_filters:
            if filter_problem(topic_filter) is not None:
                codes.append(ReasonCode.TOPIC_FILTER_INVALID)
                continue
            session.subscriptions.pop(topic_filter, None)
            existed = self.tree.remove(topic_filter, session.client_id)
            codes.append(ReasonCode.SUCCESS if existed else ReasonCode.NO_SUBSCRIPTION_EXISTED)
        return codes

    def forget(self, session: Session) -> None:
        """Drop a session, its subscriptions and its queue."""
        client_id = session.client_id
        for topic_filter in session.subscriptions:
            self.tree.remove(topic_filter, client_id)
        session.subscriptions.clear()
        session.queue.clear()
        if self.sessions.get(client_id) is session:
            del self.sessions[client_id]
