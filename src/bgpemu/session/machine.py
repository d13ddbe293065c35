"""The state of one peering's FSM and the primitive actions of RFC 4271 §8.2.2, sans-IO.

Theory of operation: a :class:`Machine` is the record the transition handlers of
:mod:`bgpemu.session.transitions` receive and mutate, in the h11/aioquic style: its
fields are the RFC 4271 §8 session attributes (state, timers, ConnectRetryCounter in
the counters, the OPENs and what they agreed) plus bgpemu's own (retry backoff,
automatic restart, why the session is held down), and its methods are the steps
every row of the RFC's table is written in: send a message, change state, arm a
timer, drop the connection.  Each step appends its effects to a pending list that
:meth:`Machine.take_effects` hands over.  :class:`~bgpemu.session.fsm.Session` owns
one Machine privately and is the only driver; nothing here reads a clock or
touches a socket, and randomness comes from the ``random.Random`` it is given
(RFC 4271 §10 jitter).
"""

from __future__ import annotations

import random

from bgpemu.session.config import SessionConfig
from bgpemu.session.counters import SessionCounters
from bgpemu.session.effects import CloseTcp, ConnectTcp, Effect, Send, SessionDown, StateChanged
from bgpemu.session.negotiation import Negotiated, local_open
from bgpemu.session.reader import FrameReader
from bgpemu.session.state import CONNECTED_STATES, SessionState
from bgpemu.session.timers import Timer, Timers, jittered
from bgpemu.wire import Codec
from bgpemu.wire.context import CodecContext
from bgpemu.wire.messages import Message, Notification, Open

__all__ = ["Machine"]

_S = SessionState


