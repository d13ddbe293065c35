"""The errors of the engine interface: an injection or query that names nothing real
(:class:`LabInputError`), and a lab not in a state to answer (:class:`LabStateError`)."""

from __future__ import annotations

from bgpemu.errors import BgpEmuError

__all__ = ["LabInputError", "LabStateError"]


class LabInputError(BgpEmuError, ValueError):
    """An injection or a query names a node, link, instance or prefix that does not exist.

    The message says what is wrong and what exists; the lab was left untouched.
    """


class LabStateError(BgpEmuError):
    """The lab is not in a state to answer: not converged since the last change, stopped,
    or asked for what its engine does not have (the fabric of a TCP lab)."""
