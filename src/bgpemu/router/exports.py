"""What a router asks the shell to send to one peer; the shell packs it with the session's codec.

The exports themselves (:class:`Announce`, :class:`Withdraw`, :class:`EndOfRib`) are
what an Adj-RIB-Out flushes, so they are defined below the router, in
:mod:`bgpemu.rib.adj_rib_out` (layer L3), and re-exported here beside the function that
packs them.

Both engines (the TCP runtime and the fabric) pack with :func:`export_frames`, so the
two rules that depend on what a session negotiated are applied in one place:

* ADD-PATH (RFC 7911 §3): when the session negotiated sending path identifiers for a
  family, every NLRI carries one.  The router advertises one path per prefix (the
  best), so each carries :data:`ADVERTISED_PATH_ID`; a later announcement with the
  same identifier replaces it and a withdrawal names it.
* Maximum message size (RFC 4271 §4.1, RFC 8654 §4): a path whose attributes leave
  no room for a prefix in one message of the session's size (a path received over an
  Extended Message session, about to go to a peer without it) is not announced; its
  prefixes are withdrawn there instead (a withdrawal of a route the peer never had is
  harmless, RFC 4271 §9), and :attr:`Packed.not_announced` tells the shell why; the
  shell then tells the router (:meth:`Router.not_announced
  <bgpemu.router.core.Router.not_announced>`), whose Adj-RIB-Out drops them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bgpemu.errors import MessageTooLongError
from bgpemu.rib.adj_rib_out import Announce, EndOfRib, Export, Withdraw
from bgpemu.types import Family
from bgpemu.wire.codec import Codec
from bgpemu.wire.messages import Update

__all__ = [
    "ADVERTISED_PATH_ID",
    "Announce",
    "EndOfRib",
    "Export",
    "Packed",
    "Withdraw",
    "export_frames",
]

ADVERTISED_PATH_ID = 1
"""The Path Identifier of every NLRI sent on an ADD-PATH session (RFC 7911 §3)."""


@dataclass(frozen=True, slots=True)
class Packed:
    """The UPDATE frames that carry one export on one session."""

    frames: tuple[bytes, ...]
    not_announced: str | None = None
    """Why an Announce went out as a withdrawal of its prefixes (RFC 8654 §4), or None."""


def export_frames(codec: Codec, export: Export) -> Packed:
    """The UPDATE frames that carry ``export`` with ``codec`` (a session's negotiated
    context: RFC 4271 §4.3 packing, RFC 7911 §3 path identifiers, RFC 8654 §4 size,
    RFC 4724 §2 End-of-RIB; see the module docstring)."""
    match export:
        case Announce(family=family, attributes=attributes, prefixes=prefixes):
            path_ids = _path_ids(codec, family, prefixes)
            try:
                return Packed(tuple(codec.pack_announce(family, attributes, prefixes, path_ids)))
            except MessageTooLongError:
                size = codec.context.max_message_size
                limit = (
                    "the maximum message size"
                    if codec.context.extended_message
                    else "the peer did not advertise Extended Message"
                )
                why = (
                    f"{len(prefixes)} {family} prefix(es) from {prefixes[0]} not announced, "
                    f"withdrawn instead: their path attributes leave no room for a prefix in "
                    f"a {size}-octet UPDATE (RFC 8654 §4: {limit})"
                )
                frames = codec.pack_withdraw(family, prefixes, path_ids)
                return Packed(tuple(frames), not_announced=why)
        case Withdraw(family=family, prefixes=prefixes):
            path_ids = _path_ids(codec, family, prefixes)
            return Packed(tuple(codec.pack_withdraw(family, prefixes, path_ids)))
        case EndOfRib(family=family):
            return Packed((codec.encode(Update.end_of_rib(family)),))


def _path_ids(codec: Codec, family: Family, prefixes: tuple[str, ...]) -> tuple[int, ...] | None:
    """One :data:`ADVERTISED_PATH_ID` per prefix when ADD-PATH send is negotiated."""
    if family not in codec.context.add_path_send:
        return None
    return (ADVERTISED_PATH_ID,) * len(prefixes)
