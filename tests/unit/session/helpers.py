"""Builders for session tests: configs, peer OPENs, driving a session to a state, a SessionPair."""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from bgpemu.session import (
    BgpOpen,
    CloseTcp,
    ConnectTcp,
    Effect,
    KeepAliveMsg,
    ManualStart,
    Send,
    Session,
    SessionConfig,
    SessionState,
    StateChanged,
    TcpConnectionConfirmed,
    TcpConnectionFails,
    TcpCrAcked,
)
from bgpemu.types import IPV4_UNICAST
from bgpemu.wire.messages import Capabilities, Message, Notification, Open

LOCAL_AS = 65001
PEER_AS = 65002
LOCAL_ID = "10.0.0.1"
PEER_ID = "10.0.0.2"

T = TypeVar("T")


def make_config(**overrides: Any) -> SessionConfig:
    """A valid eBGP SessionConfig (AS 65001 → 65002) with ``overrides`` applied."""
    values: dict[str, Any] = {
        "local_as": LOCAL_AS,
        "peer_as": PEER_AS,
        "bgp_identifier": LOCAL_ID,
    }
    values.update(overrides)
    return SessionConfig(**values)


def peer_capabilities(**overrides: Any) -> Capabilities:
    """What a typical peer advertises: IPv4 unicast, route refresh, 4-octet AS."""
    values: dict[str, Any] = {
        "multiprotocol": (IPV4_UNICAST,),
        "route_refresh": True,
        "four_octet_as": PEER_AS,
    }
    values.update(overrides)
    return Capabilities(**values)


def peer_open(
    *,
    asn: int = PEER_AS,
    hold_time: int = 90,
    bgp_identifier: str = PEER_ID,
    capabilities: Capabilities | None = None,
    version: int = 4,
) -> Open:
    """The peer's OPEN."""
    caps = capabilities if capabilities is not None else peer_capabilities(four_octet_as=asn)
    return replace(Open.for_asn(asn, hold_time, bgp_identifier, caps), version=version)


def new_session(config: SessionConfig | None = None, seed: int = 0) -> Session:
    """A Session in Idle with a seeded Random."""
    return Session(config if config is not None else make_config(), random.Random(seed))


# Inputs that take a session from Idle to each state (typed inputs only, no bytes).
PATHS: dict[SessionState, tuple[Any, ...]] = {
    SessionState.IDLE: (),
    SessionState.CONNECT: (ManualStart(),),
    SessionState.ACTIVE: (ManualStart(passive=True),),
    SessionState.OPEN_SENT: (ManualStart(), TcpCrAcked()),
    SessionState.OPEN_CONFIRM: (ManualStart(), TcpCrAcked(), BgpOpen(message=peer_open())),
    SessionState.ESTABLISHED: (
        ManualStart(),
        TcpCrAcked(),
        BgpOpen(message=peer_open()),
        KeepAliveMsg(),
    ),
}


def drive(session: Session, state: SessionState, now: float = 0.0) -> list[Effect]:
    """Feed ``session`` (in Idle) the inputs that bring it to ``state``; check it got there."""
    effects: list[Effect] = []
    for event in PATHS[state]:
        effects.extend(session.handle(event, now))
    assert session.state is state
    return effects


def session_in(state: SessionState, config: SessionConfig | None = None) -> Session:
    """A new session driven to ``state`` at time 0."""
    session = new_session(config)
    drive(session, state)
    return session


def sent(effects: list[Effect]) -> list[Message | None]:
    """The messages of the Send effects, in order."""
    return [e.message for e in effects if isinstance(e, Send)]


def notifications(effects: list[Effect]) -> list[Notification]:
    """The NOTIFICATIONs sent."""
    return [m for m in sent(effects) if isinstance(m, Notification)]


def transitions(effects: list[Effect]) -> list[tuple[SessionState, SessionState]]:
    """The (old, new) pairs of the StateChanged effects."""
    return [(e.old, e.new) for e in effects if isinstance(e, StateChanged)]


