"""FSM inputs: frozen dataclasses named after the RFC 4271 §8.1 events.

Each class names its RFC 4271 event number.  ROUTE-REFRESH inputs come from RFC 2918
and RFC 7313 §5.  Timer expiries are normally produced by :meth:`Session.on_timer`;
message inputs by :meth:`Session.receive_data`; the rest by the shell.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from bgpemu.errors import MessageError
from bgpemu.wire.constants import CeaseSubcode
from bgpemu.wire.messages import Notification, Open, RouteRefresh, Update

__all__ = [
    "INPUT_TYPES",
    "AutomaticStart",
    "BgpHeaderErr",
    "BgpOpen",
    "BgpOpenMsgErr",
    "ConnectRetryTimerExpires",
    "HoldTimerExpires",
    "IdleHoldTimerExpires",
    "Input",
    "KeepAliveMsg",
    "KeepaliveTimerExpires",
    "ManualStart",
    "ManualStop",
    "NotifMsg",
    "NotifMsgVerErr",
    "OpenCollisionDump",
    "RouteRefreshMsg",
    "RouteRefreshMsgErr",
    "TcpConnectionConfirmed",
    "TcpConnectionFails",
    "TcpCrAcked",
    "UpdateMsg",
    "UpdateMsgErr",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ManualStart:
    """Events 1 and 4: ManualStart, or ManualStart_with_PassiveTcpEstablishment."""

    passive: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ManualStop:
    """Event 2: ManualStop; the Cease ``subcode`` and ``data`` sent (RFC 4486 §4).

    The router also stops a session this way, e.g. maximum prefixes reached (subcode 1,
    data = AFI, SAFI and the limit).
    """

    subcode: int = CeaseSubcode.ADMINISTRATIVE_SHUTDOWN
    data: bytes = b""
    reason: str = "stopped"


@dataclass(frozen=True, slots=True, kw_only=True)
class AutomaticStart:
    """Events 3 and 5: AutomaticStart, or AutomaticStart_with_PassiveTcpEstablishment."""

    passive: bool = False


@dataclass(frozen=True, slots=True)
class ConnectRetryTimerExpires:
    """Event 9: ConnectRetryTimer_Expires."""


@dataclass(frozen=True, slots=True)
class HoldTimerExpires:
    """Event 10: HoldTimer_Expires."""


@dataclass(frozen=True, slots=True)
class KeepaliveTimerExpires:
    """Event 11: KeepaliveTimer_Expires."""


@dataclass(frozen=True, slots=True)
class IdleHoldTimerExpires:
    """Event 13: IdleHoldTimer_Expires (the automatic restart after an error)."""


@dataclass(frozen=True, slots=True)
class TcpCrAcked:
    """Event 16: Tcp_CR_Acked: our outgoing TCP connection was established."""


@dataclass(frozen=True, slots=True)
class TcpConnectionConfirmed:
    """Event 17: TcpConnectionConfirmed: the peer's incoming TCP connection was accepted."""


@dataclass(frozen=True, slots=True)
class TcpConnectionFails:
    """Event 18: TcpConnectionFails: the connection attempt failed, or the peer closed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BgpOpen:
    """Event 19: BGPOpen: a syntactically valid OPEN was received."""

    message: Open


@dataclass(frozen=True, slots=True, kw_only=True)
class _ErrorInput:
    """A received message failed its checks; carries the NOTIFICATION to answer with."""

    code: int
    subcode: int
    data: bytes = b""
    reason: str = ""

    @property
    def notification(self) -> Notification:
        """The NOTIFICATION that answers this error (RFC 4271 §6)."""
        return Notification(code=self.code, subcode=self.subcode, data=self.data)


@dataclass(frozen=True, slots=True, kw_only=True)
class BgpHeaderErr(_ErrorInput):
    """Event 21: BGPHeaderErr (RFC 4271 §6.1)."""

    @classmethod
    def from_error(cls, error: MessageError) -> BgpHeaderErr:
        """The input for ``error``."""
        return cls(code=error.code, subcode=error.subcode, data=error.data, reason=error.reason)


@dataclass(frozen=True, slots=True, kw_only=True)
class BgpOpenMsgErr(_ErrorInput):
    """Event 22: BGPOpenMsgErr (RFC 4271 §6.2)."""

    @classmethod
    def from_error(cls, error: MessageError) -> BgpOpenMsgErr:
        """The input for ``error``."""
        return cls(code=error.code, subcode=error.subcode, data=error.data, reason=error.reason)


@dataclass(frozen=True, slots=True)
class OpenCollisionDump:
    """Event 23: OpenCollisionDump: this connection lost collision detection (RFC 4271 §6.8)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NotifMsgVerErr:
    """Event 24: NotifMsgVerErr: a NOTIFICATION with a version error (2/1) was received."""

    notification: Notification


@dataclass(frozen=True, slots=True, kw_only=True)
class NotifMsg:
    """Event 25: NotifMsg: any other NOTIFICATION, even one that fails to decode."""

    notification: Notification


@dataclass(frozen=True, slots=True)
class KeepAliveMsg:
    """Event 26: KeepAliveMsg."""


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateMsg:
    """Event 27: UpdateMsg: a valid UPDATE (possibly with RFC 7606 issues handled)."""

    update: Update


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateMsgErr(_ErrorInput):
    """Event 28: UpdateMsgErr (RFC 4271 §6.3, RFC 7606 session reset)."""

    @classmethod
    def from_error(cls, error: MessageError) -> UpdateMsgErr:
        """The input for ``error``."""
        return cls(code=error.code, subcode=error.subcode, data=error.data, reason=error.reason)


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteRefreshMsg:
    """A valid ROUTE-REFRESH (RFC 2918 §3, RFC 7313 §3)."""

    refresh: RouteRefresh


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteRefreshMsgErr(_ErrorInput):
    """A malformed ROUTE-REFRESH (RFC 7313 §5: NOTIFICATION 7/1)."""

    @classmethod
    def from_error(cls, error: MessageError) -> RouteRefreshMsgErr:
        """The input for ``error``."""
        return cls(code=error.code, subcode=error.subcode, data=error.data, reason=error.reason)


Input = (
    ManualStart
    | ManualStop
    | AutomaticStart
    | ConnectRetryTimerExpires
    | HoldTimerExpires
    | KeepaliveTimerExpires
    | IdleHoldTimerExpires
    | TcpCrAcked
    | TcpConnectionConfirmed
    | TcpConnectionFails
    | BgpOpen
    | BgpHeaderErr
    | BgpOpenMsgErr
    | OpenCollisionDump
    | NotifMsgVerErr
    | NotifMsg
    | KeepAliveMsg
    | UpdateMsg
    | UpdateMsgErr
    | RouteRefreshMsg
    | RouteRefreshMsgErr
)
"""Every input the FSM accepts."""

INPUT_TYPES: tuple[type[Input], ...] = get_args(Input)
"""The members of :data:`Input`, in RFC 4271 §8.1 event order."""
