"""JSON text of a large document, written member by member (``bgpemu solve -o json``).

``json.dumps(document, indent=2)`` needs the whole document and then the whole string:
for vWAN 2 x 25 x 200 that was 3.8 GB of peak memory.  :func:`json_chunks` yields the
very same text (byte for byte, the CLI tests and golden files check it) from an object
whose members come from an iterator: each member's value is encoded on its own with
``json.dumps(indent=2)`` and re-indented to its depth (JSON strings never hold a raw
newline, so every newline of that text is a line break of the layout), or, when the
value is itself an iterator of ``(key, value)`` pairs, streamed the same way.  So only
one member's value lives at a time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["json_chunks"]

_INDENT = "  "


def json_chunks(members: Iterable[tuple[str, Any]], level: int = 0) -> Iterator[str]:
    """Pieces of ``json.dumps(dict(members), indent=2)``, the object at depth ``level``.

    A value that is an :class:`~collections.abc.Iterator` is taken for the ``(key,
    value)`` members of a nested object and streamed; any other value is encoded whole.
    """
    inner = "\n" + _INDENT * (level + 1)
    empty = True
    for key, value in members:
        yield ("{" if empty else ",") + inner + json.dumps(key) + ": "
        empty = False
        if isinstance(value, Iterator):
            yield from json_chunks(value, level + 1)
        else:
            yield json.dumps(value, indent=2).replace("\n", inner)
    yield "{}" if empty else "\n" + _INDENT * level + "}"
