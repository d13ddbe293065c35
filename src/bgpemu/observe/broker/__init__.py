"""An embedded MQTT 3.1.1 / 5.0 broker for labs on machines with only Python.

``bgpemu lab up`` starts it on 127.0.0.1 when no ``--mqtt`` URL is given.  The codec
(:mod:`.codec`) and topic matching (:mod:`.topics`) are sans-IO; :mod:`.server` is the
asyncio shell.
"""

from __future__ import annotations

from bgpemu.observe.broker.server import DEFAULT_MAX_INFLIGHT, DEFAULT_MAX_QUEUED, Broker

__all__ = ["DEFAULT_MAX_INFLIGHT", "DEFAULT_MAX_QUEUED", "Broker"]
