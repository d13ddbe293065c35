"""The BGP decision process (RFC 4271 §9.1.2): best path, multipath set, and the reason.

Theory of operation
-------------------
The decision process is an ordered list of small tie-breakers, :data:`STEPS`.  Each
one looks at two paths and answers ``"A"`` (the first is preferred), ``"B"`` or
``"tie"``; :func:`compare` walks the list and reports the first step that did not
tie.

:func:`decide` does not sort with :func:`compare`.  It follows the *elimination*
form of RFC 4271 §9.1.2.2: starting from every candidate with a reachable next hop,
each step removes the candidates some other remaining candidate beats at that
step; the first step that leaves one candidate is the reason.  For every step but
MED this is the same as keeping the candidates tied for best.  For MED (compared
only between routes from the same neighbour AS) the relation is not transitive, so a
pairwise sort would depend on the order of the candidates; elimination does not.
The result is therefore a function of the candidate *set*: the same paths in any
order give the same :class:`Decision`.  The one step that reads history,
OLDEST_EBGP (off by default), uses :attr:`Path.arrival`, a per-router sequence
number, so it too is deterministic.

Multipath (ECMP): the candidates still standing after IGP_COST have the same
weight, LOCAL_PREF, origination, AS_PATH length, ORIGIN, MED (within a neighbour
AS), eBGP/iBGP type and IGP cost as the best path.  Those are the multipath set,
restricted to an AS_PATH identical to the best one unless
:attr:`DecisionConfig.multipath_relax`, best path first, the others in router id /
peer address / path id order, capped at :attr:`DecisionConfig.max_paths`.

Step order, against RFC 4271 §9.1.2.2 and common vendor practice:

=====================  ==============================================================
NEXT_HOP_REACHABLE     RFC 4271 §9.1.2: unresolvable next hops are excluded first.
WEIGHT                 Vendor (Cisco/FRR ``weight``), local to the router; not in RFC.
LOCAL_PREF             RFC 4271 §9.1.1 (degree of preference), highest wins.
LOCALLY_ORIGINATED     Vendor (Cisco/FRR step 3); RFC 4271 has no such step.
AS_PATH_LENGTH         RFC 4271 §9.1.2.2 a (AS_SET = 1; RFC 5065 §5.3: confed = 0).
ORIGIN                 RFC 4271 §9.1.2.2 b: IGP < EGP < INCOMPLETE.
MED                    RFC 4271 §9.1.2.2 c: same neighbour AS only, missing MED = 0
                       (vendors: ``bgp always-compare-med``; some treat missing as
                       worst, ``bgp bestpath med missing-as-worst``, not modelled).
EBGP_OVER_IBGP         RFC 4271 §9.1.2.2 d.
IGP_COST               RFC 4271 §9.1.2.2 e (interior cost to the next hop).
OLDEST_EBGP            RFC 5004 (optional, Cisco default on, FRR off; here off).
ROUTER_ID              RFC 4271 §9.1.2.2 f; RFC 4456 §9: ORIGINATOR_ID stands in for
                       the BGP Identifier when present.  RFC 4456 §9's shorter
                       CLUSTER_LIST step (vendors put it here) is not modelled.
PEER_ADDRESS           RFC 4271 §9.1.2.2 g.
PATH_ID                Lowest ADD-PATH identifier (RFC 7911), then the source name:
                       a last resort so the result is always deterministic.
=====================  ==============================================================

Juniper orders differently (no weight, no locally-originated step; MED
"deterministic" grouping is what elimination gives); Cisco's ``bgp
deterministic-med`` is also what elimination gives.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Literal

from bgpemu.rib.aspath import as_path_length, as_path_loop, neighbor_as
from bgpemu.rib.path import Path
from bgpemu.wire.messages import Origin

__all__ = [
    "STEPS",
    "Decision",
    "DecisionConfig",
    "Step",
    "Winner",
    "as_path_length",
    "as_path_loop",
    "compare",
    "decide",
]

Winner = Literal["A", "B", "tie"]


class Step(Enum):
    """Why the best path won: the decision step that settled it (value: display text)."""

    ONLY_PATH = "only path"
    NEXT_HOP_REACHABLE = "next hop reachable"
    WEIGHT = "higher weight"
    LOCAL_PREF = "higher LOCAL_PREF"
    LOCALLY_ORIGINATED = "locally originated"
    AS_PATH_LENGTH = "shorter AS_PATH"
    ORIGIN = "lower ORIGIN"
    MED = "lower MED"
    EBGP_OVER_IBGP = "eBGP over iBGP"
    IGP_COST = "lower IGP cost"
    OLDEST_EBGP = "oldest eBGP path"
    ROUTER_ID = "lower router ID"
    PEER_ADDRESS = "lower peer address"
    PATH_ID = "lower path ID"


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionConfig:
    """Per-speaker knobs of the decision process."""

    always_compare_med: bool = False
    """Compare MED between routes from different neighbour ASes (vendor knob)."""
    prefer_oldest_ebgp: bool = False
    """RFC 5004: between eBGP paths, keep the older one before the router id step."""
    max_paths: int = 1
    """ECMP width; 1 means no multipath."""
    multipath_relax: bool = False
    """True: an equal AS_PATH *length* suffices for multipath; False: AS_PATH equal."""
    default_local_pref: int = 100
    """LOCAL_PREF assumed when the attribute is absent (RFC 4271 §9.1.1, common default)."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome for one prefix: best path, multipath set (best first), reason."""

    best: Path | None
    multipath: tuple[Path, ...]
    reason: Step


