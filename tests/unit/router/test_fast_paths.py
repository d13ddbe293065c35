"""The router's bulk fast paths agree with the general ones.

* A prefix that had no candidate is decided during the import (``Router._import``);
  with ``_predecide`` off the router takes the general path instead.  Both must
  produce identical outputs and tables.
* Several UPDATEs applied in one call (``updates_received``) end in the same state
  as one call each, and report the net change of each prefix.
* Candidates held only implicitly by the Loc-RIB (``CandidateTable``) must give the
  decision the Adj-RIBs-In imply, checked against a fresh :class:`LocRib` fed from them.
* :class:`RouterOutput` builds its observations lazily; they equal the eager ones.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgpemu.policy.base import PolicyContext
from bgpemu.policy.max_prefix import MaxPrefix
from bgpemu.rib import LocRib
from bgpemu.rib.decision import DecisionConfig
from bgpemu.rib.loc_rib import decision_of
from bgpemu.rib.path import Path
from bgpemu.router import (
    Announce,
    BestPathChanged,
    NeighborPolicy,
    OriginatedRoute,
    Router,
    RouterOutput,
)
from bgpemu.router.outputs import best_path_changed
from bgpemu.types import IPV4_UNICAST
from bgpemu.wire.messages import Update

from .test_core import PEERS, announce, make_router

PREFIXES = ("10.1.0.0/24", "10.2.0.0/24", "10.3.0.0/24", "10.4.0.0/24")
DECISION = DecisionConfig(max_paths=2)


def _odd_import(path: Path, context: PolicyContext) -> Path | None:
    """e2's import policy: MED 2 rejected, MED 3 made unreachable, the rest accepted."""
    med = path.attributes.med
    if med == 2:
        return None
    if med == 3:
        return dataclasses.replace(path, next_hop_reachable=False)
    return path


def _router(general: bool = False, limit: int | None = None) -> Router:
    cap = None if limit is None else MaxPrefix(limit=limit)
    neighbors = [NeighborPolicy(name=name, max_prefix=cap) for name in ("e1", "i1", "i2")]
    neighbors.append(NeighborPolicy(name="e2", max_prefix=cap, import_policy=_odd_import))
    router = make_router(*neighbors, decision=DECISION)
    router._predecide = not general
    return router


# One step: ("a", peer, AS_PATH tail, MED, prefixes) announce; ("w", peer, prefixes)
# withdraw; ("o", prefix) originate; ("x", prefix) stop originating.
announces = st.tuples(
    st.just("a"),
    st.sampled_from(sorted(PEERS)),
    st.lists(st.integers(65010, 65012), max_size=2),
    st.none() | st.integers(0, 3),
    st.lists(st.sampled_from(PREFIXES), min_size=1, max_size=4),
)
withdraws = st.tuples(
    st.just("w"),
    st.sampled_from(sorted(PEERS)),
    st.lists(st.sampled_from(PREFIXES), min_size=1, max_size=3),
)
locals_ = st.tuples(st.sampled_from(["o", "x"]), st.sampled_from(PREFIXES))
steps = st.lists(st.one_of(announces, withdraws, locals_), min_size=1, max_size=12)


def _update_of(step: tuple[object, ...]) -> tuple[str, Update] | None:
    """The (peer, UPDATE) of an announce or withdraw step; None for the others."""
    kind = step[0]
    if kind == "a":
        _, peer, tail, med, prefixes = step
        assert isinstance(peer, str)
        assert isinstance(tail, list)
        assert isinstance(prefixes, list)
        info = PEERS[peer]
        asns = tuple(tail) if info.ibgp else (info.asn, *tail)
        return peer, announce(*asns, med=med, prefixes=tuple(prefixes))
    if kind == "w":
        _, peer, prefixes = step
        assert isinstance(peer, str)
        assert isinstance(prefixes, list)
        return peer, Update(withdrawn=tuple(prefixes))
    return None


