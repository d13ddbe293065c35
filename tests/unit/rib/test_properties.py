"""Hypothesis properties of the decision process, the Loc-RIB and the Adj-RIB-Out diff engine.

* decide() depends on the candidate set, not on its order (RFC 4271 §9.1.2.2
  elimination; arrival numbers are unique here, so OLDEST_EBGP is deterministic);
* with always-compare-med the relation is a total preorder and the best path is
  never beaten by another candidate;
* LocRib: the same update twice changes nothing; adding then removing a candidate
  restores the previous Decision;
* AdjRibOut: a peer applying every flushed export ends with exactly the desired
  table, and is never told something it already knows.
"""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from bgpemu.rib.adj_rib_out import AdjRibOut, Announce, EndOfRib, Withdraw
from bgpemu.rib.decision import STEPS, Decision, DecisionConfig, Step, compare, decide
from bgpemu.rib.loc_rib import LocRib
from bgpemu.rib.path import LOCAL, Path, PeerInfo
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST, Family
from bgpemu.wire.messages import Origin, PathAttributes

from .factories import LOCAL_ASN, PREFIX, attrs, seq

SETTINGS = settings(max_examples=200, deadline=None)

AS_PATHS = [(), (65001,), (65002,), (65001, 65010), (65002, 65010), (65003, 65001, 65010)]
LATE_AS_PATHS = [(65001, 65010), (65002, 65010), (65003, 65010), (65001, 65020)]


@st.composite
def candidate_lists(draw: st.DrawFn, late_steps_only: bool = False) -> list[Path]:
    """Distinct candidates (unique source name, unique arrival) with small value domains.

    ``late_steps_only`` ties every step before MED (equal weight, LOCAL_PREF, AS_PATH
    length, ORIGIN; all reachable, none local) so the examples exercise MED and after.
    """
    count = draw(st.integers(min_value=1, max_value=6))
    result: list[Path] = []
    arrivals = draw(st.permutations(range(count)))
    for index in range(count):
        local = not late_steps_only and draw(st.integers(0, 9)) == 0
        if local:
            source: PeerInfo = LOCAL
            as_path: tuple[int, ...] = ()
        else:
            ibgp = draw(st.booleans())
            as_path = draw(st.sampled_from(LATE_AS_PATHS if late_steps_only else AS_PATHS))
            asn = LOCAL_ASN if ibgp else (as_path[0] if as_path else 65009)
            source = PeerInfo(
                name=f"p{index}",
                asn=asn,
                router_id=draw(st.sampled_from(["10.0.0.1", "10.0.0.2", "10.0.0.3"])),
                address=draw(st.sampled_from(["192.0.2.1", "192.0.2.2", "2001:db8::1"])),
                local_asn=LOCAL_ASN,
            )
        attributes = attrs(
            *((seq(*as_path),) if as_path else ()),
            origin=Origin.IGP
            if late_steps_only
            else draw(st.sampled_from([Origin.IGP, Origin.EGP, Origin.INCOMPLETE, None])),
            med=draw(st.sampled_from([None, 0, 10, 20])),
            local_pref=None if late_steps_only else draw(st.sampled_from([None, 100, 200])),
            originator_id=draw(st.sampled_from([None, "10.0.0.2"])),
        )
        result.append(
            Path(
                family=IPV4_UNICAST,
                prefix=PREFIX,
                attributes=attributes,
                source=source,
                path_id=index if local else draw(st.integers(0, 1)),
                weight=0 if late_steps_only else draw(st.sampled_from([0, 0, 10])),
                igp_cost=draw(st.integers(0, 1)),
                next_hop_reachable=late_steps_only or draw(st.integers(0, 5)) > 0,
                arrival=arrivals[index],
            )
        )
    return result


configs = st.builds(
    DecisionConfig,
    always_compare_med=st.booleans(),
    prefer_oldest_ebgp=st.booleans(),
    max_paths=st.integers(1, 4),
    multipath_relax=st.booleans(),
)


