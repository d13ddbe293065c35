"""JSON text of a large document, written member by member (``bgpemu solve -o json``).

``json.dumps(document, indent=2)`` needs the whole document and then the whole string:
for vWAN 2 x 25 x 200 that was 3.8 GB of peak memory.  :func:`json_chunks` yields the
very same text (byte for byte, the CLI tests and golden files check it) from an object
whose members come from an iterator: each member's value is encoded on its own with
``json.dumps(indent=2)`` and re-indented to its depth (JSON strings never hold a raw
newline, so every newline of that text is a line break of the layout), or, when the
value is itself an iterator of ``(key, value)`` pairs, streamed the same way.  So only
one member's value lives at a time.

The standard library encodes with ``indent`` in pure Python, one generator per level
(its C encoder serves only compact output): :func:`_encode` writes the same text by
joining strings, with the C string escaper, for the JSON types ``solve`` prints, and
hands anything else (non-string keys, other types) to ``json.dumps``.  A list of objects
(an Azure view's rows: one shape, tens of thousands of them) is written column by column
(:func:`bgpemu.cli._json_rows.rows_array`), and a container's text is joined once, never
concatenated (a view's text is megabytes: each ``+`` would copy it).

A value may also be an :class:`EncodedArray`: a JSON array whose producer writes its
items' text itself with the encoder and the separator it is given, in pieces of one or
more items (``bgpemu solve`` encodes a Loc-RIB entry once per group of entries that
differ only in their prefix and writes a run of them at once,
:func:`bgpemu.router.table.loc_rib_text`); each piece is written as it comes.  And it may
be an :class:`EncodedValue`, its text made before its turn (:func:`encoded_value`: by
the other process of ``solve --jobs 2``, or while that process writes).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from json.encoder import encode_basestring_ascii
from typing import Any, cast

from bgpemu.cli._json_rows import rows_array

__all__ = [
    "EncodedArray",
    "EncodedValue",
    "Handoff",
    "Piece",
    "encoded_value",
    "item_encoder",
    "json_chunks",
    "json_pieces",
    "member_chunks",
]

_INDENT = "  "


@dataclass(frozen=True, slots=True)
class EncodedArray:
    """A JSON array whose items come as text: ``items(encode, separator)`` yields the
    text of one or more consecutive items at a time, each item as ``encode(item)``
    writes it and two items of a piece joined by ``separator``, ``encode`` being this
    module's encoder at the items' indentation and ``separator`` the text between two
    items (so the producer may encode a shared part once and join pieces).  The pieces
    are written as they come, each followed by ``separator`` but the last: a piece
    holds at least one item, and the producer keeps each to a few hundred KB."""

    items: Callable[[Callable[[Any], str], str], Iterable[str]]


def item_encoder(separator: str) -> Callable[[Any], str]:
    """The ``encode`` an :class:`EncodedArray`'s producer is given with ``separator``
    (a producer in another process rebuilds it from the separator alone)."""
    deeper = separator[1:]

    def encode(value: Any) -> str:
        return _encode(value, deeper)

    return encode


@dataclass(frozen=True, slots=True)
class EncodedValue:
    """A member's value whose text is already made (:func:`encoded_value`), for a
    member of an object at depth ``level``: written as it is."""

    text: str
    level: int


def encoded_value(value: Any, level: int) -> EncodedValue:
    """The text :func:`member_chunks` writes for ``value`` (not an iterator nor an
    :class:`EncodedArray`) as a member of the object at depth ``level``, made now (by
    another process of ``bgpemu solve --jobs 2``, or ahead of its turn)."""
    return EncodedValue(_encode(value, "\n" + _INDENT * (level + 1)), level)


Piece = str | Callable[[], None]
"""What :func:`json_pieces` yields: text, or a :class:`Handoff` bound to its place."""


@dataclass(frozen=True, slots=True)
class Handoff:
    """Members of an object that another writer puts on the output itself (``bgpemu
    solve`` on two cores: the other process writes the Loc-RIBs of its nodes).

    An object's member iterator may yield a Handoff in place of a ``(key, value)`` pair;
    :func:`json_pieces` yields it bound to its place, and the writer, having put out
    everything before, calls it: ``write(level, first)`` writes members of the object
    at depth ``level`` exactly as :func:`member_chunks` writes them (``first``: no
    member came before, so the first opens the object) and returns how many (none is
    allowed: the next member may still open the object).
    """

    write: Callable[[int, bool], int]


def json_chunks(members: Iterable[tuple[str, Any] | Handoff], level: int = 0) -> Iterator[str]:
    """Pieces of ``json.dumps(dict(members), indent=2)``, the object at depth ``level``.

    A value that is an :class:`~collections.abc.Iterator` is taken for the ``(key,
    value)`` members of a nested object and streamed; any other value is encoded whole.
    (No :class:`Handoff`: :func:`json_pieces` is for a writer that takes one.)
    """
    for piece in json_pieces(members, level):
        if type(piece) is not str:
            raise TypeError("a Handoff needs a writer that takes it (json_pieces)")
        yield piece


def json_pieces(members: Iterable[tuple[str, Any] | Handoff], level: int = 0) -> Iterator[Piece]:
    """:func:`json_chunks`, with each :class:`Handoff` yielded as a call in its place."""
    empty = True
    for member in members:
        if type(member) is Handoff:
            written: list[int] = []
            yield partial(_hand_off, member, level, empty, written)
            if not written:
                raise RuntimeError("a Handoff was not carried out in its place")
            empty = empty and not written[0]
        else:
            key, value = cast("tuple[str, Any]", member)
            yield from member_chunks(key, value, level, empty)
            empty = False
    yield "{}" if empty else "\n" + _INDENT * level + "}"


def _hand_off(handoff: Handoff, level: int, first: bool, written: list[int]) -> None:
    written.append(handoff.write(level, first))


def member_chunks(key: str, value: Any, level: int, first: bool) -> Iterator[Piece]:
    """The text of one member of the object at depth ``level`` (``first``: it opens it)."""
    inner = "\n" + _INDENT * (level + 1)
    yield ("{" if first else ",") + inner + json.dumps(key) + ": "
    if isinstance(value, Iterator):
        yield from json_pieces(value, level + 1)
    elif type(value) is EncodedArray:
        yield from _array_chunks(value, inner)
    elif type(value) is EncodedValue:
        if value.level != level:
            raise ValueError(f"{key!r}: a value encoded at depth {value.level}, written at {level}")
        yield value.text
    else:
        yield _encode(value, inner)


def _array_chunks(array: EncodedArray, inner: str) -> Iterator[str]:
    """Pieces of the array ``array`` as :func:`_encode` writes a list on the line that
    ``inner`` indents, the producer's pieces as they come."""
    deeper = inner + _INDENT
    separator = "," + deeper

    pieces = iter(array.items(item_encoder(separator), separator))
    for piece in pieces:
        yield "[" + deeper
        yield piece
        break
    else:
        yield "[]"
        return
    for piece in pieces:
        yield separator
        yield piece
    yield inner + "]"