# Hot-path constructor: a frozen dataclass __init__ goes through object.__setattr__
# once per field (~0.7 us here); writing the slots through their descriptors builds
# the very same object (equal, hashable, immutable afterwards) in about half that.
# Decisions are built once per recomputed prefix, so this is on the per-route path.
_new_object = object.__new__
_SET_BEST: Callable[[Decision, Path | None], None] = Decision.__dict__["best"].__set__
_SET_MULTIPATH: Callable[[Decision, tuple[Path, ...]], None] = Decision.__dict__[
    "multipath"
].__set__
_SET_REASON: Callable[[Decision, Step], None] = Decision.__dict__["reason"].__set__


def _decision(best: Path | None, multipath: tuple[Path, ...], reason: Step) -> Decision:
    """``Decision(best, multipath, reason)``, built without the frozen-init overhead."""
    decision: Decision = _new_object(Decision)
    _SET_BEST(decision, best)
    _SET_MULTIPATH(decision, multipath)
    _SET_REASON(decision, reason)
    return decision


def _higher(x: int, y: int) -> Winner:
    return "A" if x > y else "B" if x < y else "tie"


def _lower(x: int, y: int) -> Winner:
    return "A" if x < y else "B" if x > y else "tie"


def _next_hop_reachable(a: Path, b: Path, config: DecisionConfig) -> Winner:
    """RFC 4271 §9.1.2: a route with an unresolvable NEXT_HOP is never selected."""
    return _higher(a.next_hop_reachable, b.next_hop_reachable)


def _weight(a: Path, b: Path, config: DecisionConfig) -> Winner:
    """Higher weight (vendor, local to the router; not part of RFC 4271)."""
    return _higher(a.weight, b.weight)


def _local_pref_of(path: Path, config: DecisionConfig) -> int:
    lp = path.attributes.local_pref
    return config.default_local_pref if lp is None else lp


def _local_pref(a: Path, b: Path, config: DecisionConfig) -> Winner:
    """Higher degree of preference, i.e. LOCAL_PREF (RFC 4271 §9.1.1, §9.1.2.1)."""
    return _higher(_local_pref_of(a, config), _local_pref_of(b, config))


def _locally_originated(a: Path, b: Path, config: DecisionConfig) -> Winner:
    """Prefer a path this router originates (vendor step; not in RFC 4271)."""
    return _higher(a.local, b.local)


def _as_path_length(a: Path, b: Path, config: DecisionConfig) -> Winner:
    """Shorter AS_PATH (RFC 4271 §9.1.2.2 a; RFC 5065 §5.3)."""
    if a.attributes is b.attributes:
        return "tie"
    return _lower(as_path_length(a.attributes), as_path_length(b.attributes))


def _origin_of(path: Path) -> int:
    origin = path.attributes.origin
    return Origin.INCOMPLETE if origin is None else origin


def _origin(a: Path, b: Path, config: DecisionConfig) -> Winner:
    """Lower ORIGIN: IGP < EGP < INCOMPLETE (RFC 4271 §9.1.2.2 b); absent = INCOMPLETE."""
    return _lower(_origin_of(a), _origin_of(b))


def _med_of(path: Path) -> int:
    med = path.attributes.med
    return 0 if med is None else med


