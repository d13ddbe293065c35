"""loc_rib_text: each Loc-RIB entry's text, encoded once per group of entries that differ
only in their prefix (once per report with an EntryTexts), must be exactly the encoder's
text of that entry's dict, written in pieces of whole entries."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bgpemu.cli._json_stream import _encode, json_chunks
from bgpemu.cli._solve_split import loc_rib_array
from bgpemu.rib.decision import Decision, DecisionConfig, Step
from bgpemu.rib.loc_rib import Entry, LocRib
from bgpemu.rib.path import LOCAL, Path, PeerInfo
from bgpemu.router.config import OriginatedRoute
from bgpemu.router.core import Router
from bgpemu.router.table import _PREFIX_MARK, EntryTexts, loc_rib_json, loc_rib_text
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST, Family
from bgpemu.wire.messages import AsPathSegment, Origin, PathAttributes, SegmentType, Update
from tests.unit.router.test_core import PEERS, make_router, seq

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
    # Named like the first peer, another neighbour: the same text for its paths.
    PeerInfo(name=_NAMES[0], asn=65099, router_id="1.1.1.99", address="", local_asn=1),
    # Named "" but not LOCAL: its paths' peer is "", not null.
    PeerInfo(name="", asn=65098, router_id="1.1.1.98", address="", local_asn=1),
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
_ENCODERS: tuple[tuple[Callable[[Any], str], str], ...] = (
    (lambda value: json.dumps(value, indent=2), ",\n  "),
    (lambda value: _encode(value, "\n      "), ",\n      "),
    (lambda value: _encode(value, "\n  "), ",\n      "),
    (lambda value: _encode(value, "\n  "), '\u2028 é "'),
)
"""Encoders at three depths and the separator of their array items, or another one
(two layouts with one separator and different indentations)."""


def _text(
    entries: Sequence[tuple[Family, str, Entry]],
    expected: list[str],
    encode: Callable[[Any], str],
    separator: str,
    texts: EntryTexts | None = None,
) -> str:
    """loc_rib_text's pieces joined, each piece checked to be whole entries of
    ``expected`` (the entries' texts), in their order, all of them."""
    pieces = list(loc_rib_text(entries, encode, separator, texts))
    taken = 0
    for piece in pieces:
        ends = [
            end
            for end in range(taken + 1, len(expected) + 1)
            if separator.join(expected[taken:end]) == piece
        ]
        assert ends, f"{piece!r} is not whole entries from entry {taken}"
        taken = ends[0]
    assert taken == len(expected)
    return separator.join(pieces)


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
    encode, separator = _ENCODERS[which]
    expected = [encode(entry) for entry in loc_rib_json(entries)]
    assert _text(entries, expected, encode, separator) == separator.join(expected)


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

    expected = [json.dumps(entry, indent=2) for entry in loc_rib_json(entries)]
    assert _text(entries, expected, encode, ",") == ",".join(expected)
    dicts = [value for value in calls if isinstance(value, dict)]
    assert len(dicts) == 1  # one entry encoded; the other 49 are its text around a prefix


@settings(max_examples=200, deadline=None)
@given(entries=_entries(), which=st.sampled_from(range(len(_ENCODERS))))
def test_a_sole_path_stands_for_its_only_path_decision(
    entries: list[tuple[Family, str, Decision]], which: int
) -> None:
    """Entries as the Loc-RIB stores them (``LocRib.stored_entries``: a sole path for its
    ONLY_PATH Decision, which solve no longer builds) give the same text."""
    encode, separator = _ENCODERS[which]
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
    assert _text(stored, expected, encode, separator) == separator.join(expected)
    both = expected + expected
    assert _text(mixed, both, encode, separator) == separator.join(both)


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
    encode, separator = _ENCODERS[1]
    stored = list(loc_rib.stored_entries())
    assert any(type(entry) is Path for _, _, entry in stored)
    assert any(type(entry) is Decision for _, _, entry in stored)
    expected = [encode(entry) for entry in loc_rib_json(loc_rib.entries())]
    assert _text(stored, expected, encode, separator) == separator.join(expected)


_PREFIXES = ("10.0.0.0/16", "10.1.0.0/16", "é\u2028", _PREFIX_MARK, '"', "2001:db8::/32")
"""Prefixes, some of them escaped in JSON (the text is right for any string)."""


@st.composite
def _runs(draw: st.DrawFn) -> list[tuple[Family, str, Path]]:
    """Sole paths as a Loc-RIB stores them, in runs of one family, attributes object and
    source (the prefixes in any order, some escaped, a prefix more than once)."""
    entries = []
    for _ in range(draw(st.integers(0, 6))):
        family = draw(st.sampled_from((IPV4_UNICAST, IPV6_UNICAST)))
        attributes = _ATTRIBUTES[draw(st.sampled_from(range(len(_ATTRIBUTES))))]
        source = _PEERS[draw(st.sampled_from(range(len(_PEERS))))]
        for prefix in draw(st.lists(st.sampled_from(_PREFIXES), min_size=1, max_size=5)):
            path = Path(family=family, prefix=prefix, attributes=attributes, source=source)
            entries.append((family, prefix, path))
    return entries


@settings(max_examples=200, deadline=None)
@given(entries=_runs(), which=st.sampled_from(range(len(_ENCODERS))), shared=st.booleans())
def test_runs_of_sole_paths_are_their_entries(
    entries: list[tuple[Family, str, Path]], which: int, shared: bool
) -> None:
    """A run of sole paths, written at once, is its entries' texts: prefixes with and
    without escapes, a family change within the same attributes object and source."""
    encode, separator = _ENCODERS[which]
    decisions = [
        (family, prefix, Decision(path, (path,), Step.ONLY_PATH))
        for family, prefix, path in entries
    ]
    expected = [encode(entry) for entry in loc_rib_json(decisions)]
    texts = EntryTexts() if shared else None
    stored: list[tuple[Family, str, Entry]] = list(entries)
    assert _text(stored, expected, encode, separator, texts) == separator.join(expected)


def test_a_large_table_is_written_in_pieces_of_whole_entries() -> None:
    """More entries than one piece takes: several pieces, each whole entries."""
    encode, separator = _ENCODERS[1]
    paths = [
        Path(
            family=IPV4_UNICAST,
            prefix=f"10.{n // 256}.{n % 256}.0/24",
            attributes=_ATTRIBUTES[(n // 7) % len(_ATTRIBUTES)],  # runs of 7 and of 14
            source=_PEERS[2],
        )
        for n in range(1000)
    ]
    stored: list[tuple[Family, str, Entry]] = [(IPV4_UNICAST, p.prefix, p) for p in paths]
    decisions = [(IPV4_UNICAST, p.prefix, Decision(p, (p,), Step.ONLY_PATH)) for p in paths]
    expected = [encode(entry) for entry in loc_rib_json(decisions)]
    assert _text(stored, expected, encode, separator) == separator.join(expected)
    assert len(list(loc_rib_text(stored, encode, separator))) > 2


def test_a_family_change_ends_a_run() -> None:
    encode, separator = _ENCODERS[1]
    path = Path(family=IPV4_UNICAST, prefix="p", attributes=_ATTRIBUTES[0], source=_PEERS[2])
    stored: list[tuple[Family, str, Entry]] = [
        (IPV4_UNICAST, "10.0.0.0/16", path),
        (IPV6_UNICAST, "2001:db8::/32", path),
        (IPV6_UNICAST, "é", path),
    ]
    decisions = [(f, p, Decision(path, (path,), Step.ONLY_PATH)) for f, p, _ in stored]
    expected = [encode(entry) for entry in loc_rib_json(decisions)]
    assert _text(stored, expected, encode, separator) == separator.join(expected)
    assert '"family": "ipv6-unicast"' in expected[1]


@settings(max_examples=150, deadline=None)
@given(
    tables=st.lists(_entries(), min_size=1, max_size=4),
    which=st.lists(st.sampled_from(range(len(_ENCODERS))), min_size=4, max_size=4),
)
def test_tables_of_one_report_share_group_texts(
    tables: list[list[tuple[Family, str, Decision]]], which: list[int]
) -> None:
    """One EntryTexts for the tables of a report: each table's text is still its own,
    whatever the encoders (layouts) the tables are written with, the equal attributes
    objects and the peers of the same name that the tables share."""
    texts = EntryTexts()
    for entries, chosen in zip(tables, which, strict=False):
        encode, separator = _ENCODERS[chosen]
        expected = [encode(entry) for entry in loc_rib_json(entries)]
        assert _text(entries, expected, encode, separator, texts) == separator.join(expected)


def test_a_report_encodes_a_text_once_for_all_its_tables() -> None:
    """Two tables whose paths have equal attributes (not the same object) from peers of
    the same name (not the same PeerInfo): one group encoded for the two."""
    first, second = _ATTRIBUTES[1], _ATTRIBUTES[2]
    assert first == second
    assert first is not second
    calls: list[object] = []

    def encode(value: Any) -> str:
        calls.append(value)
        return json.dumps(value, indent=2)

    texts = EntryTexts()
    for attributes, source in ((first, _PEERS[2]), (second, _PEERS[-2])):
        paths = [
            Path(family=IPV4_UNICAST, prefix=prefix, attributes=attributes, source=source)
            for prefix in ("10.0.0.0/16", "10.1.0.0/16")
        ]
        stored: list[tuple[Family, str, Entry]] = [
            (IPV4_UNICAST, path.prefix, path) for path in paths
        ]
        decisions = [
            (IPV4_UNICAST, path.prefix, Decision(path, (path,), Step.ONLY_PATH)) for path in paths
        ]
        expected = [json.dumps(entry, indent=2) for entry in loc_rib_json(decisions)]
        assert _text(stored, expected, encode, ",", texts) == ",".join(expected)
    assert len([value for value in calls if isinstance(value, dict)]) == 1


_UPDATES = st.lists(
    st.tuples(
        st.sampled_from(sorted(PEERS)),
        st.sampled_from(
            (
                PathAttributes(origin=Origin.IGP, as_path=seq(64512), next_hop="192.0.2.200"),
                PathAttributes(origin=Origin.IGP, as_path=seq(64513), next_hop="192.0.2.201"),
                PathAttributes(
                    origin=Origin.IGP,
                    as_path=seq(64512),
                    next_hop="192.0.2.200",
                    communities=(65001 << 16 | 7,),
                    large_communities=((1, 2, 3),),
                ),
                PathAttributes(origin=Origin.IGP, as_path=seq(64512, 64513), med=1),
                PathAttributes(origin=Origin.INCOMPLETE, as_path=seq(), local_pref=200),
            )
        ),
        st.lists(st.sampled_from([f"10.{n}.0.0/16" for n in range(4)]), min_size=1, unique=True),
        st.sampled_from((False, False, False, True)),
    ),
    max_size=12,
)
"""UPDATEs from the test router's peers: attributes (few, so that paths tie and share
a multipath set; an eBGP peer's AS is put first), prefixes, announced or withdrawn."""
_ORIGINATED = st.lists(
    st.builds(
        OriginatedRoute,
        prefix=st.sampled_from(("10.0.0.0/16", "10.9.0.0/16")),
        family=st.just(IPV4_UNICAST),
        med=st.none() | st.just(1),
    ),
    max_size=2,
    unique_by=lambda route: route.prefix,
).map(tuple)
"""Local routes (a null peer), some on prefixes the peers announce too."""


_Updates = list[tuple[str, PathAttributes, list[str], bool]]


@settings(max_examples=100, deadline=None)
@given(
    routers=st.lists(
        st.tuples(st.integers(1, 3), st.booleans(), _ORIGINATED, _UPDATES),
        min_size=1,
        max_size=3,
    )
)
def test_solve_writes_each_router_table_as_json_dumps(
    routers: list[tuple[int, bool, tuple[OriginatedRoute, ...], _Updates]],
) -> None:
    """Random routers' Loc-RIBs (multipath or not, local routes, announcements and
    withdrawals from eBGP and iBGP peers), written as ``solve -o json`` writes its ``nodes`` (one
    EntryTexts for them all, each table an EncodedArray of its stored entries), are
    ``json.dumps`` of each ``Router.table()``."""
    made: dict[str, Router] = {}
    for n, (max_paths, relax, originated, updates) in enumerate(routers):
        router = make_router(
            routes=originated,
            decision=DecisionConfig(max_paths=max_paths, multipath_relax=relax),
        )
        for now, (peer, attributes, prefixes, withdraw) in enumerate(updates, start=1):
            info = PEERS[peer]
            if not info.ibgp:  # an eBGP peer's AS first (RFC 4271 §6.3)
                as_path = (AsPathSegment(SegmentType.AS_SEQUENCE, (info.asn,)), *attributes.as_path)
                attributes = replace(attributes, as_path=as_path)
            update = (
                Update(withdrawn=tuple(prefixes))
                if withdraw
                else Update(attributes=attributes, nlri=tuple(prefixes))
            )
            router.update_received(peer, update, float(now))
        made[f"r{n}"] = router
    texts = EntryTexts()
    members = [(name, loc_rib_array(router.loc_rib, texts)) for name, router in made.items()]
    expected = {name: router.table() for name, router in made.items()}
    assert "".join(json_chunks(iter(members))) == json.dumps(expected, indent=2)
