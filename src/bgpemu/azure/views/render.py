"""``-o table`` rendering shared by the views: columns like the Azure CLI's table output."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["MIN_PADDING", "Rows", "cell", "format_table"]

Rows = tuple[list[str], list[list[object]]]
"""A table: its column headers and its rows (what ``-o table`` and the web view show)."""

MIN_PADDING = 2
"""tabulate's minimum padding of a column past its header (``tabulate.MIN_PADDING``)."""


def cell(value: object) -> str:
    """A JSON value as one table cell (None -> empty, lists space-joined).

    az's table transformers join multi-value cells with a space (``' '.join(...)`` in
    ``transform_effective_route_table``, azure-cli ``network/_format.py``).
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, list | tuple):
        return " ".join(cell(item) for item in value)
    return str(value)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Headers, a dashed rule, then one line per row, as az draws ``-o table``.

    knack's table output is tabulate's "simple" format (knack/output.py
    ``_TableOutput.dump``): columns two spaces apart, each at least its header plus
    :data:`MIN_PADDING` wide, cells left-aligned (numbers too: ``disable_numparse``),
    no trailing spaces.
    """
    texts = [[cell(value) for value in row] for row in rows]
    widths = [len(header) + MIN_PADDING for header in headers]
    for row in texts:
        for i, text in enumerate(row):
            widths[i] = max(widths[i], len(text))
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines.extend(
        "  ".join(t.ljust(w) for t, w in zip(row, widths, strict=True)).rstrip() for row in texts
    )
    return "\n".join(lines) + "\n"
