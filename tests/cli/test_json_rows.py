"""A list of rows of one shape is written column by column (``bgpemu.cli._json_rows``),
byte for byte as ``json.dumps(indent=2)``.

An Azure view (effective routes, hub routes) is a list of objects with the same keys;
``solve -o json`` writes such runs as a template (the keys and the layout once, each
column's values together).  Any value, any key, any mix of shapes must still give the
standard text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bgpemu.cli._json_rows import _MIN_RUN, rows_array
from bgpemu.cli._json_stream import _encode, json_chunks

_TEXT = st.text() | st.sampled_from(["", "é", '"', "\\", "\x00", "\n", "%s", "\u2028", "😀"])
"""Any string, and the ones an escaper or a template could get wrong."""
_ANY = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)
_COLUMN = st.sampled_from(
    [
        _TEXT,
        st.booleans(),
        st.none(),
        st.none() | st.booleans(),
        st.none() | st.booleans() | _TEXT,
        st.integers(),
        st.booleans() | st.integers(),
        st.lists(_TEXT, max_size=3),
        st.lists(_TEXT, min_size=1, max_size=1),
        st.lists(_TEXT, max_size=0),
        st.lists(st.sampled_from(["a", "b"]), max_size=2),
        st.floats(),
        _ANY,
    ]
)
"""The values of one column: one JSON type (the fast paths) or several, or anything."""
_KEY = _TEXT | st.integers() | st.booleans() | st.none()
"""Non-string keys too: json.dumps writes them as strings (the row is left to it)."""


@st.composite
def _rows(draw: st.DrawFn) -> list[Any]:
    """Runs of rows of a few shapes, each column's values from a small pool (so some
    repeat, as a hub route's origin does) or drawn one by one."""
    rows: list[Any] = []
    for _ in range(draw(st.integers(1, 4))):
        keys = draw(st.lists(_TEXT, unique=True, max_size=5) | st.lists(_KEY, max_size=3))
        columns = [draw(_COLUMN) for _ in keys]
        pools = [draw(st.lists(column, min_size=1, max_size=4)) for column in columns]
        count = draw(st.integers(1, 3 * _MIN_RUN))
        for _ in range(count):
            rows.append(
                {
                    key: draw(st.sampled_from(pool)) if draw(st.booleans()) else draw(column)
                    for key, pool, column in zip(keys, pools, columns, strict=True)
                }
            )
        if draw(st.integers(0, 9)) == 0:
            rows.append(draw(_ANY))
    return rows


@settings(max_examples=300, deadline=None)
@given(rows=_rows(), depth=st.integers(0, 2))
def test_rows_are_json_dumps_indent_2(rows: list[Any], depth: int) -> None:
    document: Any = {"value": rows}
    for _ in range(depth):
        document = {"é": document}

    def members(value: Any) -> Iterator[tuple[str, Any]]:
        for key, item in value.items():
            yield key, members(item) if key == "é" else item

    assert "".join(json_chunks(members(document))) == json.dumps(document, indent=2)
    assert _encode(rows, "\n  ") == json.dumps(rows, indent=2).replace("\n", "\n  ")


def test_a_view_is_written_without_the_encoder() -> None:
    """Rows of strings, booleans, null and lists of strings (an effective route's
    shape, hub routes of two shapes) never reach the value-by-value encoder."""

    def refuse(value: Any, inner: str) -> str:
        raise AssertionError(f"encoded one by one: {value!r}")

    effective = [
        {
            "addressPrefix": [f"10.{i}.0.0/24"],
            "disableBgpRoutePropagation": i % 3 == 0,
            "name": None if i % 2 else f"udr-{i}",
            "nextHopIpAddress": [] if i % 4 else ["192.168.1.68", '"\u00e9\n'],
            "nextHopType": "VirtualNetworkGateway",
            "source": "Default",
            "state": "Active",
        }
        for i in range(3 * _MIN_RUN)
    ]
    hub = [
        {"addressPrefixes": ["10.0.0.0/24"], "asPath": "64512", "nextHops": ["x"]}
        for _ in range(_MIN_RUN)
    ] + [{"addressPrefixes": ["172.16.0.0/24"], "nextHops": ["y", "z"]}] * _MIN_RUN
    for rows in (effective, hub):
        assert rows_array(rows, "\n", refuse) == json.dumps(rows, indent=2)
