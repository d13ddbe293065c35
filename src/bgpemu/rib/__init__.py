"""RIBs and the decision process (L3): Adj-RIB-In, Loc-RIB, Adj-RIB-Out, best path + reason."""

from bgpemu.rib.adj_rib_in import AdjRibIn
from bgpemu.rib.adj_rib_out import AdjRibOut, Announce, EndOfRib, Export, Withdraw
from bgpemu.rib.aspath import as_path_length, as_path_loop, neighbor_as
from bgpemu.rib.decision import STEPS, Decision, DecisionConfig, Step, Winner, compare, decide
from bgpemu.rib.loc_rib import BestPathChange, LocRib
from bgpemu.rib.path import LOCAL, Path, PeerInfo

__all__ = [
    "LOCAL",
    "STEPS",
    "AdjRibIn",
    "AdjRibOut",
    "Announce",
    "BestPathChange",
    "Decision",
    "DecisionConfig",
    "EndOfRib",
    "Export",
    "LocRib",
    "Path",
    "PeerInfo",
    "Step",
    "Winner",
    "Withdraw",
    "as_path_length",
    "as_path_loop",
    "compare",
    "decide",
    "neighbor_as",
]
