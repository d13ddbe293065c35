"""Hypothesis properties of the routing Router: order independence, idempotence, reversal."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bgpemu.rib.decision import DecisionConfig
from bgpemu.router.core import Router
from bgpemu.types import IPV4_UNICAST
from bgpemu.wire.messages import Update

from .test_core import PEERS, announce, make_router

PREFIXES = ("10.1.0.0/24", "10.2.0.0/24", "10.3.0.0/24")

# One UPDATE: (peer, AS_PATH tail after the peer's own ASN, MED, prefixes).
updates = st.tuples(
    st.sampled_from(sorted(PEERS)),
    st.lists(st.integers(65010, 65013), max_size=3),
    st.none() | st.integers(0, 3),
    st.lists(st.sampled_from(PREFIXES), min_size=1, max_size=3, unique=True),
)


def _update(peer: str, tail: list[int], med: int | None, prefixes: list[str]) -> Update:
    info = PEERS[peer]
    asns = tuple(tail) if info.ibgp else (info.asn, *tail)
    return announce(*asns, med=med, prefixes=tuple(prefixes))


def _router() -> Router:
    return make_router(decision=DecisionConfig(max_paths=3, multipath_relax=True))


def _apply(router: Router, batch: list[tuple[str, list[int], int | None, list[str]]]) -> None:
    for now, item in enumerate(batch):
        router.update_received(item[0], _update(*item), float(now))


def _last_per_peer_and_prefix(
    batch: list[tuple[str, list[int], int | None, list[str]]],
) -> list[tuple[str, list[int], int | None, list[str]]]:
    """Per (peer, prefix) only the last announcement counts: keep one UPDATE per pair."""
    last: dict[tuple[str, str], tuple[str, list[int], int | None, list[str]]] = {}
    for peer, tail, med, prefixes in batch:
        for prefix in prefixes:
            last[(peer, prefix)] = (peer, tail, med, [prefix])
    return list(last.values())


def _advertised(router: Router) -> dict[str, list[object]]:
    """What every peer has been sent, per prefix."""
    result: dict[str, list[object]] = {}
    for name in PEERS:
        out = router.adj_rib_out(name)
        assert out is not None
        result[name] = [out.sent(IPV4_UNICAST, p) for p in PREFIXES]
    return result


@settings(max_examples=60, deadline=None)
@given(batch=st.lists(updates, min_size=1, max_size=8), data=st.data())
def test_converged_loc_rib_independent_of_arrival_order(
    batch: list[tuple[str, list[int], int | None, list[str]]], data: st.DataObject
) -> None:
    final = _last_per_peer_and_prefix(batch)
    shuffled = data.draw(st.permutations(final))
    one, two = _router(), _router()
    _apply(one, final)
    _apply(two, list(shuffled))
    assert one.table() == two.table()
    for name in PEERS:
        out_one, out_two = one.adj_rib_out(name), two.adj_rib_out(name)
        assert out_one is not None
        assert out_two is not None
        for prefix in PREFIXES:
            assert out_one.sent(IPV4_UNICAST, prefix) == out_two.sent(IPV4_UNICAST, prefix)


@settings(max_examples=60, deadline=None)
@given(batch=st.lists(updates, min_size=1, max_size=8))
def test_same_update_twice_changes_nothing(
    batch: list[tuple[str, list[int], int | None, list[str]]],
) -> None:
    router = _router()
    _apply(router, batch)
    before = router.table()
    peer, tail, med, prefixes = batch[-1]
    assert router.update_received(peer, _update(peer, tail, med, prefixes), 99.0).empty()
    assert router.table() == before


@settings(max_examples=60, deadline=None)
@given(batch=st.lists(updates, max_size=6), extra=updates)
def test_announce_then_withdraw_restores_the_previous_best(
    batch: list[tuple[str, list[int], int | None, list[str]]],
    extra: tuple[str, list[int], int | None, list[str]],
) -> None:
    peer, tail, med, prefixes = extra
    router = _router()
    _apply(router, batch)
    # Start from a state where ``peer`` has no path for these prefixes.
    router.update_received(peer, Update(withdrawn=tuple(prefixes)), 50.0)
    before = router.table()
    sent_before = _advertised(router)
    router.update_received(peer, _update(peer, tail, med, prefixes), 51.0)
    router.update_received(peer, Update(withdrawn=tuple(prefixes)), 52.0)
    assert router.table() == before
    assert _advertised(router) == sent_before
