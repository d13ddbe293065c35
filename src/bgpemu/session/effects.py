"""FSM effects: what the shell must do, or may report, after each input.

The shell applies a list of effects in order: in particular every :class:`Send`
before a following :class:`CloseTcp` (RFC 4271 §6: the NOTIFICATION goes out, then
the connection is closed).
"""

from __future__ import annotations

from dataclasses import dataclass

from bgpemu.session.negotiation import Negotiated
from bgpemu.session.state import SessionState
from bgpemu.wire.messages import Message, Notification, RouteRefresh, Update

__all__ = [
    "CloseTcp",
    "ConnectTcp",
    "Effect",
    "RouteRefreshReceived",
    "Send",
    "SessionDown",
    "SessionEstablished",
    "StateChanged",
    "UpdateReceived",
]


@dataclass(frozen=True, slots=True)
class ConnectTcp:
    """Open a TCP connection to the peer, then feed TcpCrAcked or TcpConnectionFails."""


@dataclass(frozen=True, slots=True)
class CloseTcp:
    """Close the connection, after writing every Send that precedes this effect."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Send:
    """Write ``data``; ``message`` is its decoded form, None for pre-encoded UPDATE frames."""

    data: bytes
    message: Message | None


@dataclass(frozen=True, slots=True, kw_only=True)
class StateChanged:
    """The FSM moved from ``old`` to ``new``."""

    old: SessionState
    new: SessionState


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionEstablished:
    """The session reached Established with these negotiated parameters."""

    negotiated: Negotiated


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionDown:
    """The session left OpenSent, OpenConfirm or Established; ``reason`` is for humans."""

    reason: str
    sent: Notification | None = None
    received: Notification | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateReceived:
    """An UPDATE arrived in Established."""

    update: Update


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteRefreshReceived:
    """The peer asked us to re-advertise ``refresh.family`` (RFC 2918 §4)."""

    refresh: RouteRefresh


Effect = (
    ConnectTcp
    | CloseTcp
    | Send
    | StateChanged
    | SessionEstablished
    | SessionDown
    | UpdateReceived
    | RouteRefreshReceived
)
"""Every effect the FSM returns."""
