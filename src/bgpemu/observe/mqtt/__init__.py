"""The MQTT adapter: the only package of bgpemu that imports aiomqtt (2.x).

Theory of operation.  A :class:`Publisher` owns one MQTT connection for one node,
with a retained will ``status = offline`` (MQTT 3.1.1 §3.1.2.5: the broker
publishes it when the connection drops without a DISCONNECT).  Routing code only
calls :meth:`Publisher.update` and :meth:`Publisher.event`, which never block or
await: ``update`` stores the newest document of a topic (an older one still waiting
is replaced, so a burst of changes costs one publication) and ``event`` appends to a
bounded queue (when full the delta is dropped and :attr:`Publisher.overflowed` is
set: the seq gap tells observers to re-read the retained documents, which the
caller republishes).  One background task publishes sequentially: queued events at
QoS 0, then the retained documents one by one at QoS 1.  When the broker goes away
the task reconnects with exponential backoff and, once connected, publishes every
retained document again (a restarted broker without persistence has lost them).
Payloads are serialised by the background task, so a coalesced document is never
serialised at all.  A document the broker cuts the connection on (an ACL that refuses
its topic, a packet size limit) is set aside after the second cut, proven by a probe,
so that it does not hold back the others (:meth:`Publisher._on_drop`, docs/mqtt.md
"Security").

An :class:`Observer` subscribes to ``bgpemu/v1/<lab>/#``, keeps the newest retained
document of every topic and applies the ``events`` deltas to the table documents
(:func:`~bgpemu.observe.payloads.apply_delta`).

Layout: :mod:`.connect` (client, JSON encoding, reachability check), :mod:`.publisher`,
:mod:`.observer` (both run their loop as one task held open by ``async with``:
:mod:`.background`), :mod:`.follow` (a changing set of filters, messages handed on raw:
the web view) and :mod:`.control` (the ``control`` topic and lab discovery).
"""

from __future__ import annotations

from bgpemu.observe.mqtt.connect import check_broker, encode
from bgpemu.observe.mqtt.control import listen_control, retained_labs, send_control
from bgpemu.observe.mqtt.follow import Follower
from bgpemu.observe.mqtt.observer import Observer
from bgpemu.observe.mqtt.publisher import Publisher
from bgpemu.observe.url import BrokerAddress, parse_mqtt_url

__all__ = [
    "BrokerAddress",
    "Follower",
    "Observer",
    "Publisher",
    "check_broker",
    "encode",
    "listen_control",
    "parse_mqtt_url",
    "retained_labs",
    "send_control",
]
