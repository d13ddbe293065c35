"""The configuration of one BGP session (RFC 4271 §8.1 optional attributes, §10 timers)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from bgpemu.types import IPV4_UNICAST, Family
from bgpemu.wire.messages import AddPathMode

__all__ = ["SessionConfig"]

_MAX_ASN = 0xFFFFFFFF
_MAX_HOLD_TIME = 0xFFFF


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionConfig:
    """What one peering proposes and how its FSM behaves; validated at construction."""

    local_as: int
    peer_as: int
    bgp_identifier: str
    """Our BGP Identifier (router id), a dotted quad other than 0.0.0.0 (RFC 6286 §2.1)."""
    hold_time: int = 90
    """The Hold Time we propose: 0 or at least 3 seconds (RFC 4271 §4.2, §10)."""
    connect_retry_time: float = 120.0
    """RFC 4271 §10 suggested ConnectRetryTime."""
    connect_retry_max: float | None = None
    """Bound of the retry backoff (RFC 4271 §8.1.1 DampPeerOscillations); None: none.

    When set, a refused or hung connection attempt leaves the session in Active (still
    accepting the peer's connection) for a ConnectRetryTimer that doubles after every
    consecutive failed attempt, from ``connect_retry_time`` up to this bound, and the
    IdleHoldTime after a session that failed before Established doubles the same way;
    both start again once a session is Established.  None keeps RFC 4271 §8.2.2's
    fixed timers (Connect falls to Idle on a failed attempt)."""
    idle_hold_time: float = 5.0
    """Delay before the AutomaticStart that follows a fall to Idle (RFC 4271 §8.1.1)."""
    passive: bool = False
    """Never initiate TCP: wait in Active (RFC 4271 §8.1.1 PassiveTcpEstablishment)."""
    families: tuple[Family, ...] = (IPV4_UNICAST,)
    route_refresh: bool = True
    enhanced_route_refresh: bool = True
    graceful_restart: bool = False
    """Advertise Graceful Restart (RFC 4724 §3): restart time 120, no forwarding state."""
    add_path: tuple[tuple[Family, AddPathMode], ...] = ()
    extended_message: bool = False
    auto_restart: bool = True
    """After an error or a peer drop: IdleHoldTimer, then AutomaticStart."""
    peer_name: str = ""
    """For messages only."""

    def __post_init__(self) -> None:
        for name, asn in (("local_as", self.local_as), ("peer_as", self.peer_as)):
            if not 1 <= asn <= _MAX_ASN:
                raise ValueError(f"{name} {asn} is not a 4-octet ASN (1..{_MAX_ASN})")
        try:
            identifier = ipaddress.IPv4Address(self.bgp_identifier)
        except ValueError:
            raise ValueError(
                f"bgp_identifier {self.bgp_identifier!r} is not a dotted-quad IPv4 address"
            ) from None
        if int(identifier) == 0:
            raise ValueError("bgp_identifier must not be 0.0.0.0 (RFC 6286 §2.1)")
        if self.hold_time != 0 and not 3 <= self.hold_time <= _MAX_HOLD_TIME:
            raise ValueError(f"hold_time {self.hold_time} must be 0 or 3..65535 (RFC 4271 §4.2)")
        if not self.connect_retry_time > 0:
            raise ValueError("connect_retry_time must be positive")
        if self.connect_retry_max is not None and not (
            self.connect_retry_max >= self.connect_retry_time
        ):
            raise ValueError("connect_retry_max must be at least connect_retry_time")
        if not self.idle_hold_time >= 0:
            raise ValueError("idle_hold_time must not be negative")
        if not self.families:
            raise ValueError("families must not be empty")
        if len(set(self.families)) != len(self.families):
            raise ValueError("families must not repeat")
        for family, _mode in self.add_path:
            if family not in self.families:
                raise ValueError(f"add_path family {family} is not in families")