@SETTINGS
@given(candidates=candidate_lists(), config=configs, data=st.data())
def test_decide_is_independent_of_candidate_order(
    candidates: list[Path], config: DecisionConfig, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(candidates))
    assert decide(shuffled, config) == decide(candidates, config)


@SETTINGS
@given(candidates=candidate_lists(late_steps_only=True), config=configs, data=st.data())
def test_decide_is_independent_of_order_when_med_matters(
    candidates: list[Path], config: DecisionConfig, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(candidates))
    assert decide(shuffled, config) == decide(candidates, config)


def _reference_order(path: Path) -> tuple[int, tuple[int, int], int, str]:
    rid = path.attributes.originator_id or path.source.router_id
    address = path.source.address
    ip = (0, 0)
    if address:
        parsed = ipaddress.ip_address(address)
        ip = (parsed.version, int(parsed))
    return (int(ipaddress.IPv4Address(rid)), ip, path.path_id, path.source.name)


def reference_decide(candidates: list[Path], config: DecisionConfig) -> Decision:
    """RFC 4271 §9.1.2.2 read literally: drop every path another remaining path beats."""
    remaining = [c for c in candidates if c.next_hop_reachable]
    if not remaining:
        return Decision(None, (), Step.NEXT_HOP_REACHABLE if candidates else Step.ONLY_PATH)
    if len(remaining) == 1:
        reason = Step.ONLY_PATH if len(candidates) == 1 else Step.NEXT_HOP_REACHABLE
        return Decision(remaining[0], (remaining[0],), reason)
    ecmp: list[Path] | None = None
    reason = Step.PATH_ID
    for step, tie_breaker in STEPS[1:]:
        remaining = [
            p for p in remaining if not any(tie_breaker(q, p, config) == "A" for q in remaining)
        ]
        if step is Step.IGP_COST:
            ecmp = remaining
        if len(remaining) == 1:
            reason = step
            break
    best = min(remaining, key=_reference_order)
    if ecmp is None:  # one path left before IGP_COST
        ecmp = remaining
    if config.max_paths <= 1 or len(ecmp) == 1:
        return Decision(best, (best,), reason)
    others = sorted(
        (
            p
            for p in ecmp
            if p is not best
            and (config.multipath_relax or p.attributes.as_path == best.attributes.as_path)
        ),
        key=_reference_order,
    )
    return Decision(best, (best, *others[: config.max_paths - 1]), reason)


@SETTINGS
@given(candidates=candidate_lists(), config=configs)
def test_decide_matches_the_literal_rfc_elimination(
    candidates: list[Path], config: DecisionConfig
) -> None:
    assert decide(candidates, config) == reference_decide(candidates, config)


@SETTINGS
@given(candidates=candidate_lists(late_steps_only=True), config=configs)
def test_decide_matches_the_literal_rfc_elimination_late_steps(
    candidates: list[Path], config: DecisionConfig
) -> None:
    assert decide(candidates, config) == reference_decide(candidates, config)


@SETTINGS
@given(candidates=candidate_lists(), config=configs)
def test_decision_invariants(candidates: list[Path], config: DecisionConfig) -> None:
    decision = decide(candidates, config)
    reachable = [c for c in candidates if c.next_hop_reachable]
    if not reachable:
        assert decision.best is None
        assert decision.multipath == ()
        return
    assert decision.best is not None
    assert decision.best in reachable
    assert decision.multipath[0] is decision.best
    assert 1 <= len(decision.multipath) <= max(1, config.max_paths)
    assert len({id(p) for p in decision.multipath}) == len(decision.multipath)
    assert all(p.next_hop_reachable for p in decision.multipath)


