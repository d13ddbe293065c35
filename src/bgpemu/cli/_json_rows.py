"""JSON text of a list of rows of one shape, column by column (``bgpemu solve -o json``).

An Azure view is a list of objects whose keys are the same for every row (an effective
route: ``addressPrefix``, ``disableBgpRoutePropagation``, ``name``, ...): with
``json.dumps(indent=2)``'s layout only the values change from one row to the next, the
keys, the indentation and the separators do not.  So :func:`rows_array` writes a run of
consecutive rows with the same keys (in the same order) as a template: each column's
values are encoded together (strings by the C escaper, ``null``/``true``/``false`` and
integers by table look-up, lists of strings by one join per distinct list), and the
fixed texts and the values are interleaved into one list joined once.  A column of any
other value is encoded value by value by the caller's encoder, so the text is always
that encoder's text (``json.dumps(indent=2)``'s, :mod:`bgpemu.cli._json_stream`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import chain, groupby
from json.encoder import encode_basestring_ascii
from typing import Any

__all__ = ["rows_array"]

_INDENT = "  "
_MIN_RUN = 8
"""Rows of one shape below which a run is encoded row by row (the set-up costs more)."""
_STR = frozenset((str,))
_INT = frozenset((int,))
_CONSTANTS: dict[object, str] = {None: "null", True: "true", False: "false"}
_CONSTANT_TYPES = frozenset((bool, type(None)))
_SCALAR_TYPES = _CONSTANT_TYPES | _STR

Encode = Callable[[Any, str], str]
"""``encode(value, inner)``: ``value``'s text, each line break followed by ``inner``."""


def rows_array(rows: Sequence[Any], inner: str, encode: Encode) -> str:
    """``json.dumps(rows, indent=2)`` for a non-empty list ``rows``, each line break
    followed by ``inner`` (a newline and the indentation of the line it starts on).

    Runs of at least a few consecutive dicts with the same string keys in the same order
    are written by :func:`_run_parts`; every other item by ``encode``.  The text is
    joined once (a view is megabytes: each concatenation would copy it)."""
    deeper = inner + _INDENT
    separator = "," + deeper
    parts = ["[" + deeper]
    runs: Iterable[tuple[tuple[Any, ...], Iterable[Any]]] = [((), rows)]
    if set(map(type, rows)) == {dict}:
        runs = groupby(rows, tuple)
    for keys, group in runs:
        run = list(group)
        if len(run) < _MIN_RUN or not keys or set(map(type, keys)) != _STR:
            for row in run:
                parts.append(encode(row, deeper))
                parts.append(separator)
        else:
            parts.extend(_run_parts(keys, run, deeper, encode))
    parts[-1] = parts[-1][: -len(separator)] + inner + "]"  # every part ends with one
    return "".join(parts)


def _run_parts(
    keys: tuple[Any, ...], run: list[dict[str, Any]], inner: str, encode: Encode
) -> list[str]:
    """The rows of ``run`` (dicts whose keys are ``keys``, in this order), each followed
    by ``,`` + ``inner``: ``{``, each member on its own line one level deeper, ``}``.

    One list of texts for the whole run, ``stride`` items per row: the fixed text before
    each value (the end of the previous value, the separator, the key) and the value's
    text, then the row's end."""
    deeper = inner + _INDENT
    count = len(run)
    stride = 2 * len(keys) + 1
    flat: list[str] = [""] * (count * stride)
    fixed = "{" + deeper
    after = ""
    for position, (key, values) in enumerate(
        zip(keys, zip(*map(dict.values, run), strict=True), strict=True)
    ):
        before, texts, after = _column(values, deeper, encode)
        flat[2 * position :: stride] = [
            fixed + encode_basestring_ascii(key) + ": " + before
        ] * count
        flat[2 * position + 1 :: stride] = texts
        fixed = after + "," + deeper
    flat[stride - 1 :: stride] = [after + inner + "}," + inner] * count
    return flat


def _column(values: tuple[Any, ...], inner: str, encode: Encode) -> tuple[str, list[str], str]:
    """The text of each of ``values`` (one key's values, on a line indented by
    ``inner``), as the same text before each, one text per value, the same text after."""
    kinds = set(map(type, values))
    if kinds <= _STR:
        return "", _strings(values), ""
    if kinds <= _CONSTANT_TYPES:  # exact bool and None only: 1 == True is never looked up
        return "", list(map(_CONSTANTS.__getitem__, values)), ""
    if kinds <= _SCALAR_TYPES:
        texts = [
            encode_basestring_ascii(value) if type(value) is str else _CONSTANTS[value]
            for value in values
        ]
        return "", texts, ""
    if kinds <= _INT:
        return "", list(map(int.__repr__, values)), ""
    if kinds == {list} and set(map(type, chain.from_iterable(values))) <= _STR:
        deeper = inner + _INDENT
        if set(map(len, values)) == {1}:  # one string each: the brackets are fixed text
            return "[" + deeper, _strings(list(chain.from_iterable(values))), inner + "]"
        return "", _string_lists(values, inner), ""
    return "", [encode(value, inner) for value in values], ""


def _strings(values: Sequence[str]) -> list[str]:
    """The text of each of the strings ``values``, escaped once per distinct string when
    they repeat (a hub route's origin: a resource ID shared by a connection's routes)."""
    distinct = set(values)
    if 2 * len(distinct) > len(values):
        return list(map(encode_basestring_ascii, values))
    texts = {value: encode_basestring_ascii(value) for value in distinct}
    return list(map(texts.__getitem__, values))


def _string_lists(values: tuple[list[str], ...], inner: str) -> list[str]:
    """The text of each list of strings of ``values``, once per distinct list."""
    deeper = inner + _INDENT
    separator = "," + deeper
    opening = "[" + deeper
    closing = inner + "]"
    keys = list(map(tuple, values))
    texts = {
        key: opening + separator.join(map(encode_basestring_ascii, key)) + closing if key else "[]"
        for key in set(keys)
    }
    return list(map(texts.__getitem__, keys))
