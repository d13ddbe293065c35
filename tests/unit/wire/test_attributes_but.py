"""``PathAttributes.but`` and ``Path.but`` are ``dataclasses.replace``, only faster."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bgpemu.rib.path import Path, PeerInfo, _PathLayout
from bgpemu.types import IPV4_UNICAST
from bgpemu.wire.messages import (
    Aggregator,
    AsPathSegment,
    Origin,
    PathAttributes,
    SegmentType,
    UnknownAttribute,
    _AttributesLayout,
)

_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "origin": st.none() | st.sampled_from(Origin),
    "as_path": st.lists(
        st.builds(
            AsPathSegment,
            st.sampled_from(SegmentType),
            st.lists(st.integers(1, 2**32 - 1), max_size=3).map(tuple),
        ),
        max_size=2,
    ).map(tuple),
    "next_hop": st.none() | st.sampled_from(["192.0.2.1", "2001:db8::1"]),
    "med": st.none() | st.integers(0, 2**32 - 1),
    "local_pref": st.none() | st.integers(0, 2**32 - 1),
    "atomic_aggregate": st.booleans(),
    "aggregator": st.none() | st.builds(Aggregator, st.integers(1, 9), st.just("192.0.2.9")),
    "communities": st.lists(st.integers(0, 2**32 - 1), max_size=3).map(tuple),
    "originator_id": st.none() | st.just("192.0.2.7"),
    "cluster_list": st.lists(st.sampled_from(["1.1.1.1", "2.2.2.2"]), max_size=2).map(tuple),
    "extended_communities": st.lists(st.binary(min_size=8, max_size=8), max_size=2).map(tuple),
    "large_communities": st.lists(
        st.tuples(st.integers(0, 9), st.integers(0, 9), st.integers(0, 9)), max_size=2
    ).map(tuple),
    "unknown": st.lists(
        st.builds(UnknownAttribute, st.just(0xC0), st.integers(100, 200), st.binary(max_size=4)),
        max_size=1,
    ).map(tuple),
}
attributes = st.fixed_dictionaries({}, optional=_FIELDS).map(lambda kw: PathAttributes(**kw))
changes = st.fixed_dictionaries({}, optional=_FIELDS)


def test_the_layouts_are_those_of_the_dataclasses() -> None:
    # ``but`` turns its object into the dataclass (``__class__`` assignment), which
    # needs the very same slots: a field added to the dataclass must be added there.
    assert sorted(_AttributesLayout.__slots__) == sorted(PathAttributes.__slots__)
    assert sorted(_PathLayout.__slots__) == sorted(Path.__slots__)


@given(attributes, changes)
def test_attributes_but_is_replace(before: PathAttributes, change: dict[str, Any]) -> None:
    fast = before.but(**change)
    slow = dataclasses.replace(before, **change)
    assert type(fast) is PathAttributes
    assert fast == slow
    assert hash(fast) == hash(slow)
    assert before == dataclasses.replace(before)  # unchanged
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.med = 1  # type: ignore[misc]


_PEER = PeerInfo(name="p", asn=65001, router_id="192.0.2.1", address="192.0.2.1", local_asn=65000)


@given(
    attributes,
    attributes,
    st.fixed_dictionaries(
        {},
        optional={
            "prefix": st.sampled_from(["10.0.0.0/24", "10.1.0.0/16"]),
            "path_id": st.integers(0, 3),
            "weight": st.integers(0, 9),
            "igp_cost": st.integers(0, 9),
            "next_hop_reachable": st.booleans(),
            "arrival": st.integers(0, 9),
        },
    ),
    st.booleans(),
)
def test_path_but_is_replace(
    received: PathAttributes, other: PathAttributes, change: dict[str, Any], new_attributes: bool
) -> None:
    before = Path(
        family=IPV4_UNICAST,
        prefix="10.9.0.0/24",
        attributes=received,
        source=_PEER,
        path_id=1,
        weight=2,
        igp_cost=3,
        next_hop_reachable=False,
        arrival=4,
    )
    if new_attributes:
        change = {**change, "attributes": other}
    fast = before.but(**change)
    slow = dataclasses.replace(before, **change)
    assert type(fast) is Path
    assert fast == slow
    assert hash(fast) == hash(slow)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.weight = 1  # type: ignore[misc]
