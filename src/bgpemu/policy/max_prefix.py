"""Maximum-prefix limits per session (RFC 4486 §4, Cease subcode 1).

The check is pure: the router counts the prefixes it accepted from a peer (per
family or in total, its choice) and asks :func:`max_prefix_action` what to do.  When
the answer is CEASE it sends :func:`max_prefix_notification` and closes the session;
when :attr:`MaxPrefix.restart_after` is set it may start the session again that many
seconds later (virtual time; the router owns the timer, as vendors' "restart" knob).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import Enum

from bgpemu.types import Family
from bgpemu.wire.constants import CeaseSubcode, ErrorCode
from bgpemu.wire.messages import Notification

__all__ = [
    "MaxPrefix",
    "MaxPrefixAction",
    "max_prefix_action",
    "max_prefix_exceeded",
    "max_prefix_notification",
]

_U32 = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class MaxPrefix:
    """A session's prefix limit.

    ``limit`` prefixes are allowed; the one after that trips the limit.
    ``restart_after`` (seconds) re-enables the session after a trip; None keeps it
    down until an operator acts.  ``warning_only`` reports the trip but keeps the
    session up (vendors' "warning-only").
    """

    limit: int
    restart_after: float | None = None
    warning_only: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.limit <= _U32:
            raise ValueError(f"max-prefix limit {self.limit} must be 0..{_U32} (RFC 4486 §4)")
        if self.restart_after is not None and self.restart_after <= 0:
            raise ValueError("max-prefix restart_after must be positive seconds (or None)")

    def describe(self) -> str:
        """One line for a user: ``max-prefix 100 (restart after 30s)``."""
        text = f"max-prefix {self.limit}"
        if self.warning_only:
            text += " (warning only)"
        elif self.restart_after is not None:
            text += f" (restart after {self.restart_after:g}s)"
        return text

    def __str__(self) -> str:
        return self.describe()


class MaxPrefixAction(Enum):
    """What the router does after counting the accepted prefixes."""

    NONE = "none"
    """Under the limit."""
    WARN = "warn"
    """Over the limit with ``warning_only``: report, keep the session."""
    CEASE = "cease"
    """Over the limit: send Cease/1 (RFC 4486 §4) and close."""


def max_prefix_exceeded(limit: MaxPrefix, accepted_count: int) -> bool:
    """True when ``accepted_count`` is above ``limit.limit`` (``warning_only`` not considered).

    Use :func:`max_prefix_action` to take ``warning_only`` into account.
    """
    return accepted_count > limit.limit


def max_prefix_action(limit: MaxPrefix, accepted_count: int) -> MaxPrefixAction:
    """NONE under the limit; over it WARN when ``warning_only``, else CEASE."""
    if not max_prefix_exceeded(limit, accepted_count):
        return MaxPrefixAction.NONE
    return MaxPrefixAction.WARN if limit.warning_only else MaxPrefixAction.CEASE


def max_prefix_notification(family: Family, limit: int) -> Notification:
    """Cease, subcode 1 "Maximum Number of Prefixes Reached" (RFC 4486 §4).

    RFC 4486 §4: the speaker "MAY include the Address Family Identifier (2 octets),
    the Subsequent Address Family Identifier (1 octet), and the upper bound (4
    octets)" in the data field; bgpemu always includes them::

        +--------------------+---------+-----------------------------+
        | AFI (2 octets)     | SAFI (1)| prefix upper bound (4)      |
        +--------------------+---------+-----------------------------+
    """
    if not 0 <= limit <= _U32:
        raise ValueError(f"max-prefix limit {limit} does not fit in 4 octets")
    return Notification(
        code=ErrorCode.CEASE,
        subcode=CeaseSubcode.MAXIMUM_PREFIXES_REACHED,
        data=struct.pack("!HBI", int(family.afi), int(family.safi), limit),
    )
