"""The router inside a speaker (L5): import, decision, export, driven by session events.

:class:`Router` is pure: the TCP runtime and the in-memory fabric both drive it with
session events and carry out the :class:`RouterOutput` it returns.
"""

from bgpemu.router.config import OriginatedRoute, RouterConfig
from bgpemu.router.core import Router
from bgpemu.router.exports import Announce, EndOfRib, Export, Withdraw
from bgpemu.router.neighbor import NeighborPolicy, peer_info
from bgpemu.router.outputs import BestPathChanged, ResetSession, RouterOutput

__all__ = [
    "Announce",
    "BestPathChanged",
    "EndOfRib",
    "Export",
    "NeighborPolicy",
    "OriginatedRoute",
    "ResetSession",
    "Router",
    "RouterConfig",
    "RouterOutput",
    "Withdraw",
    "peer_info",
]
