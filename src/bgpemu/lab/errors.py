"""The error raised for an injection or query that names nothing real."""

from __future__ import annotations

from bgpemu.errors import BgpEmuError

__all__ = ["LabInputError"]


class LabInputError(BgpEmuError, ValueError):
    """An injection or a query names a node, link, instance or prefix that does not exist.

    The message says what is wrong and what exists; the lab was left untouched.
    """
