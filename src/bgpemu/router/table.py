"""JSON-ready views of Loc-RIB entries: the ``loc_rib`` of ``bgpemu solve`` and the speaker
dump (docs/speaker.md), one entry per prefix with its best path and multipath set.

A path's fields are those of the route record (:func:`bgpemu.rib.route.attribute_doc`,
whose order is this shape's: MED before LOCAL_PREF, and the peer), without the record's
flags and weight.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from json.encoder import encode_basestring_ascii as quote
from typing import Any

from bgpemu.rib.decision import Decision, Step
from bgpemu.rib.loc_rib import Entry, decision_of
from bgpemu.rib.path import Path, PeerInfo
from bgpemu.rib.route import attribute_doc
from bgpemu.types import Family
from bgpemu.wire.messages import PathAttributes

__all__ = ["EntryTexts", "decision_json", "loc_rib_json", "loc_rib_text", "path_json"]


def path_json(path: Path) -> dict[str, Any]:
    """One path: next hop, AS_PATH, ORIGIN, MED, LOCAL_PREF, communities, source peer."""
    doc = attribute_doc(path.attributes)  # a new dict, in this shape's order
    doc["peer"] = None if path.local else path.source.name
    return doc


def decision_json(
    family: Family,
    prefix: str,
    decision: Decision,
    path_doc: Callable[[Path], dict[str, Any]] = path_json,
) -> dict[str, Any]:
    """One Loc-RIB entry: the best path, the multipath set and the reason (Step text)."""
    best = decision.best
    return {
        "prefix": prefix,
        "family": str(family),
        "best": None if best is None else path_doc(best),
        "multipath": [path_doc(p) for p in decision.multipath],
        "reason": decision.reason.value,
    }


def loc_rib_json(entries: Iterable[tuple[Family, str, Decision]]) -> list[dict[str, Any]]:
    """The entries that have a best path, by :func:`decision_json`; the attribute fields
    converted once per attributes object (the router shares one among the prefixes of an
    UPDATE) and copied for each path, so that no two paths share a dict or a list."""
    cache: dict[int, tuple[PathAttributes, dict[str, Any]]] = {}

    def path_doc(path: Path) -> dict[str, Any]:
        attributes = path.attributes
        hit = cache.get(id(attributes))
        if hit is None or hit[0] is not attributes:
            hit = cache[id(attributes)] = (attributes, attribute_doc(attributes))
        doc = hit[1].copy()
        doc["as_path"] = doc["as_path"].copy()
        doc["communities"] = doc["communities"].copy()
        doc["large_communities"] = doc["large_communities"].copy()
        doc["peer"] = None if path.local else path.source.name
        return doc

    return [
        decision_json(family, prefix, decision, path_doc)
        for family, prefix, decision in entries
        if decision.best is not None
    ]


_PREFIX_MARK = "\ufdd0bgpemu: the entry's prefix\ufdd1"
"""Stands for the prefix in the one encoding of a group of entries (two Unicode
noncharacters; a name holding the marker text is still written right, see below)."""

_CHUNK = 256
"""Entries per piece of :func:`loc_rib_text` at least (a few hundred KB: fewer, larger
writes; a run of one group's entries is never cut)."""

_NO_RUN = object()
"""The current run's attributes while there is none, or while it is a Decision's."""

_GroupText = tuple[str, str, str, str, str, str]
"""A group's entry text: the separator and the text before its prefix; the text between
two of its entries' prefixes (after one, the separator, before the next); the text
after its prefix; and the same three with the prefix's quotes in them."""


class EntryTexts:
    """The group texts of one report's Loc-RIBs, shared by its tables: owned by the
    caller, who passes it to :func:`loc_rib_text` for each table of the report and drops
    it with the report.

    A group's text is a function of what its key holds, by value: the family, the
    reason and, for the best path and each multipath path, the attributes (equal
    :class:`PathAttributes`, their fields of their declared types, give the same
    :func:`attribute_doc`) and the peer's text (its name, or null for a local path).
    The vWAN branches of a hub hold the same routes from the same hub, decoded from the
    same UPDATEs or equal ones: the 52 tables of vwan-2x25x200 have 12,658 groups of
    attributes objects and sources, and 262 texts.  The texts are kept per encoding
    layout (the encoder's indentation and the separator), so one instance serves
    arrays at any depth.
    """

    __slots__ = ("_layouts",)

    def __init__(self) -> None:
        self._layouts: dict[tuple[str, str], dict[Hashable, _GroupText]] = {}

    def layout(self, encode: Callable[[Any], str], separator: str) -> dict[Hashable, _GroupText]:
        """The texts made with ``encode`` (told apart by its text of a one-item list,
        which shows its indentation) and joined by ``separator``."""
        return self._layouts.setdefault((encode([_PREFIX_MARK]), separator), {})


def _peer_text(path: Path) -> str | None:
    """What :func:`path_json` writes for the path's peer (a named source is not LOCAL,
    whose name is empty: no comparison of the whole PeerInfo for it)."""
    name = path.source.name
    return name if name or not path.local else None


def _group_text(
    family: Family, entry: Entry, encode: Callable[[Any], str], separator: str, mark: str
) -> _GroupText:
    """The texts of ``entry``'s group: its :func:`decision_json` for the marker prefix,
    encoded and cut at the marker's first text (the prefix is the first member, so the
    first marker text is the prefix's even if a peer name holds the marker too)."""
    decision = decision_of(entry)
    assert decision is not None
    before, _, after = encode(decision_json(family, _PREFIX_MARK, decision)).partition(mark)
    lead = separator + before
    middle = after + separator + before
    return lead, middle, after, lead + '"', '"' + middle + '"', '"' + after


def _text_of(
    layout: dict[Hashable, _GroupText],
    family: Family,
    entry: Entry,
    encode: Callable[[Any], str],
    separator: str,
    mark: str,
) -> _GroupText:
    """The texts of ``entry``'s group from ``layout``, made and kept there if new."""
    value = _value_key(family, entry)
    text = layout.get(value)
    if text is None:
        text = layout[value] = _group_text(family, entry, encode, separator, mark)
    return text


def _value_key(family: Family, entry: Entry) -> Hashable:
    """What the text of ``entry``'s group depends on, by value (see :class:`EntryTexts`);
    a sole path and its ONLY_PATH decision have the same key."""
    if type(entry) is Path:
        return (family, Step.ONLY_PATH, entry.attributes, _peer_text(entry), None)
    assert isinstance(entry, Decision)
    assert entry.best is not None
    best = entry.best
    multipath = entry.multipath
    others: tuple[tuple[PathAttributes, str | None], ...] | None = None
    if len(multipath) != 1 or multipath[0] is not best:
        others = tuple((path.attributes, _peer_text(path)) for path in multipath)
    return (family, entry.reason, best.attributes, _peer_text(best), others)


def _run_text(text: _GroupText, run: list[str]) -> tuple[str, str, str]:
    """The text of a run of entries of one group, ``run`` their prefixes, in three
    pieces.  Prefixes that need no escape (their quoted text is theirs between two
    quotes: the escaper lengthens any it changes) are joined by the text with the
    quotes in it, not quoted one by one."""
    if len(run) == 1:
        return text[0], quote(run[0]), text[2]
    joined = "".join(run)
    if len(quote(joined)) == len(joined) + 2:
        return text[3], text[4].join(run), text[5]
    return text[0], text[1].join(map(quote, run)), text[2]


def loc_rib_text(
    entries: Iterable[tuple[Family, str, Entry]],
    encode: Callable[[Any], str],
    separator: str,
    texts: EntryTexts | None = None,
) -> Iterator[str]:
    """``separator.join(encode(entry) for entry in loc_rib_json(entries))`` in pieces,
    each the text of one or more whole entries (so the pieces joined by ``separator``
    are that text), with :func:`decision_json` and ``encode`` called once per group of
    entries that differ only in their prefix, not once per entry: once per table, or,
    given ``texts``, once per report (:class:`EntryTexts`).

    ``entries`` are Loc-RIB entries as :meth:`LocRib.stored_entries
    <bgpemu.rib.loc_rib.LocRib.stored_entries>` gives them (a sole path stands for its
    ONLY_PATH decision, which is then never built) or as :meth:`LocRib.entries
    <bgpemu.rib.loc_rib.LocRib.entries>` does (every entry a Decision).  ``encode``
    is an ASCII JSON encoder (a string's text is ``json.dumps(string)``'s) that writes
    a value the same wherever it stands.

    Within a table a sole path's group is found by the identity of its family,
    attributes object and source (the router shares one attributes object among the
    prefixes of an UPDATE, so a hub's 10,000 routes from 50 branches are about 50
    groups), a Decision's by those of each of its paths and its reason; only a group not
    yet seen in the table is looked up by value.  Consecutive sole paths with one text
    (a run: 8 entries on average on a vWAN branch) are written at once, ``before +
    middle.join(prefixes) + after``, each prefix quoted by the C string escaper: an
    entry costs a few identity comparisons, an append and its prefix's text.
    """
    layout: dict[Hashable, _GroupText] = {} if texts is None else texts.layout(encode, separator)
    # A sole path's group by id(attributes); a Decision's by the ids of its objects.
    # Each keeps the objects whose ids it holds alive: no other object takes those ids.
    paths: dict[int, tuple[PathAttributes, PeerInfo, Family, _GroupText]] = {}
    path_group = paths.get
    decisions: dict[Hashable, tuple[_GroupText, Decision]] = {}
    mark = encode(_PREFIX_MARK)
    cut = len(separator)  # the first piece's separator, left out
    pieces: list[str] = []  # of the piece being made
    count = 0  # entries in it
    run: list[str] = []  # prefixes of the current run, not yet in pieces
    append = run.append
    # The current run: its text, and the family, attributes and source of its last
    # sole path (a sole path with these three joins the run without a look-up).
    run_text: _GroupText = ("", "", "", "", "", "")
    run_family: Family | None = None
    run_attributes: object = _NO_RUN
    run_source: PeerInfo | None = None
    other_text = run_text
    other_family = run_family
    other_attributes = run_attributes
    other_source = run_source
    for family, prefix, entry in entries:
        if type(entry) is Path:
            attributes = entry.attributes
            source = entry.source
            if attributes is run_attributes and source is run_source and family is run_family:
                append(prefix)
                continue
            if attributes is other_attributes and source is other_source and family is other_family:
                text = other_text
            else:
                hit = path_group(id(attributes))
                if (
                    hit is not None
                    and hit[0] is attributes
                    and hit[1] is source
                    and hit[2] is family
                ):
                    text = hit[3]
                else:
                    text = _text_of(layout, family, entry, encode, separator, mark)
                    paths[id(attributes)] = (attributes, source, family, text)
            other_family, other_attributes, other_source, other_text = (
                run_family,
                run_attributes,
                run_source,
                run_text,
            )
            run_family, run_attributes, run_source = family, attributes, source
            if text is run_text:  # another object, the same text: the run goes on
                append(prefix)
                continue
        else:
            assert isinstance(entry, Decision)
            best = entry.best
            if best is None:
                continue
            multipath = entry.multipath
            others: tuple[int, ...] | None = None
            if len(multipath) != 1 or multipath[0] is not best:
                others = tuple(
                    number
                    for path in multipath
                    for number in (id(path.attributes), id(path.source))
                )
            key = (family, entry.reason, id(best.attributes), id(best.source), others)
            group = decisions.get(key)
            if group is None:
                text = _text_of(layout, family, entry, encode, separator, mark)
                group = decisions[key] = (text, entry)
            text = group[0]
            run_attributes = _NO_RUN
        if run:  # _run_text(run_text, run), inline: a call per run costs 5 % here
            if len(run) == 1:
                pieces += (run_text[0], quote(run[0]), run_text[2])
            elif len(quote(joined := "".join(run))) == len(joined) + 2:
                pieces += (run_text[3], run_text[4].join(run), run_text[5])
            else:
                pieces += (run_text[0], run_text[1].join(map(quote, run)), run_text[2])
            count += len(run)
            run.clear()
            if count >= _CHUNK:
                pieces[0] = pieces[0][cut:]
                yield "".join(pieces)
                pieces.clear()
                count = 0
        run_text = text
        append(prefix)
    if run:
        pieces += _run_text(run_text, run)
    if pieces:
        pieces[0] = pieces[0][cut:]
        yield "".join(pieces)