def _step(router: Router, step: tuple[object, ...], now: float) -> RouterOutput:
    kind = step[0]
    if kind == "a":
        _, peer, tail, med, prefixes = step
        assert isinstance(peer, str)
        assert isinstance(tail, list)
        assert isinstance(prefixes, list)
        info = PEERS[peer]
        asns = tuple(tail) if info.ibgp else (info.asn, *tail)
        update = announce(*asns, med=med, prefixes=tuple(prefixes))
        return router.update_received(peer, update, now)
    if kind == "w":
        _, peer, prefixes = step
        assert isinstance(peer, str)
        assert isinstance(prefixes, list)
        return router.update_received(peer, Update(withdrawn=tuple(prefixes)), now)
    prefix = step[1]
    assert isinstance(prefix, str)
    if kind == "o":
        return router.originate(OriginatedRoute(prefix=prefix, family=IPV4_UNICAST), now)
    return router.withdraw_originated(IPV4_UNICAST, prefix, now)


def _implied(router: Router) -> dict[str, object]:
    """The decision of every prefix recomputed from the Adj-RIBs-In and local routes."""
    oracle = LocRib(DECISION)
    local = {p: best for f, p, best in router.loc_rib.best_paths() if best.source.name == ""}
    for prefix in PREFIXES:
        candidates = []
        for name in router.peers():
            rib = router.adj_rib_in(name)
            assert rib is not None
            path = rib.post(IPV4_UNICAST, prefix)
            if path is not None:
                candidates.append(path)
        originated = (IPV4_UNICAST, prefix) in router._originated
        if originated:
            candidates.append(local.get(prefix) or _local_candidate(router, prefix))
        oracle.update(IPV4_UNICAST, prefix, candidates)
    return {p: oracle.get(IPV4_UNICAST, p) for p in PREFIXES}


def _local_candidate(router: Router, prefix: str) -> Path:
    """The router's local path for ``prefix`` when it is not the best one."""
    paths = router._table(IPV4_UNICAST).paths(prefix)
    (local,) = [p for p in paths if p.source.name == ""]
    return local


@settings(max_examples=150, deadline=None)
@given(batch=steps)
def test_decided_on_import_equals_the_general_path(batch: list[tuple[object, ...]]) -> None:
    fast, general = _router(general=False), _router(general=True)
    for now, step in enumerate(batch):
        out_fast = _step(fast, step, float(now))
        out_general = _step(general, step, float(now))
        assert out_fast == out_general
        assert fast.table() == general.table()


@settings(max_examples=150, deadline=None)
@given(batch=steps)
def test_implicit_candidates_give_the_decision_the_ribs_imply(
    batch: list[tuple[object, ...]],
) -> None:
    router = _router(general=False)
    for now, step in enumerate(batch):
        _step(router, step, float(now))
        implied = _implied(router)
        assert {p: router.loc_rib.get(IPV4_UNICAST, p) for p in PREFIXES} == implied


def test_bulk_update_is_decided_on_import_and_reported_in_prefix_order() -> None:
    router = make_router()
    prefixes = ("10.0.10.0/24", "10.0.9.0/24", "10.0.1.0/24")
    out = router.update_received("e1", announce(65001, prefixes=prefixes), 0.0)
    assert [c.prefix for c in out.changes] == sorted(prefixes)
    for change in out.changes:
        assert change.old is None
        assert change.new is not None
        assert change.new == decision_of(router.loc_rib.best(IPV4_UNICAST, change.prefix))
    assert "e1" not in out.exports  # never back to the source, and nothing to withdraw
    (sent,) = out.exports["e2"]
    assert isinstance(sent, Announce)
    assert sent.prefixes == tuple(sorted(prefixes))


def test_lazy_changes_equal_eager_ones_and_keep_order() -> None:
    router = make_router()
    router.update_received("e1", announce(65001, prefixes=("10.1.0.0/24",)), 0.0)
    path = router.loc_rib.best(IPV4_UNICAST, "10.1.0.0/24")
    assert path is not None
    eager = best_path_changed(IPV4_UNICAST, "10.9.0.0/24", None, decision_of(path))
    out = RouterOutput(changes=[eager])
    assert not out.empty()
    lazy = RouterOutput()
    assert lazy.empty()
    lazy.add_changes(IPV4_UNICAST, ["10.1.0.0/24"], [None], [path])
    assert not lazy.empty()
    out.extend(lazy)
    second = RouterOutput()
    second.add_changes(IPV4_UNICAST, ["10.2.0.0/24"], [path], [None])
    out.extend(second)
    expected = [
        eager,
        BestPathChanged(IPV4_UNICAST, "10.1.0.0/24", None, decision_of(path)),
        BestPathChanged(IPV4_UNICAST, "10.2.0.0/24", decision_of(path), None),
    ]
    assert out.changes == expected
    assert out == RouterOutput(changes=list(expected))
    assert out != RouterOutput()
    assert "10.2.0.0/24" in repr(out)


