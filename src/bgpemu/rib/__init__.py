"""RIBs and the decision process (L3): Adj-RIB-In, Loc-RIB, Adj-RIB-Out, best path + reason."""

from bgpemu.rib.path import LOCAL, Path, PeerInfo

__all__ = ["LOCAL", "Path", "PeerInfo"]
