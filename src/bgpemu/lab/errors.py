"""The lab's errors: a TCP lab that could not start or refused (:class:`LabError`; a
worker that did not answer in time, :class:`WorkerTimeoutError`), and those of the
engine interface: an injection or query that names nothing real
(:class:`LabInputError`), and a lab not in a state to answer (:class:`LabStateError`).
A traffic answer that could not read a speaker's routes when it needed them raises
:class:`RoutesUnreadableError` (:class:`LabMovedError`: the lab changed since its context was made).
"""

from __future__ import annotations

from bgpemu.errors import BgpEmuError

__all__ = [
    "LabError",
    "LabInputError",
    "LabMovedError",
    "LabStateError",
    "RoutesUnreadableError",
    "WorkerTimeoutError",
]


class LabError(BgpEmuError):
    """The lab could not start, or an injection names nothing real; the message says which."""


class WorkerTimeoutError(LabError, TimeoutError):
    """A worker did not answer a command in time (slow, stopped...); the message names it."""


class LabInputError(BgpEmuError, ValueError):
    """An injection or a query names a node, link, instance or prefix that does not exist.

    The message says what is wrong and what exists; the lab was left untouched.
    """


class LabStateError(BgpEmuError):
    """The lab is not in a state to answer: not converged since the last change, stopped,
    or asked for what its engine does not have (the fabric of a TCP lab)."""


class RoutesUnreadableError(LabError):
    """A traffic answer needed a speaker's routes and could not read them from the
    workers (:mod:`bgpemu.lab.traffic`); the message names the speaker and why.  The
    answer is abandoned: the traffic questions let it through, the lab answers it as
    refused (or, :class:`LabMovedError`, asks again)."""


class LabMovedError(RoutesUnreadableError):
    """The lab changed (a new convergence ``version``) since the traffic context reading a
    speaker's routes was made: its routes would mix two convergences, so none are read."""
