"""The checks of one field of a command or a question from an MQTT client or a change file.

The one description of the operations (:mod:`bgpemu.lab.operations`) names a check for
each field, for the injections (:mod:`bgpemu.lab.commands`) and the traffic questions
(:mod:`bgpemu.lab.questions`) alike: each check returns the normalised value or raises
:class:`BadValueError`, and :func:`bgpemu.lab.operations.check_args` words the refusal
(``args.FIELD: must be WHAT, not VALUE``) with :func:`shown`, so a client's megabytes are
never echoed back.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from bgpemu.azure.security import Direction
from bgpemu.azure.traffic.flow import Flow
from bgpemu.errors import BgpEmuError
from bgpemu.lab.errors import LabInputError
from bgpemu.lab.targets import parse_prefix
from bgpemu.policy.communities import parse_community

__all__ = [
    "MAX_TEXT",
    "BadValueError",
    "communities",
    "direction",
    "flag",
    "index",
    "integer",
    "name",
    "prefix",
    "protocol",
    "seconds",
    "short_text",
    "shown",
    "text",
]

MAX_TEXT = 256
"""Characters of a name or an address a question may hold (a client may send megabytes)."""


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


def name(value: object) -> str:
    """A check of a name (a node, a speaker, a circuit, a file): a non-empty string."""
    if not isinstance(value, str) or not value:
        raise BadValueError
    return value


def index(value: object) -> int:
    """A check of an instance number (the lab's names say which exist)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadValueError
    return value


def prefix(value: object) -> str:
    """A check of an IP prefix, made canonical; the refusal says what is wrong with it."""
    if not isinstance(value, str):
        raise BadValueError
    try:
        return parse_prefix(value)[1]
    except LabInputError as exc:
        raise BadValueError(str(exc)) from None


def seconds(high: float) -> Callable[[object], float | int]:
    """A check of a finite number of seconds in ``0..high``."""

    def check(value: object) -> float | int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadValueError
        if not (math.isfinite(value) and 0 <= value <= high):
            raise BadValueError
        return value

    return check


def communities(value: object) -> list[Any]:
    """RFC 1997 communities, ``65000:100`` or a well-known name, as in the topology file."""
    if not isinstance(value, list):
        raise BadValueError
    for item in value:
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise BadValueError
        try:
            parse_community(item)
        except ValueError as exc:
            raise BadValueError(f"{exc} (in {shown(value)})") from None
    return value


def text(value: object) -> str:
    """A check of a text that is not blank, as given (a topology's YAML)."""
    if not isinstance(value, str) or not value.strip():
        raise BadValueError
    return value


def short_text(value: object) -> str:
    """A check of a name or an address of a question: not blank, at most
    :data:`MAX_TEXT` characters, stripped."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise BadValueError
    return value.strip()


def protocol(value: object) -> str:
    """A check of a flow's protocol, any case, spelt as :meth:`Flow.parse` spells it."""
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise BadValueError
    try:  # Flow.parse is the one place that spells protocols
        return Flow.parse(value, "0.0.0.0", 0, "0.0.0.0", 0).protocol
    except ValueError:
        raise BadValueError from None


def direction(value: object) -> Direction:
    """A check of ``Inbound`` or ``Outbound`` (an NSG rule's direction)."""
    if not isinstance(value, str):
        raise BadValueError
    try:
        return Direction(value)
    except ValueError:
        raise BadValueError from None
