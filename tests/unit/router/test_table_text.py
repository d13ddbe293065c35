"""loc_rib_text: each Loc-RIB entry's text, encoded once per group of entries that differ
only in their prefix, must be exactly the encoder's text of that entry's dict."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bgpemu.cli._json_stream import _encode
from bgpemu.rib.decision import Decision, DecisionConfig, Step
from bgpemu.rib.loc_rib import Entry, LocRib
from bgpemu.rib.path import LOCAL, Path, PeerInfo
from bgpemu.router.table import _PREFIX_MARK, loc_rib_json, loc_rib_text
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST, Family
from bgpemu.wire.messages import AsPathSegment, Origin, PathAttributes, SegmentType

_NAMES = ("e1", 'é\u2028"\\/\x00', "\U0001f600 r", _PREFIX_MARK, "")
"""Peer names: any unicode (escapes, a line separator, a quote, an astral character),
the marker itself (its group falls back to whole encoding) and an empty name."""

_PEERS = (
    LOCAL,
    PeerInfo(name="", asn=0, router_id="0.0.0.0", address="", local_asn=0),  # == LOCAL
    *(
        PeerInfo(name=name, asn=65001 + i, router_id=f"1.1.1.{i}", address="", local_asn=1)
        for i, name in enumerate(_NAMES)
    ),
)


def _attributes(i: int) -> PathAttributes:
    return PathAttributes(
        origin=Origin(i % 3),
        as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (65001, 65000 + i)),),
        next_hop=f"10.0.0.{i}",
        med=None if i % 2 else i,
        local_pref=100 + i,
        communities=(i << 16 | 1,),
        large_communities=((i, 2, 3),),
    )


# Two equal attributes objects that are not the same object (groups are by identity).
_ATTRIBUTES = (_attributes(1), _attributes(2), _attributes(2), _attributes(3))
_ENCODERS: tuple[Callable[[Any], str], ...] = (
    lambda value: json.dumps(value, indent=2),
    lambda value: _encode(value, "\n      "),
)


@st.composite
def _entries(draw: st.DrawFn) -> list[tuple[Family, str, Decision]]:
    paths = st.builds(
        lambda a, s: (a, s),
        st.sampled_from(range(len(_ATTRIBUTES))),
        st.sampled_from(range(len(_PEERS))),
    )
    count = draw(st.integers(0, 30))
    entries = []
    for n in range(count):
        family = draw(st.sampled_from((IPV4_UNICAST, IPV6_UNICAST)))
        prefix = draw(st.sampled_from((f"10.{n}.0.0/16", _PREFIX_MARK, "é\u2028", "2001:db8::/32")))
        chosen = draw(st.lists(paths, min_size=0, max_size=3))
        made = tuple(
            Path(family=family, prefix=prefix, attributes=_ATTRIBUTES[a], source=_PEERS[s])
            for a, s in chosen
        )
        best = made[0] if made else None
        multipath = made if draw(st.booleans()) else made[:1]
        entries.append((family, prefix, Decision(best, multipath, draw(st.sampled_from(Step)))))
    return entries


@settings(max_examples=200, deadline=None)
@given(entries=_entries(), which=st.sampled_from(range(len(_ENCODERS))))
def test_text_is_the_encoded_entries(
    entries: list[tuple[Family, str, Decision]], which: int
) -> None:
    encode = _ENCODERS[which]
    expected = [encode(entry) for entry in loc_rib_json(entries)]
    assert list(loc_rib_text(entries, encode)) == expected


def test_entries_sharing_attributes_and_peer_are_encoded_once() -> None:
    source = _PEERS[2]
    entries = [
        (IPV4_UNICAST, f"10.{n}.0.0/16", Decision(path, (path,), Step.ONLY_PATH))
        for n in range(50)
        for path in [
            Path(
                family=IPV4_UNICAST,
                prefix=f"10.{n}.0.0/16",
                attributes=_ATTRIBUTES[0],
                source=source,
            )
        ]
    ]
    calls: list[object] = []

    def encode(value: Any) -> str:
        calls.append(value)
        return json.dumps(value, indent=2)

    text = list(loc_rib_text(entries, encode))
    assert text == [json.dumps(entry, indent=2) for entry in loc_rib_json(entries)]
    dicts = [value for value in calls if isinstance(value, dict)]
    assert len(dicts) == 1  # one entry encoded; the other 49 are its text around a prefix


@settings(max_examples=200, deadline=None)
@given(entries=_entries(), which=st.sampled_from(range(len(_ENCODERS))))
def test_a_sole_path_stands_for_its_only_path_decision(
    entries: list[tuple[Family, str, Decision]], which: int
) -> None:
    """Entries as the Loc-RIB stores them (``LocRib.stored_entries``: a sole path for its
    ONLY_PATH Decision, which solve no longer builds) give the same text."""
    encode = _ENCODERS[which]
    stored: list[tuple[Family, str, Entry]] = [
        (family, prefix, decision.best)
        if decision.reason is Step.ONLY_PATH
        and decision.best is not None
        and decision.multipath == (decision.best,)
        else (family, prefix, decision)
        for family, prefix, decision in entries
    ]
    mixed = [*stored, *entries]  # a path and its decision: two groups, one text
    expected = [encode(entry) for entry in loc_rib_json(entries)]
    assert list(loc_rib_text(stored, encode)) == expected
    assert list(loc_rib_text(mixed, encode)) == expected + expected


def test_stored_entries_of_a_loc_rib_give_its_table_text() -> None:
    loc_rib = LocRib(DecisionConfig(max_paths=2))
    for n in range(20):
        prefix = f"10.{n}.0.0/16"
        candidates = [
            Path(
                family=IPV4_UNICAST, prefix=prefix, attributes=_ATTRIBUTES[i], source=_PEERS[2 + i]
            )
            for i in range(1 + n % 3)
        ]
        loc_rib.update(IPV4_UNICAST, prefix, candidates)
    encode = _ENCODERS[1]
    assert any(type(entry) is Path for _, _, entry in loc_rib.stored_entries())
    assert any(type(entry) is Decision for _, _, entry in loc_rib.stored_entries())
    expected = [encode(entry) for entry in loc_rib_json(loc_rib.entries())]
    assert list(loc_rib_text(loc_rib.stored_entries(), encode)) == expected
