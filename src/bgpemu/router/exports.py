"""What a router asks the shell to send to one peer; the shell packs it with the session's codec."""

from __future__ import annotations

from dataclasses import dataclass

from bgpemu.types import Family
from bgpemu.wire.codec import Codec
from bgpemu.wire.messages import PathAttributes, Update

__all__ = ["Announce", "EndOfRib", "Export", "Withdraw", "export_frames"]


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


def export_frames(codec: Codec, export: Export) -> list[bytes]:
    """The UPDATE frames that carry ``export`` with ``codec`` (a session's negotiated
    context: RFC 4271 §4.3 packing, RFC 4724 §2 End-of-RIB)."""
    match export:
        case Announce(family=family, attributes=attributes, prefixes=prefixes):
            return codec.pack_announce(family, attributes, prefixes)
        case Withdraw(family=family, prefixes=prefixes):
            return codec.pack_withdraw(family, prefixes)
        case EndOfRib(family=family):
            return [codec.encode(Update.end_of_rib(family))]
