"""The negotiated state a codec needs (after ExaBGP's ``Negotiated``).

Decoding and encoding of UPDATE depend on what the two OPENs agreed: 4-octet ASNs
(RFC 6793), ADD-PATH per family and direction (RFC 7911), the maximum message size
(RFC 8654), and whether the peer is external (RFC 7606 §7.5, §7.9, §7.10).  The
session builds one of these at Established; before that the defaults (4-octet AS, no
ADD-PATH, 4096 octets, internal peer) apply.
"""

from __future__ import annotations

from dataclasses import dataclass

from bgpemu.types import Family
from bgpemu.wire.constants import MAX_EXTENDED_MESSAGE_SIZE, MAX_MESSAGE_SIZE

__all__ = ["CodecContext"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CodecContext:
    """What the codec must know about one session to read and write its UPDATEs."""

    four_octet_as: bool = True
    """Both ends sent the 4-octet AS capability: AS_PATH carries 4-octet ASNs."""
    add_path_receive: frozenset[Family] = frozenset()
    """Families whose received NLRI carry a path identifier (we receive, peer sends)."""
    add_path_send: frozenset[Family] = frozenset()
    """Families whose sent NLRI carry a path identifier (we send, peer receives)."""
    extended_message: bool = False
    """Both ends sent the Extended Message capability (RFC 8654)."""
    external: bool = False
    """The peer is in another AS (RFC 4271 §5.1.5): LOCAL_PREF, ORIGINATOR_ID and
    CLUSTER_LIST received from it are discarded (RFC 7606 §7.5, §7.9, §7.10)."""

    @property
    def max_message_size(self) -> int:
        """The largest message either end may send (RFC 4271 §4.1, RFC 8654 §4)."""
        return MAX_EXTENDED_MESSAGE_SIZE if self.extended_message else MAX_MESSAGE_SIZE