def _neighbor_as_of(path: Path) -> int:
    return neighbor_as(path.attributes, path.source.local_asn)


def _med(a: Path, b: Path, config: DecisionConfig) -> Winner:
    """Lower MED between routes from the same neighbour AS (RFC 4271 §9.1.2.2 c).

    A missing MED counts as 0 (RFC 4271 §9.1.2.2 c).  With ``always_compare_med``
    the neighbour AS is ignored.
    """
    if not config.always_compare_med and _neighbor_as_of(a) != _neighbor_as_of(b):
        return "tie"
    return _lower(_med_of(a), _med_of(b))


def _ebgp_over_ibgp(a: Path, b: Path, config: DecisionConfig) -> Winner:
    """Prefer a route learned from an external peer (RFC 4271 §9.1.2.2 d)."""
    return _higher(not a.source.ibgp, not b.source.ibgp)


def _igp_cost(a: Path, b: Path, config: DecisionConfig) -> Winner:
    """Lower interior cost to the next hop (RFC 4271 §9.1.2.2 e)."""
    return _lower(a.igp_cost, b.igp_cost)


def _oldest_ebgp(a: Path, b: Path, config: DecisionConfig) -> Winner:
    """Between two eBGP paths keep the older one (RFC 5004 §2), when configured."""
    if not config.prefer_oldest_ebgp or a.source.ibgp or b.source.ibgp:
        return "tie"
    return _lower(a.arrival, b.arrival)


def _ipv4_int(address: str) -> int:
    try:
        return int(ipaddress.IPv4Address(address))
    except ValueError:
        return 0


def _router_id_of(path: Path) -> int:
    originator = path.attributes.originator_id
    return _ipv4_int(path.source.router_id if originator is None else originator)


def _router_id(a: Path, b: Path, config: DecisionConfig) -> Winner:
    """Lower BGP Identifier (RFC 4271 §9.1.2.2 f); ORIGINATOR_ID if present (RFC 4456 §9)."""
    return _lower(_router_id_of(a), _router_id_of(b))


def _address_key(address: str) -> tuple[int, int, str]:
    if not address:
        return (0, 0, "")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return (9, 0, address)
    return (ip.version, int(ip), "")


def _peer_address(a: Path, b: Path, config: DecisionConfig) -> Winner:
    """Lower peer address (RFC 4271 §9.1.2.2 g); IPv4 sorts before IPv6."""
    ka, kb = _address_key(a.source.address), _address_key(b.source.address)
    return "A" if ka < kb else "B" if ka > kb else "tie"


def _path_id(a: Path, b: Path, config: DecisionConfig) -> Winner:
    """Lower ADD-PATH identifier (RFC 7911), then source name: the deterministic last resort."""
    ka, kb = (a.path_id, a.source.name), (b.path_id, b.source.name)
    return "A" if ka < kb else "B" if ka > kb else "tie"


STEPS: tuple[tuple[Step, Callable[[Path, Path, DecisionConfig], Winner]], ...] = (
    (Step.NEXT_HOP_REACHABLE, _next_hop_reachable),
    (Step.WEIGHT, _weight),
    (Step.LOCAL_PREF, _local_pref),
    (Step.LOCALLY_ORIGINATED, _locally_originated),
    (Step.AS_PATH_LENGTH, _as_path_length),
    (Step.ORIGIN, _origin),
    (Step.MED, _med),
    (Step.EBGP_OVER_IBGP, _ebgp_over_ibgp),
    (Step.IGP_COST, _igp_cost),
    (Step.OLDEST_EBGP, _oldest_ebgp),
    (Step.ROUTER_ID, _router_id),
    (Step.PEER_ADDRESS, _peer_address),
    (Step.PATH_ID, _path_id),
)
"""The tie-breakers in order (RFC 4271 §9.1.2.2 with the vendor steps, see module doc)."""


def compare(a: Path, b: Path, config: DecisionConfig) -> tuple[Winner, Step]:
    """Which of two paths the decision process prefers, and the step that said so.

    ``("tie", Step.PATH_ID)`` when the paths are indistinguishable.  Note that MED
    makes this relation non-transitive; :func:`decide` does not sort with it.
    """
    for step, tie_breaker in STEPS:
        winner = tie_breaker(a, b, config)
        if winner != "tie":
            return winner, step
    return "tie", Step.PATH_ID


