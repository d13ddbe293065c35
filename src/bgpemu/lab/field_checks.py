"""The checks of one field of a command or a question from an MQTT client or a change file.

Shared by :mod:`bgpemu.lab.commands` (injections) and :mod:`bgpemu.lab.questions`
(traffic questions): each check returns the normalised value or raises
:class:`BadValueError`, and the caller words the refusal (``args.FIELD: must be WHAT,
not VALUE``) with :func:`shown`, so a client's megabytes are never echoed back.
"""

from __future__ import annotations

from collections.abc import Callable

from bgpemu.errors import BgpEmuError

__all__ = ["BadValueError", "flag", "integer", "shown"]


class BadValueError(BgpEmuError):
    """A field's value is refused; the message, if any, replaces ``must be WHAT, not VALUE``."""


def shown(value: object) -> str:
    """``repr(value)``, cut to 60 characters (a field may hold megabytes)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def flag(value: object) -> bool:
    """A check of ``true`` or ``false``."""
    if not isinstance(value, bool):
        raise BadValueError
    return value


def integer(high: int) -> Callable[[object], int]:
    """A check of an integer in ``0..high`` (``bool`` is not one)."""

    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
            raise BadValueError
        return value

    return check
