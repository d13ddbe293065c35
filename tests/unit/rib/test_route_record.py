"""rib.route.route_record: the fast builder of the route record equals the dataclass."""

from __future__ import annotations

import dataclasses
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bgpemu.rib.route import ATTRIBUTE_FIELDS, RibRoute, _BuiltRoute, route_record

_TEXT = st.none() | st.text(max_size=8)
_VALUES = st.tuples(
    _TEXT,
    st.tuples(st.integers(0, 2**32 - 1)),
    _TEXT,
    st.none() | st.integers(0, 2**32 - 1),
    st.none() | st.integers(0, 2**32 - 1),
    st.tuples(st.text(max_size=8)),
    st.tuples(st.text(max_size=8)),
)


@given(
    values=_VALUES,
    peer=_TEXT,
    weight=st.integers(0, 65535),
    best=st.booleans(),
    multipath=st.booleans(),
    reason=_TEXT,
)
def test_route_record_is_the_dataclass(
    values: tuple[object, ...],
    peer: str | None,
    weight: int,
    best: bool,
    multipath: bool,
    reason: str | None,
) -> None:
    fast = route_record(
        "10.0.0.0/24",
        "ipv4-unicast",
        values,  # type: ignore[arg-type]
        peer,
        weight,
        best,
        multipath,
        reason,
    )
    slow = RibRoute(
        prefix="10.0.0.0/24",
        family="ipv4-unicast",
        **dict(zip(ATTRIBUTE_FIELDS, values, strict=True)),  # type: ignore[arg-type]
        peer=peer,
        weight=weight,
        best=best,
        multipath=multipath,
        reason=reason,
    )
    assert type(fast) is RibRoute
    assert fast == slow
    assert hash(fast) == hash(slow)
    assert dataclasses.asdict(fast) == dataclasses.asdict(slow)
    assert pickle.loads(pickle.dumps(fast)) == slow


def test_route_record_stays_frozen() -> None:
    record = route_record(
        "10.0.0.0/24",
        "ipv4-unicast",
        (None, (), None, None, None, (), ()),
        None,
        0,
        False,
        False,
        None,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.prefix = "10.9.0.0/24"  # type: ignore[misc]


def test_route_record_builder_has_the_layout_of_the_record() -> None:
    # route_record turns its object into a RibRoute (``__class__`` assignment), which
    # needs the very same slots: a field added to RibRoute must be added there too.
    assert sorted(_BuiltRoute.__slots__) == sorted(RibRoute.__slots__)
    assert sorted(_BuiltRoute.__slots__) == sorted(f.name for f in dataclasses.fields(RibRoute))