@settings(max_examples=150, deadline=None)
@given(
    before=steps,
    peer=st.sampled_from(sorted(PEERS)),
    batch=st.lists(st.one_of(announces, withdraws), min_size=1, max_size=8),
    limit=st.none() | st.integers(1, 4),
)
def test_a_batch_of_updates_ends_like_one_call_each(
    before: list[tuple[object, ...]],
    peer: str,
    batch: list[tuple[object, ...]],
    limit: int | None,
) -> None:
    one, many = _router(limit=limit), _router(limit=limit)
    for now, step in enumerate(before):
        _step(one, step, float(now))
        _step(many, step, float(now))
    updates = []
    for step in batch:
        found = _update_of(step)
        assert found is not None
        updates.append(found[1])  # all from one peer: the batch of one session
    start = {p: one.loc_rib.get(IPV4_UNICAST, p) for p in PREFIXES}
    resets = []
    for update in updates:
        resets.extend(one.update_received(peer, update, 99.0).resets)
    out = many.updates_received(peer, updates, 99.0)
    assert out.resets == resets[:1]
    assert one.table() == many.table()
    for name in PEERS:
        rib_one, rib_many = one.adj_rib_out(name), many.adj_rib_out(name)
        assert (rib_one is None) == (rib_many is None)
        if rib_one is not None and rib_many is not None:
            for prefix in PREFIXES:
                assert rib_one.sent(IPV4_UNICAST, prefix) == rib_many.sent(IPV4_UNICAST, prefix)
    # The batch reports each prefix's net change, once.
    end = {p: one.loc_rib.get(IPV4_UNICAST, p) for p in PREFIXES}
    net = [
        BestPathChanged(IPV4_UNICAST, p, start[p], end[p])
        for p in sorted(PREFIXES)
        if start[p] != end[p]
    ]
    assert out.changes == net


lone_steps = st.lists(
    st.one_of(
        announces.filter(lambda step: step[1] == "e1"),
        withdraws.filter(lambda step: step[1] == "e1"),
        locals_,
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=100, deadline=None)
@given(batch=lone_steps)
def test_a_lone_peer_gets_from_the_fast_path_what_the_general_one_sends(
    batch: list[tuple[object, ...]],
) -> None:
    """With one established peer, its own paths decided on import skip the fan-out (they
    would only go back to it); the outputs and tables stay those of the general path."""
    fast = make_router(decision=DECISION, up=("e1",))
    general = make_router(decision=DECISION, up=("e1",))
    general._predecide = False
    for now, step in enumerate(batch):
        out_fast = _step(fast, step, float(now))
        out_general = _step(general, step, float(now))
        assert out_fast == out_general
        assert fast.table() == general.table()


def test_paths_only_their_source_could_get_are_not_fanned_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A router whose one peer is the source of a batch's new paths (a vWAN branch and its
    hub) builds no export run for them: RFC 4271 §9.1.3 sends nothing back to the source,
    and a prefix decided on import had no best path to withdraw."""
    from bgpemu.router import fanout

    added: list[str] = []
    original = fanout.Runs.add

    def counting(self: fanout.Runs, prefix: str, old: Path | None, new: Path | None) -> None:
        added.append(prefix)
        original(self, prefix, old, new)

    monkeypatch.setattr(fanout.Runs, "add", counting)
    lone = make_router(up=("e1",))
    out = lone.update_received("e1", announce(65001, prefixes=PREFIXES), 0.0)
    assert [c.prefix for c in out.changes] == sorted(PREFIXES)
    assert not out.exports
    assert added == []
    two = make_router(up=("e1", "e2"))
    out = two.update_received("e1", announce(65001, prefixes=PREFIXES), 0.0)
    assert added == sorted(PREFIXES)  # e2 gets them
    (sent,) = out.exports["e2"]
    assert isinstance(sent, Announce)