def _encode(value: Any, inner: str) -> str:
    """``json.dumps(value, indent=2)`` with every line break followed by ``inner``'s indent
    (``inner``: a newline and the indentation of the line ``value`` starts on).

    Exact types first (what ``solve`` prints: about twice as fast as the standard
    encoder on a vWAN hub's table); anything else, and a dict whose keys are not all
    strings, is encoded by ``json.dumps`` itself, so the text is always its text.
    """
    kind = type(value)
    if kind is str:
        return encode_basestring_ascii(value)
    if kind is dict:
        if not value:
            return "{}"
        deeper = inner + _INDENT
        separator = "," + deeper
        parts: list[str] = []
        try:
            for key, item in value.items():
                parts += (separator, encode_basestring_ascii(key), ": ", _encode(item, deeper))
        except TypeError:  # a key that is not a string: json.dumps converts it
            return json.dumps(value, indent=2).replace("\n", inner)
        parts[0] = "{" + deeper
        parts.append(inner + "}")
        return "".join(parts)  # one copy of a member's text (a view's rows: megabytes)
    if kind is list:
        if not value:
            return "[]"
        deeper = inner + _INDENT
        if type(value[0]) is dict:  # a view's rows: column by column
            return rows_array(value, inner, _encode)
        items = [_encode(item, deeper) for item in value]
        return "[" + deeper + ("," + deeper).join(items) + inner + "]"
    if value is None:
        return "null"
    if kind is int:
        return int.__repr__(value)
    if kind is bool:
        return "true" if value else "false"
    return json.dumps(value, indent=2).replace("\n", inner)