def _survivors(
    step: Step,
    tie_breaker: Callable[[Path, Path, DecisionConfig], Winner],
    paths: list[Path],
    config: DecisionConfig,
) -> list[Path]:
    """The paths no other path of ``paths`` beats at ``step`` (RFC 4271 §9.1.2.2)."""
    if step is Step.MED and not config.always_compare_med:
        # MED only orders routes of the same neighbour AS: keep the lowest per AS.
        lowest: dict[int, int] = {}
        for path in paths:
            nas, med = _neighbor_as_of(path), _med_of(path)
            if med < lowest.get(nas, med + 1):
                lowest[nas] = med
        return [p for p in paths if _med_of(p) == lowest[_neighbor_as_of(p)]]
    # Every other step is a total preorder: keep those tied with the best.
    kept = [paths[0]]
    for path in paths[1:]:
        winner = tie_breaker(path, kept[0], config)
        if winner == "A":
            kept = [path]
        elif winner == "tie":
            kept.append(path)
    return kept


def _order_key(path: Path) -> tuple[int, tuple[int, int, str], int, str]:
    return (_router_id_of(path), _address_key(path.source.address), path.path_id, path.source.name)


_EMPTY = Decision(None, (), Step.ONLY_PATH)


def decide(candidates: Sequence[Path], config: DecisionConfig) -> Decision:
    """Select the best path and the multipath set among ``candidates`` (RFC 4271 §9.1.2).

    Unreachable next hops never win or join the multipath set; when no candidate is
    reachable ``best`` is None (reason NEXT_HOP_REACHABLE, or ONLY_PATH when there
    are no candidates at all).  A single reachable candidate wins with reason
    ONLY_PATH (NEXT_HOP_REACHABLE if unreachable ones were dropped) without running
    the steps.  The result depends on the set of candidates, not on their order.
    """
    if len(candidates) == 1:
        only = candidates[0]
        if only.next_hop_reachable:
            return _decision(only, (only,), Step.ONLY_PATH)
        return _decision(None, (), Step.NEXT_HOP_REACHABLE)
    if not candidates:
        return _EMPTY
    remaining = [c for c in candidates if c.next_hop_reachable]
    if not remaining:
        return _decision(None, (), Step.NEXT_HOP_REACHABLE)
    if len(remaining) == 1:
        return _decision(remaining[0], (remaining[0],), Step.NEXT_HOP_REACHABLE)
    if len(remaining) == 2:
        return _decide_two(remaining[0], remaining[1], config)
    ecmp: list[Path] | None = None
    reason = Step.PATH_ID
    for step, tie_breaker in STEPS[1:]:
        remaining = _survivors(step, tie_breaker, remaining, config)
        if step is Step.IGP_COST:
            ecmp = remaining
        if len(remaining) == 1:
            reason = step
            break
    best = remaining[0] if len(remaining) == 1 else min(remaining, key=_order_key)
    if ecmp is None or len(ecmp) == 1 or config.max_paths <= 1:
        return _decision(best, (best,), reason)
    return _decision(best, _multipath(best, ecmp, config), reason)


_AFTER_IGP_COST = frozenset({Step.OLDEST_EBGP, Step.ROUTER_ID, Step.PEER_ADDRESS, Step.PATH_ID})


def _decide_two(a: Path, b: Path, config: DecisionConfig) -> Decision:
    """Two reachable candidates: elimination and pairwise comparison coincide."""
    winner, step = compare(a, b, config)
    if winner == "B" or (winner == "tie" and _order_key(b) < _order_key(a)):
        a, b = b, a
    if (
        config.max_paths > 1
        and step in _AFTER_IGP_COST
        and (
            config.multipath_relax
            or a.attributes is b.attributes
            or a.attributes.as_path == b.attributes.as_path
        )
    ):
        return _decision(a, (a, b), step)
    return _decision(a, (a,), step)


def _multipath(best: Path, ecmp: list[Path], config: DecisionConfig) -> tuple[Path, ...]:
    """Best first, then the equal-cost paths in a fixed order, at most ``max_paths``."""
    as_path = best.attributes.as_path
    others = [
        p
        for p in ecmp
        if p is not best
        and (
            config.multipath_relax
            or p.attributes is best.attributes
            or p.attributes.as_path == as_path
        )
    ]
    others.sort(key=_order_key)
    return (best, *others[: config.max_paths - 1])
