"""The sans-IO BGP session (L2): RFC 4271 §8 FSM, timers, OPEN negotiation, collisions.

Inputs in (typed RFC 4271 §8.1 events, or bytes), effects out, ``now`` always an
argument.  See :mod:`bgpemu.session.fsm` for the theory of operation.
"""

from bgpemu.session.collision import CollisionWinner, resolve_collision
from bgpemu.session.config import SessionConfig
from bgpemu.session.counters import SessionCounters
from bgpemu.session.effects import (
    CloseTcp,
    ConnectTcp,
    Effect,
    RouteRefreshReceived,
    Send,
    SessionDown,
    SessionEstablished,
    StateChanged,
    UpdateReceived,
)
from bgpemu.session.fsm import Session
from bgpemu.session.inputs import (
    AutomaticStart,
    BgpHeaderErr,
    BgpOpen,
    BgpOpenMsgErr,
    ConnectRetryTimerExpires,
    HoldTimerExpires,
    IdleHoldTimerExpires,
    Input,
    KeepAliveMsg,
    KeepaliveTimerExpires,
    ManualStart,
    ManualStop,
    NotifMsg,
    NotifMsgVerErr,
    OpenCollisionDump,
    RouteRefreshMsg,
    RouteRefreshMsgErr,
    TcpConnectionConfirmed,
    TcpConnectionFails,
    TcpCrAcked,
    UpdateMsg,
    UpdateMsgErr,
)
from bgpemu.session.negotiation import Negotiated, negotiate
from bgpemu.session.state import SessionState
from bgpemu.session.timers import Timer

__all__ = [
    "AutomaticStart",
    "BgpHeaderErr",
    "BgpOpen",
    "BgpOpenMsgErr",
    "CloseTcp",
    "CollisionWinner",
    "ConnectRetryTimerExpires",
    "ConnectTcp",
    "Effect",
    "HoldTimerExpires",
    "IdleHoldTimerExpires",
    "Input",
    "KeepAliveMsg",
    "KeepaliveTimerExpires",
    "ManualStart",
    "ManualStop",
    "Negotiated",
    "NotifMsg",
    "NotifMsgVerErr",
    "OpenCollisionDump",
    "RouteRefreshMsg",
    "RouteRefreshMsgErr",
    "RouteRefreshReceived",
    "Send",
    "Session",
    "SessionConfig",
    "SessionCounters",
    "SessionDown",
    "SessionEstablished",
    "SessionState",
    "StateChanged",
    "TcpConnectionConfirmed",
    "TcpConnectionFails",
    "TcpCrAcked",
    "Timer",
    "UpdateMsg",
    "UpdateMsgErr",
    "UpdateReceived",
    "negotiate",
    "resolve_collision",
]
