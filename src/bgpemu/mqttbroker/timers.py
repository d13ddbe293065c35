"""Session Expiry and Will Delay: what happens to a session once its connection ends.

Theory of operation
-------------------
When a connection ends, its session either ends at once (3.1.1 Clean Session 1, 5.0
Session Expiry Interval 0, or the broker is stopping) or is kept until its Session Expiry
Interval elapses (5.0 §3.1.2.11.2; never for 0xFFFFFFFF).  The Will Message, unless the
client sent a normal DISCONNECT or was taken over, is published at once, or after its Will
Delay Interval (5.0 §3.1.3.2.2); a session that ends before that delay publishes it then
(5.0 §3.1.2.5), and a client that reconnects in time cancels it.  Both timers run on the
event loop (``call_later``).
"""

from __future__ import annotations

import asyncio
import logging

from bgpemu.mqttbroker.exchange import Exchange, message_of
from bgpemu.mqttbroker.packets import PropertyId, Will, int_property
from bgpemu.mqttbroker.session import NEVER_EXPIRES, Session

__all__ = ["SessionTimers"]

logger = logging.getLogger(__name__)


class SessionTimers:
    """The pending session expiries and delayed wills, by client id."""

    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange
        self._expiry_timers: dict[str, asyncio.TimerHandle] = {}
        self._will_timers: dict[str, tuple[asyncio.TimerHandle, Will]] = {}

    def reconnected(self, client_id: str) -> None:
        """The client is back: its delayed will (5.0 §3.1.2.5) and expiry are cancelled."""
        self._cancel_will(client_id)
        timer = self._expiry_timers.pop(client_id, None)
        if timer is not None:
            timer.cancel()

    def detached(self, session: Session, will: Will | None, *, stopping: bool) -> None:
        """The session's connection ended: publish or schedule its will, end or keep it."""
        client_id = session.client_id
        if will is not None and not stopping:
            self._schedule_will(client_id, will, session.expiry_interval)
        if session.expiry_interval == 0 or stopping:
            self.end_session(session)
        elif session.expiry_interval != NEVER_EXPIRES:
            loop = asyncio.get_running_loop()
            self._expiry_timers[client_id] = loop.call_later(
                session.expiry_interval, self._expire, client_id
            )

    def end_session(self, session: Session) -> None:
        """Forget a session and its subscriptions; a delayed will is published now."""
        self._exchange.forget(session)
        client_id = session.client_id
        pending = self._will_timers.pop(client_id, None)
        if pending is not None:  # 5.0 §3.1.2.5: the session ended before the delay
            pending[0].cancel()
            self._publish_will(client_id, pending[1])

    def cancel_all(self) -> None:
        """Cancel every timer (the broker is stopping)."""
        for handle in self._expiry_timers.values():
            handle.cancel()
        for handle, _ in self._will_timers.values():
            handle.cancel()
        self._expiry_timers.clear()
        self._will_timers.clear()

    def _expire(self, client_id: str) -> None:
        self._expiry_timers.pop(client_id, None)
        session = self._exchange.sessions.get(client_id)
        if session is not None and not session.connected:
            logger.debug("MQTT session %r expired", client_id)
            self.end_session(session)

    def _schedule_will(self, client_id: str, will: Will, session_expiry: int) -> None:
        """Publish ``will`` now, or after its Will Delay Interval (5.0 §3.1.3.2.2)."""
        delay = int_property(will.properties, PropertyId.WILL_DELAY_INTERVAL, 0)
        if delay == 0 or session_expiry == 0:
            self._publish_will(client_id, will)
            return
        handle = asyncio.get_running_loop().call_later(delay, self._delayed_will, client_id)
        self._will_timers[client_id] = (handle, will)

    def _delayed_will(self, client_id: str) -> None:
        pending = self._will_timers.pop(client_id, None)
        if pending is not None:
            self._publish_will(client_id, pending[1])

    def _cancel_will(self, client_id: str) -> None:
        pending = self._will_timers.pop(client_id, None)
        if pending is not None:
            pending[0].cancel()

    def _publish_will(self, client_id: str, will: Will) -> None:
        logger.debug("MQTT client %r: publishing its will on %r", client_id, will.topic)
        now = asyncio.get_running_loop().time()
        refusal = self._exchange.route(message_of(will, publisher=client_id, now=now))
        if refusal is not None:
            logger.warning("MQTT client %r (will): %s", client_id, refusal)
