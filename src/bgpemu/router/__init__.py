"""The router inside a speaker (L5): RIBs and what to export, driven by session events.

This is the foundation's router: it originates the configured routes to every
established peer and keeps each peer's Adj-RIB-In.  The decision process, policies
and re-advertisement between peers build on it (see ``docs/architecture.md``).
"""

from bgpemu.router.config import OriginatedRoute, RouterConfig
from bgpemu.router.exports import Announce, EndOfRib, Export, Withdraw
from bgpemu.router.router import ReceivedRoute, Router

__all__ = [
    "Announce",
    "EndOfRib",
    "Export",
    "OriginatedRoute",
    "ReceivedRoute",
    "Router",
    "RouterConfig",
    "Withdraw",
]
