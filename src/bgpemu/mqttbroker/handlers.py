"""What the broker does with each packet of a connected client (after its CONNECT).

PUBLISH is routed and acknowledged per its QoS (3.1.1 §3.3.4, 5.0 §3.3.4, §4.3: QoS 2
duplicates suppressed by packet id); acknowledgements move the client's in-flight window;
SUBSCRIBE is answered by SUBACK before the retained messages it brings; PINGREQ by
PINGRESP; DISCONNECT ends the connection.  A packet a client must not send raises
:class:`ProtocolError`, which closes that connection only.  ``now`` is the loop time.
"""

from __future__ import annotations

import logging

from bgpemu.mqttbroker.codec import ProtocolError
from bgpemu.mqttbroker.connection import Connection
from bgpemu.mqttbroker.exchange import Exchange, message_of
from bgpemu.mqttbroker.packets import (
    Auth,
    Disconnect,
    Packet,
    Pingreq,
    Pingresp,
    PropertyId,
    Puback,
    Pubcomp,
    Publish,
    Pubrec,
    Pubrel,
    ReasonCode,
    Suback,
    Subscribe,
    Unsuback,
    Unsubscribe,
    first_property,
)
from bgpemu.mqttbroker.session import Session
from bgpemu.mqttbroker.topics import topic_problem

__all__ = ["dispatch"]

logger = logging.getLogger(__name__)


def dispatch(exchange: Exchange, connection: Connection, packet: Packet, now: float) -> bool:
    """Act on one packet from a connected client; False ends the connection."""
    session = connection.session
    assert session is not None
    match packet:
        case Publish():
            _on_publish(exchange, connection, session, packet, now)
        case Puback():
            session.acknowledge(packet.packet_id, released=False)
        case Pubrec():
            if packet.reason_code >= 0x80:  # 5.0 §4.3.3: the flow ends here
                session.acknowledge(packet.packet_id, released=False)
            elif session.release(packet.packet_id):
                connection.send(Pubrel(packet_id=packet.packet_id))
            else:
                connection.send(
                    Pubrel(
                        packet_id=packet.packet_id,
                        reason_code=ReasonCode.PACKET_IDENTIFIER_NOT_FOUND,
                    )
                )
        case Pubrel():
            known = packet.packet_id in session.awaiting_release
            session.awaiting_release.discard(packet.packet_id)
            code = 0 if known else ReasonCode.PACKET_IDENTIFIER_NOT_FOUND
            connection.send(Pubcomp(packet_id=packet.packet_id, reason_code=code))
        case Pubcomp():
            session.acknowledge(packet.packet_id, released=True)
        case Subscribe():
            _on_subscribe(exchange, connection, session, packet, now)
        case Unsubscribe():
            codes = exchange.unsubscribe(session, packet.topic_filters)
            connection.send(  # 3.1.1 §3.10.4, 5.0 §3.10.4
                Unsuback(
                    packet_id=packet.packet_id,
                    reason_codes=tuple(codes) if connection.v5 else (),
                )
            )
        case Pingreq():
            connection.send(Pingresp())
        case Disconnect():
            return _on_disconnect(connection, session, packet)
        case Auth():
            raise ProtocolError("AUTH without an authentication method")  # 5.0 §4.12
        case _:
            raise ProtocolError(f"{type(packet).__name__} sent to the server")
    return True


def _on_disconnect(connection: Connection, session: Session, packet: Disconnect) -> bool:
    """DISCONNECT (3.1.1 §3.14, 5.0 §3.14): the will is dropped unless reason 0x04."""
    if packet.reason_code != ReasonCode.DISCONNECT_WITH_WILL_MESSAGE:
        connection.will = None
    expiry = first_property(packet.properties, PropertyId.SESSION_EXPIRY_INTERVAL)
    if isinstance(expiry, int):
        if session.expiry_interval == 0 and expiry != 0:  # 5.0 §3.14.2.2.2
            raise ProtocolError("DISCONNECT sets a session expiry after 0")
        session.expiry_interval = expiry
    return False


def _on_publish(
    exchange: Exchange, connection: Connection, session: Session, packet: Publish, now: float
) -> None:
    """PUBLISH from a client (3.1.1 §3.3.4, 5.0 §3.3.4)."""
    problem = topic_problem(packet.topic)
    if connection.v5:
        if first_property(packet.properties, PropertyId.TOPIC_ALIAS) is not None:
            raise ProtocolError(  # we announce Topic Alias Maximum 0 (5.0 §3.2.2.3.8)
                "topic alias used", ReasonCode.TOPIC_ALIAS_INVALID
            )
        if first_property(packet.properties, PropertyId.SUBSCRIPTION_IDENTIFIER) is not None:
            raise ProtocolError("PUBLISH from a client with a subscription identifier")
    if problem is not None:
        raise ProtocolError(problem, ReasonCode.TOPIC_NAME_INVALID)
    if packet.qos == 2 and packet.packet_id in session.awaiting_release:
        connection.send(Pubrec(packet_id=packet.packet_id))  # a retransmission
        return
    if not connection.may_publish(packet.topic):
        _refuse_publish(connection, session, packet)
        return
    refusal = exchange.route(message_of(packet, publisher=connection.client_id, now=now))
    if refusal is not None:
        logger.warning("MQTT client %s: %s", connection.name, refusal)
    if packet.qos == 1:
        assert packet.packet_id is not None
        connection.send(Puback(packet_id=packet.packet_id))
    elif packet.qos == 2:
        assert packet.packet_id is not None
        session.awaiting_release.add(packet.packet_id)
        connection.send(Pubrec(packet_id=packet.packet_id))


def _refuse_publish(connection: Connection, session: Session, packet: Publish) -> None:
    """Drop a PUBLISH the client may not make (:mod:`.access`), logged once per connection.

    MQTT 3.1.1 has no negative acknowledgement: the PUBLISH is acknowledged as usual
    (PUBACK; PUBREC then PUBCOMP) and discarded, as mosquitto does.  5.0 gets PUBACK or
    PUBREC with 0x87 Not authorized (5.0 §3.4.2.1, §3.5.2.1), which ends a QoS 2 flow.
    """
    connection.denied += 1
    if connection.denied == 1:
        logger.warning(
            "MQTT client %s (%s): not authorised to publish on %r; dropped (further "
            "refusals of this client are not logged)",
            connection.name,
            f"user {connection.user!r}" if connection.user else "anonymous",
            packet.topic,
        )
    code = ReasonCode.NOT_AUTHORIZED if connection.v5 else 0
    if packet.qos == 1:
        assert packet.packet_id is not None
        connection.send(Puback(packet_id=packet.packet_id, reason_code=code))
    elif packet.qos == 2:
        assert packet.packet_id is not None
        if not connection.v5:
            session.awaiting_release.add(packet.packet_id)
        connection.send(Pubrec(packet_id=packet.packet_id, reason_code=code))


def _on_subscribe(
    exchange: Exchange, connection: Connection, session: Session, packet: Subscribe, now: float
) -> None:
    """SUBSCRIBE (3.1.1 §3.8.4, 5.0 §3.8.4): SUBACK, then the retained messages."""
    codes, retained, problems = exchange.subscribe(session, packet, v5=connection.v5, now=now)
    for problem in problems:
        logger.warning("MQTT client %s: %s", connection.name, problem)
    connection.send(Suback(packet_id=packet.packet_id, reason_codes=tuple(codes)))
    for delivery in retained:
        session.enqueue(delivery)