def of_type(effects: list[Effect], kind: type[T]) -> list[T]:
    """The effects of one type."""
    return [e for e in effects if isinstance(e, kind)]


@dataclass
class SessionPair:
    """Two Sessions joined by an in-memory "TCP connection" (after h11's ConnectionPair).

    A's Send bytes feed B.receive_data and vice versa.  A ConnectTcp from one side,
    when the other is waiting in Connect or Active, establishes the connection:
    TcpCrAcked on the initiator and TcpConnectionConfirmed on the other; otherwise
    the attempt fails (TcpConnectionFails).  A CloseTcp tears the connection down
    and the other side sees TcpConnectionFails.  Time is virtual (:attr:`now`).
    """

    a: Session
    b: Session
    now: float = 0.0
    connected: bool = False
    log: list[tuple[str, Effect]] = field(default_factory=list)
    _queue: deque[tuple[Session, Effect]] = field(default_factory=deque)

    @classmethod
    def create(
        cls, a: SessionConfig | None = None, b: SessionConfig | None = None, seed: int = 1
    ) -> SessionPair:
        """A (active, 65001) and B (passive, 65002) unless configs are given."""
        a_config = a if a is not None else make_config()
        b_config = (
            b
            if b is not None
            else make_config(
                local_as=PEER_AS, peer_as=LOCAL_AS, bgp_identifier=PEER_ID, passive=True
            )
        )
        return cls(
            a=Session(a_config, random.Random(seed)), b=Session(b_config, random.Random(seed + 1))
        )

    def other(self, session: Session) -> Session:
        """The peer of ``session``."""
        return self.b if session is self.a else self.a

    def name(self, session: Session) -> str:
        """ "a" or "b"."""
        return "a" if session is self.a else "b"

    def feed(self, session: Session, effects: list[Effect]) -> None:
        """Queue ``session``'s effects and apply everything until quiet."""
        self._queue.extend((session, e) for e in effects)
        while self._queue:
            origin, effect = self._queue.popleft()
            self.log.append((self.name(origin), effect))
            self._apply(origin, effect)

    def _apply(self, origin: Session, effect: Effect) -> None:
        peer = self.other(origin)
        match effect:
            case Send(data=data) if self.connected:
                self._queue.extend((peer, e) for e in peer.receive_data(data, self.now))
            case ConnectTcp() if not self.connected:
                if peer.state in (SessionState.CONNECT, SessionState.ACTIVE):
                    self.connected = True
                    self._queue.extend((origin, e) for e in origin.handle(TcpCrAcked(), self.now))
                    self._queue.extend(
                        (peer, e) for e in peer.handle(TcpConnectionConfirmed(), self.now)
                    )
                else:
                    self._queue.extend(
                        (origin, e) for e in origin.handle(TcpConnectionFails(), self.now)
                    )
            case CloseTcp() if self.connected:
                self.connected = False
                self._queue.extend((peer, e) for e in peer.handle(TcpConnectionFails(), self.now))
            case _:
                pass

    def start(self) -> None:
        """ManualStart on both (each with its configured passive flag)."""
        self.feed(self.b, self.b.handle(ManualStart(), self.now))
        self.feed(self.a, self.a.handle(ManualStart(), self.now))

    def advance_to(self, until: float) -> None:
        """Run both sessions' timers in deadline order up to ``until``."""
        while True:
            deadlines = [(d, s) for s in (self.a, self.b) if (d := s.next_deadline()) is not None]
            if not deadlines:
                break
            deadline, session = min(deadlines, key=lambda item: item[0])
            if deadline > until:
                break
            self.now = max(self.now, deadline)
            self.feed(session, session.on_timer(self.now))
        self.now = max(self.now, until)

    def effects_of(self, name: str) -> list[Effect]:
        """Everything side ``name`` emitted so far."""
        return [e for n, e in self.log if n == name]


def state_of(session: Session) -> SessionState:
    """``session.state``, unnarrowed (mypy narrows a property across calls)."""
    return session.state
