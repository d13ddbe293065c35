"""An embedded MQTT 3.1.1 / 5.0 broker for labs on machines with only Python.

``bgpemu lab up`` starts it on 127.0.0.1 when no ``--mqtt`` URL is given, in a child
process (:mod:`.process`) so that it never runs in the routing loop; ``bgpemu broker`` and
``python -m bgpemu.mqttbroker`` run it alone (:mod:`.standalone`).  The packets
(:mod:`.packets`), codec (:mod:`.codec`), topic matching (:mod:`.topics`), session state
(:mod:`.session`) and routing state (:mod:`.exchange`) are sans-IO; :mod:`.server`
(listener, connection life), :mod:`.connection` (per-client streams and writer),
:mod:`.handlers` (what each packet does) and :mod:`.timers` (session expiry, Will Delay)
are the asyncio shell.  Nothing here imports BGP, Azure, the lab or the MQTT clients
(import-linter contract ``broker-knows-no-bgp``).
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
