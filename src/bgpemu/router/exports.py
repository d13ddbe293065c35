"""What a router asks the shell to send to one peer; the shell packs it with the session's codec."""

from __future__ import annotations

from dataclasses import dataclass

from bgpemu.types import Family
from bgpemu.wire.messages import PathAttributes

__all__ = ["Announce", "EndOfRib", "Export", "Withdraw"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Announce:
    """Advertise ``prefixes`` of ``family`` sharing ``attributes`` (packed per RFC 4271 §4.3)."""

    family: Family
    attributes: PathAttributes
    prefixes: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Withdraw:
    """Withdraw ``prefixes`` of ``family``."""

    family: Family
    prefixes: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class EndOfRib:
    """The End-of-RIB marker after the initial table of ``family`` (RFC 4724 §2)."""

    family: Family


Export = Announce | Withdraw | EndOfRib
