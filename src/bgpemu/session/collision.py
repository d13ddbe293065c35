"""Connection collision resolution (RFC 4271 §6.8) as a pure decision."""

from __future__ import annotations

import ipaddress
from enum import Enum

__all__ = ["CollisionWinner", "resolve_collision"]


class CollisionWinner(Enum):
    """Which of two colliding connections survives (RFC 4271 §6.8)."""

    LOCALLY_INITIATED = "locally initiated"
    REMOTELY_INITIATED = "remotely initiated"


def resolve_collision(
    local_identifier: str,
    remote_identifier: str,
    *,
    local_as: int | None = None,
    remote_as: int | None = None,
) -> CollisionWinner:
    """Pick the connection to keep when both ends opened one (RFC 4271 §6.8).

    "Comparing BGP Identifiers is done by converting them to host byte order and
    treating them as 4-octet unsigned integers."  If the local identifier is higher,
    the connection the local system initiated is kept; otherwise the one the remote
    system initiated.  With equal identifiers (possible between ASes, RFC 6286 §2.3)
    the connection initiated by the speaker with the larger AS number is kept, when
    both ASNs are given; otherwise the RFC 4271 "otherwise" branch applies.
    """
    local = int(ipaddress.IPv4Address(local_identifier))
    remote = int(ipaddress.IPv4Address(remote_identifier))
    if local == remote and local_as is not None and remote_as is not None:
        local, remote = local_as, remote_as
    return (
        CollisionWinner.LOCALLY_INITIATED if local > remote else CollisionWinner.REMOTELY_INITIATED
    )
