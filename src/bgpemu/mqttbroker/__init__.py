"""An embedded MQTT 3.1.1 / 5.0 broker for labs on machines with only Python.

``bgpemu lab up`` starts it on 127.0.0.1 when no ``--mqtt`` URL is given.  The packets
(:mod:`.packets`), codec (:mod:`.codec`), topic matching (:mod:`.topics`), session state
(:mod:`.session`) and routing state (:mod:`.exchange`) are sans-IO; :mod:`.server`
(listener, connection life), :mod:`.connection` (per-client streams and writer),
:mod:`.handlers` (what each packet does) and :mod:`.timers` (session expiry, Will Delay)
are the asyncio shell.
"""

from __future__ import annotations

from bgpemu.mqttbroker.server import (
    DEFAULT_MAX_INFLIGHT,
    DEFAULT_MAX_QUEUED,
    DEFAULT_MAX_RETAINED_BYTES,
    DEFAULT_MAX_RETAINED_TOPICS,
    DEFAULT_PACKET_TIMEOUT,
    Broker,
)

__all__ = [
    "DEFAULT_MAX_INFLIGHT",
    "DEFAULT_MAX_QUEUED",
    "DEFAULT_MAX_RETAINED_BYTES",
    "DEFAULT_MAX_RETAINED_TOPICS",
    "DEFAULT_PACKET_TIMEOUT",
    "Broker",
]
