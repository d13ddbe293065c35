"""The router's fast paths agree with the general methods they shortcut."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bgpemu.rib import AdjRibIn, AdjRibOut, DecisionConfig, LocRib
from bgpemu.rib.adj_rib_out import Announce, Withdraw
from bgpemu.rib.path import Path, _PathLayout, received_path
from bgpemu.types import IPV4_UNICAST
from bgpemu.wire.messages import PathAttributes
from tests.unit.rib.factories import attrs, peer, seq

P1 = peer("p1", 65001, "192.0.2.1")
P2 = peer("p2", 65002, "192.0.2.2")
A = attrs(seq(65001))
B = attrs(seq(65001, 65009))


def test_received_path_equals_the_dataclass_and_stays_frozen() -> None:
    fast = received_path(IPV4_UNICAST, "10.0.0.0/24", A, P1, 3, 7)
    slow = Path(
        family=IPV4_UNICAST, prefix="10.0.0.0/24", attributes=A, source=P1, path_id=3, arrival=7
    )
    assert type(fast) is Path
    assert fast == slow
    assert hash(fast) == hash(slow)
    assert (fast.weight, fast.igp_cost, fast.next_hop_reachable) == (0, 0, True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.prefix = "10.9.0.0/24"  # type: ignore[misc]


def test_bulk_receive_matches_set_and_skips_unchanged_routes() -> None:
    bulk, single = AdjRibIn(P1), AdjRibIn(P1)
    new = bulk.receive(IPV4_UNICAST, A, ["10.0.0.0/24", "10.0.1.0/24"], arrival=1)
    assert [p.prefix for p in new] == ["10.0.0.0/24", "10.0.1.0/24"]
    for path in new:
        single.set(path, path)
    for rib in (bulk, single):
        assert rib.post(IPV4_UNICAST, "10.0.1.0/24") == new[1]
        assert rib.pre(IPV4_UNICAST, "10.0.1.0/24") == new[1]
    # The same attributes again: nothing new; changed attributes: a new path.
    assert bulk.receive(IPV4_UNICAST, attrs(seq(65001)), ["10.0.0.0/24"], arrival=2) == []
    (changed,) = bulk.receive(IPV4_UNICAST, B, ["10.0.0.0/24"], arrival=3)
    assert changed.attributes == B
    assert bulk.count(IPV4_UNICAST, post=True) == 2


def test_received_path_builder_has_the_layout_of_path() -> None:
    # received_path turns its object into a Path (``__class__`` assignment), which
    # needs the very same slots: a field added to Path must be added there too.
    assert sorted(_PathLayout.__slots__) == sorted(Path.__slots__)


@given(
    st.lists(
        st.tuples(
            st.sampled_from([A, B, attrs(seq(65001))]),  # the last: equal to A, not A
            st.lists(st.sampled_from(["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]), max_size=5),
        ),
        max_size=6,
    )
)
def test_bulk_receive_equals_one_prefix_at_a_time(
    batches: list[tuple[PathAttributes, list[str]]],
) -> None:
    # receive() has a bulk path for batches of prefixes none of which is held (one
    # dict update); a prefix twice in a batch, or one already held, must end as the
    # general rule says: only a new or changed route gets a new path (RFC 4271 §9).
    bulk, single = AdjRibIn(P1), AdjRibIn(P1)
    for arrival, (attributes, prefixes) in enumerate(batches):
        new = bulk.receive(IPV4_UNICAST, attributes, prefixes, arrival)
        expected = []
        for prefix in prefixes:
            old = single.pre(IPV4_UNICAST, prefix)
            if old is not None and old.attributes == attributes:
                continue
            path = Path(
                family=IPV4_UNICAST,
                prefix=prefix,
                attributes=attributes,
                source=P1,
                arrival=arrival,
            )
            single.set(path, path)
            expected.append(path)
        assert new == expected
        assert all(type(path) is Path for path in new)
        assert all(bulk.post(IPV4_UNICAST, path.prefix) is path for path in new)  # held
        assert list(bulk.accepted(IPV4_UNICAST).items()) == list(
            single.accepted(IPV4_UNICAST).items()
        )


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]),
            st.sampled_from([A, B, None]),
        ),
        max_size=12,
    ),
    st.integers(0, 12),
)
def test_set_many_equals_set_in_order(ops: list[tuple[str, object]], cut: int) -> None:
    many, one = AdjRibOut(), AdjRibOut()
    for batch in (ops[:cut], ops[cut:]):
        many.set_many(IPV4_UNICAST, [p for p, _ in batch], [a for _, a in batch])  # type: ignore[misc]
        for prefix, attributes in batch:
            one.set(IPV4_UNICAST, prefix, attributes)  # type: ignore[arg-type]
        assert many.flush() == one.flush()


def test_recompute_and_best_paths_agree_with_update_and_entries() -> None:
    fast, slow = LocRib(DecisionConfig()), LocRib(DecisionConfig())
    p1 = received_path(IPV4_UNICAST, "10.0.0.0/24", A, P1, 0, 1)
    p2 = received_path(IPV4_UNICAST, "10.0.0.0/24", B, P2, 0, 2)
    for paths in ([p1], [p1, p2], [p2], []):
        result = fast.recompute(IPV4_UNICAST, "10.0.0.0/24", paths)
        change = slow.update(IPV4_UNICAST, "10.0.0.0/24", paths)
        if change is None:
            assert result is None
        else:
            assert result == (change.old, change.new)
        assert fast.get(IPV4_UNICAST, "10.0.0.0/24") == slow.get(IPV4_UNICAST, "10.0.0.0/24")
    fast.recompute(IPV4_UNICAST, "10.0.1.0/24", [p1])
    assert [(f, p, b) for f, p, b in fast.best_paths()] == [
        (f, p, d.best) for f, p, d in fast.entries()
    ]


A2 = attrs(seq(65001))  # equal to A, another object: merged into A's group


def _expected_flush(
    sent: dict[str, object], pending: dict[str, object]
) -> tuple[list[Withdraw | Announce], dict[str, object]]:
    """RFC 4271 §9.2 as the module documentation states it, written out apart: the
    withdrawals (sorted), then one Announce per distinct attribute set in first-seen
    order with its prefixes sorted; and the state the peer holds afterwards."""
    withdrawn = sorted(p for p, a in pending.items() if a is None)
    groups: dict[object, list[str]] = {}
    for prefix, attributes in pending.items():
        if attributes is not None:
            groups.setdefault(attributes, []).append(prefix)
    exports: list[Withdraw | Announce] = []
    if withdrawn:
        exports.append(Withdraw(family=IPV4_UNICAST, prefixes=tuple(withdrawn)))
    exports += [
        Announce(family=IPV4_UNICAST, attributes=a, prefixes=tuple(sorted(ps)))  # type: ignore[arg-type]
        for a, ps in groups.items()
    ]
    after = {p: a for p, a in {**sent, **pending}.items() if a is not None}
    return exports, after


@given(
    st.lists(
        st.lists(
            st.tuples(
                st.sampled_from(["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]),
                st.sampled_from([A, A2, B, None]),
            ),
            max_size=8,
        ),
        max_size=4,
    )
)
def test_set_many_and_flush_follow_the_documented_order(
    batches: list[list[tuple[str, object]]],
) -> None:
    # Batches of one attributes object (set_many's bulk path when nothing was sent),
    # of equal objects, of withdrawals: flush gives what the documentation says.
    rib = AdjRibOut()
    sent: dict[str, object] = {}
    for batch in batches:
        rib.set_many(IPV4_UNICAST, [p for p, _ in batch], [a for _, a in batch])  # type: ignore[misc]
        pending: dict[str, object] = {}
        for prefix, attributes in batch:
            # A change back to what the peer holds (or a withdrawal of what it never
            # held) drops the pending entry; any other is pending (in its first place).
            if sent.get(prefix) == attributes:
                pending.pop(prefix, None)
            else:
                pending[prefix] = attributes
        expected, sent = _expected_flush(sent, pending)
        assert rib.flush() == expected
        assert dict(rib.advertised(IPV4_UNICAST)) == sent
