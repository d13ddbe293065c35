"""The six states of the BGP finite state machine (RFC 4271 §8.2.2)."""

from __future__ import annotations

from enum import Enum

__all__ = ["CONNECTED_STATES", "SessionState"]


class SessionState(Enum):
    """RFC 4271 §8.2.2 session states."""

    IDLE = "Idle"
    CONNECT = "Connect"
    ACTIVE = "Active"
    OPEN_SENT = "OpenSent"
    OPEN_CONFIRM = "OpenConfirm"
    ESTABLISHED = "Established"


CONNECTED_STATES = frozenset(
    {SessionState.OPEN_SENT, SessionState.OPEN_CONFIRM, SessionState.ESTABLISHED}
)
"""States with a TCP connection on which BGP messages flow (RFC 4271 §8.2.2)."""