@SETTINGS
@given(candidates=candidate_lists(), config=configs)
def test_best_is_never_beaten_when_med_is_always_compared(
    candidates: list[Path], config: DecisionConfig
) -> None:
    total = DecisionConfig(
        always_compare_med=True,
        prefer_oldest_ebgp=config.prefer_oldest_ebgp,
        max_paths=config.max_paths,
        multipath_relax=config.multipath_relax,
    )
    best = decide(candidates, total).best
    for other in candidates:
        if best is not None and other is not best:
            assert compare(best, other, total)[0] != "B"


@SETTINGS
@given(candidates=candidate_lists(), config=configs)
def test_loc_rib_same_update_twice_changes_nothing(
    candidates: list[Path], config: DecisionConfig
) -> None:
    rib = LocRib(config)
    rib.update(IPV4_UNICAST, PREFIX, candidates)
    assert rib.update(IPV4_UNICAST, PREFIX, candidates) is None
    assert rib.update(IPV4_UNICAST, PREFIX, list(reversed(candidates))) is None


@SETTINGS
@given(candidates=candidate_lists(), config=configs, data=st.data())
def test_loc_rib_announce_then_withdraw_restores_previous_best(
    candidates: list[Path], config: DecisionConfig, data: st.DataObject
) -> None:
    extra = data.draw(st.sampled_from(candidates))
    before = [c for c in candidates if c is not extra]
    rib = LocRib(config)
    rib.update(IPV4_UNICAST, PREFIX, before)
    previous = rib.get(IPV4_UNICAST, PREFIX)
    added = rib.update(IPV4_UNICAST, PREFIX, candidates)
    removed = rib.update(IPV4_UNICAST, PREFIX, before)
    assert rib.get(IPV4_UNICAST, PREFIX) == previous
    if added is None:
        assert removed is None
    else:
        assert removed is not None
        assert removed.old == added.new
        assert removed.new == previous


PREFIXES = ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "2001:db8::/32"]
ATTRIBUTE_SETS = [attrs(seq(65001)), attrs(seq(65002)), attrs(seq(65001))]  # two equal objects

operations = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from(PREFIXES),
            st.sampled_from([None, *ATTRIBUTE_SETS]),
        ),
        st.just(None),  # flush
    ),
    max_size=40,
)


def _family(prefix: str) -> Family:
    return IPV6_UNICAST if ":" in prefix else IPV4_UNICAST


@SETTINGS
@given(ops=operations)
def test_adj_rib_out_peer_converges_on_the_desired_table(
    ops: list[tuple[str, PathAttributes | None] | None],
) -> None:
    out = AdjRibOut()
    desired: dict[tuple[Family, str], PathAttributes] = {}
    peer_table: dict[tuple[Family, str], PathAttributes] = {}
    for op in [*ops, None]:
        if op is not None:
            prefix, attributes = op
            key = (_family(prefix), prefix)
            out.set(key[0], prefix, attributes)
            if attributes is None:
                desired.pop(key, None)
            else:
                desired[key] = attributes
            continue
        exports = out.flush()
        seen_announce = False
        for export in exports:
            assert not isinstance(export, EndOfRib)
            if isinstance(export, Withdraw):
                assert not seen_announce, "withdrawals come first"
                for prefix in export.prefixes:
                    assert peer_table.pop((export.family, prefix), None) is not None
            else:
                assert isinstance(export, Announce)
                seen_announce = True
                assert list(export.prefixes) == sorted(export.prefixes)
                for prefix in export.prefixes:
                    assert peer_table.get((export.family, prefix)) != export.attributes
                    peer_table[(export.family, prefix)] = export.attributes
        assert peer_table == desired
        assert not out.pending()
        assert out.count() == len(desired)
    for family in (IPV4_UNICAST, IPV6_UNICAST):
        resent = {
            (family, prefix): export.attributes
            for export in out.full_table(family)
            if isinstance(export, Announce)
            for prefix in export.prefixes
        }
        assert resent == {k: v for k, v in desired.items() if k[0] == family}