class Machine:
    """One peering's FSM state and the actions the transitions are written in.

    Fields (read and written by the handlers of :mod:`bgpemu.session.transitions`):

    * ``config``, ``counters``, ``codec``, ``local_open``: fixed for the session's
      life (the codec's context changes per connection).
    * ``state``: the RFC 4271 §8.2.2 state; change it with :meth:`goto` only.
    * ``timers``: the armed deadlines (RFC 4271 §8.1.3 and §8.1.1 IdleHold).
    * ``reader``: the framing of the current connection's bytes.
    * ``agreed``: what the OPENs agreed (RFC 4271 §6.2), from OpenConfirm on.
    * ``peer_open``: the peer's OPEN on the current connection once accepted (§6.8).
    * ``passive``: whether starts wait in Active for the peer (BIRD's ``passive on``).
    * ``enabled``: started and not ManualStopped: falls to Idle restart automatically.
    * ``failures``: consecutive attempts that did not reach Established (the backoff).
    * ``held_down``: why a ManualStop holds the session down (RFC 4271 §8.1.2, e.g. a
      max-prefix trip, RFC 4486 §4), until the next ManualStart; None otherwise.
    """

    __slots__ = (
        "_out",
        "_rng",
        "agreed",
        "codec",
        "config",
        "counters",
        "enabled",
        "failures",
        "held_down",
        "local_open",
        "passive",
        "peer_open",
        "reader",
        "state",
        "timers",
    )

    def __init__(self, config: SessionConfig, rng: random.Random) -> None:
        self.config = config
        self.counters = SessionCounters()
        self.codec = Codec(CodecContext())
        self.local_open: Open = local_open(config)
        self.state = SessionState.IDLE
        self.timers = Timers()
        self.reader = FrameReader()
        self.agreed: Negotiated | None = None
        self.peer_open: Open | None = None
        self.passive = config.passive
        self.enabled = False
        self.failures = 0
        self.held_down: str | None = None
        self._rng = rng
        self._out: list[Effect] = []

    # -- effects -----------------------------------------------------------------------

    def emit(self, effect: Effect) -> None:
        """Append ``effect`` to the pending effects."""
        self._out.append(effect)

    def take_effects(self) -> list[Effect]:
        """The pending effects, in order; the list starts empty again."""
        effects, self._out = self._out, []
        return effects

    def send(self, message: Message) -> None:
        """Encode and send ``message``, counting it (the last NOTIFICATION is kept)."""
        self._out.append(Send(data=self.codec.encode(message), message=message))
        self.counters.messages_sent[message.type] += 1
        if isinstance(message, Notification):
            self.counters.last_notification_sent = message

    def goto(self, new: SessionState, now: float) -> None:
        """Change state, reporting StateChanged; reaching Established ends the backoff."""
        old = self.state
        if new is old:
            return
        self.state = new
        if new is _S.ESTABLISHED:
            self.failures = 0
        self.counters.last_state_change = now
        self._out.append(StateChanged(old=old, new=new))

    # -- connections -------------------------------------------------------------------

    def new_connection(self) -> None:
        """A new TCP connection: a fresh framer and the default codec context (RFC 8654:
        4096-octet messages until Established), and no peer OPEN yet."""
        self.reader.reset()
        self.codec.context = CodecContext()
        self.peer_open = None

    def adopt(self, agreed: Negotiated) -> None:
        """Encode, decode and frame with what the OPENs agreed (ADD-PATH, 4-octet ASNs,
        RFC 8654 Extended Message), from Established on."""
        context = agreed.codec_context
        self.codec.context = context
        self.reader.max_message_size = context.max_message_size

    def start(self, passive: bool, now: float) -> None:
        """ManualStart / AutomaticStart in Idle (RFC 4271 §8.2.2 Idle, events 1, 3-5)."""
        self.timers.stop_all()
        self.enabled = True
        self.passive = passive
        self.counters.connect_retry_counter = 0
        self.start_connect_retry(now)
        if passive:
            self.goto(_S.ACTIVE, now)
        else:
            self.goto(_S.CONNECT, now)
            self._out.append(ConnectTcp())

    def drop(
        self,
        now: float,
        reason: str,
        *,
        sent: Notification | None = None,
        received: Notification | None = None,
        count: bool = True,
        to: SessionState = _S.IDLE,
    ) -> None:
        """Send ``sent`` if any, drop the TCP connection, release resources, go to ``to``.

        ``count`` increments the ConnectRetryCounter (RFC 4271 §8.2.2).  Leaving a
        connected state reports SessionDown.  Idle arms the IdleHoldTimer when
        automatic restart is on and the session was not stopped by hand.
        """
        was_connected = self.state in CONNECTED_STATES
        if self.state is not _S.ESTABLISHED and self.enabled:
            self.attempt_failed()
        if sent is not None:
            self.send(sent)
        self._out.append(CloseTcp())
        self.timers.stop_all()
        if count:
            self.counters.connect_retry_counter += 1
        self.agreed = None
        self.peer_open = None
        self.goto(to, now)
        if was_connected:
            self._out.append(SessionDown(reason=reason, sent=sent, received=received))
        if to is _S.IDLE and self.enabled and self.config.auto_restart:
            self.timers.start(Timer.IDLE_HOLD, now, self.backoff(self.config.idle_hold_time))

    # -- timers ------------------------------------------------------------------------

    def backoff(self, base: float) -> float:
        """``base`` doubled for every consecutive failed attempt after the first, up to
        ``connect_retry_max`` (RFC 4271 §8.1.1 DampPeerOscillations); ``base`` without
        a bound or a failure."""
        bound = self.config.connect_retry_max
        if bound is None or self.failures <= 1:
            return base
        return min(base * 2.0 ** min(self.failures - 1, 32), max(bound, base))

    def attempt_failed(self) -> None:
        """Count a connection attempt that did not reach Established (the backoff)."""
        if self.config.connect_retry_max is not None:
            self.failures += 1

    def start_connect_retry(self, now: float) -> None:
        """(Re)start the ConnectRetryTimer, jittered (RFC 4271 §10) and backed off."""
        interval = jittered(self.backoff(self.config.connect_retry_time), self._rng)
        self.timers.start(Timer.CONNECT_RETRY, now, interval)

    def restart_hold(self, agreed: Negotiated, now: float) -> None:
        """Restart the HoldTimer with the agreed hold time; none when it is 0 (§4.2)."""
        if agreed.hold_time:
            self.timers.start(Timer.HOLD, now, agreed.hold_time)

    def restart_keepalive(self, agreed: Negotiated, now: float) -> None:
        """Restart the KeepaliveTimer, jittered (RFC 4271 §10); none with hold time 0."""
        if agreed.keepalive_time:
            self.timers.start(Timer.KEEPALIVE, now, jittered(agreed.keepalive_time, self._rng))
