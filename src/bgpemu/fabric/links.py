"""The in-memory plumbing of the Fabric: session ends, links, connections and events.

A *pair* is one BGP peering between two nodes: two *ends* (each a node's
:class:`~bgpemu.session.Session` for that neighbour) joined by a link that can be cut.
At most one TCP *connection* exists per pair at a time (the first connection attempt
to arrive wins, which is how the Fabric resolves simultaneous opens deterministically,
RFC 4271 §6.8 never has to run).  A connection has two sides that close
independently, like TCP's FIN: bytes toward a closed side are answered with a
reset (TcpConnectionFails) while the link is up.  While a link is cut silently, what
the sides send is held back (TCP retransmits) and released when the link is restored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from bgpemu.router.spec import NeighborSpec
from bgpemu.session import Session

__all__ = [
    "Close",
    "Connect",
    "ConnectFailed",
    "Connection",
    "Cut",
    "Deliver",
    "End",
    "Event",
    "Pair",
    "RouterTimer",
    "SessionTimer",
]


class Cut(Enum):
    """How a link is down."""

    SILENT = "silent"
    """Bytes are held back, no NOTIFICATION, no FIN: the hold timer finds out."""
    CLEAN = "clean"
    """Both sessions were stopped with Cease (RFC 4486 §4) before the link went down."""


@dataclass(eq=False, slots=True)
class End:
    """One node's side of a peering."""

    node: str
    neighbor: NeighborSpec
    session: Session
    pair: Pair | None = None
    side: int = 0
    attempt: int = 0
    """The id of the current outgoing connection attempt (bumped to abandon one)."""
    syn_lost: bool = False
    """The current attempt was sent while the link was cut (re-sent on restore)."""
    armed: float | None = None
    """The session deadline a :class:`SessionTimer` is queued for."""

    @property
    def name(self) -> str:
        """The neighbour's name (the peer name the node's router uses)."""
        return self.neighbor.name


@dataclass(eq=False, slots=True)
class Connection:
    """One TCP connection of a pair; ``open[side]`` until that side closes."""

    id: int
    pair: Pair
    open: list[bool] = field(default_factory=lambda: [True, True])
    backlog: list[tuple[int, bytes | None]] = field(default_factory=list)
    """(from side, bytes or None for a FIN) held while the link is cut silently."""


@dataclass(eq=False, slots=True)
class Pair:
    """Two ends joined by a link."""

    ends: tuple[End, End]
    cut: Cut | None = None
    conn: Connection | None = None
    waiting: tuple[End, int] | None = None
    """A connection request (end, attempt) held until the far session listens again."""

    def other(self, end: End) -> End:
        """The far end."""
        return self.ends[1 - end.side]

    @property
    def nodes(self) -> frozenset[str]:
        """The two node names."""
        return frozenset((self.ends[0].node, self.ends[1].node))


@dataclass(frozen=True, slots=True)
class Connect:
    """The initiator's connection request reaches the far end."""

    end: End
    attempt: int


@dataclass(frozen=True, slots=True)
class ConnectFailed:
    """The far end refused: the initiator's attempt fails (a TCP reset)."""

    end: End
    attempt: int


@dataclass(frozen=True, slots=True)
class Deliver:
    """Bytes reach side ``to`` of ``conn``."""

    conn: Connection
    to: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Close:
    """A FIN or reset reaches side ``to`` of ``conn``: TcpConnectionFails."""

    conn: Connection
    to: int


@dataclass(frozen=True, slots=True)
class SessionTimer:
    """The session of ``end`` has a timer due at ``deadline``."""

    end: End
    deadline: float


@dataclass(frozen=True, slots=True)
class RouterTimer:
    """The router of ``node`` has work due at ``deadline`` (MRAI, max-prefix restart)."""

    node: str
    deadline: float


Event = Connect | ConnectFailed | Deliver | Close | SessionTimer | RouterTimer
"""Everything the Fabric's event queue holds."""
