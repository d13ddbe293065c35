"""One speaker as both engines run it (TCP runtime and fabric): compiled from a config file."""

from __future__ import annotations

from dataclasses import dataclass

from bgpemu.router.config import RouterConfig
from bgpemu.session import SessionConfig
from bgpemu.types import TcpMd5Key

__all__ = ["NeighborSpec", "SpeakerSpec"]


@dataclass(frozen=True, slots=True, kw_only=True)
class NeighborSpec:
    """One neighbour: where it is and how its session behaves."""

    name: str
    address: str
    port: int = 179
    session: SessionConfig
    tcp_md5_key: TcpMd5Key | None = None
    """RFC 2385: sign every TCP segment of the session with this key (None: unsigned).

    Session configuration, not routing: the router never sees it; the TCP runtime sets
    it on its sockets and the in-memory fabric ignores it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeakerSpec:
    """One speaker: identity, listening socket, router and neighbours."""

    name: str
    local_address: str
    port: int = 179
    listen: bool = True
    router: RouterConfig
    neighbors: tuple[NeighborSpec, ...] = ()
