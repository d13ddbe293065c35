"""(OPEN, OPEN) → Negotiated: the checks of RFC 4271 §6.2 and the capability intersections.

``negotiate`` is pure: it either returns what both ends agreed or raises the
:class:`~bgpemu.errors.MessageError` whose NOTIFICATION answers the peer's OPEN.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from bgpemu.errors import MessageError
from bgpemu.session.config import SessionConfig
from bgpemu.types import IPV4_UNICAST, Family
from bgpemu.wire.constants import ErrorCode, OpenErrorSubcode
from bgpemu.wire.context import CodecContext
from bgpemu.wire.messages import AddPathMode, Capabilities, GracefulRestart, Open

__all__ = ["BGP_VERSION", "Negotiated", "local_open", "negotiate"]

BGP_VERSION = 4
"""RFC 4271 §4.2."""

_GR_RESTART_TIME = 120
_RECEIVES = (AddPathMode.RECEIVE, AddPathMode.BOTH)
_SENDS = (AddPathMode.SEND, AddPathMode.BOTH)


@dataclass(frozen=True, slots=True, kw_only=True)
class Negotiated:
    """What the two OPENs of an established session agreed."""

    hold_time: int
    """min(ours, theirs) (RFC 4271 §4.2); 0 disables the Hold and Keepalive timers."""
    keepalive_time: int
    """hold_time // 3 (RFC 4271 §10 suggestion), 0 when hold_time is 0."""
    peer_as: int
    peer_bgp_identifier: str
    families: tuple[Family, ...]
    """Families both advertised (RFC 4760 §8), in our configured order."""
    route_refresh: bool
    enhanced_route_refresh: bool
    four_octet_as: bool
    add_path_receive: frozenset[Family]
    """Families on which we receive path identifiers (RFC 7911 §4)."""
    add_path_send: frozenset[Family]
    """Families on which we send path identifiers (RFC 7911 §4)."""
    extended_message: bool
    graceful_restart: bool
    """The peer advertised Graceful Restart (RFC 4724 §3)."""
    local_open: Open
    remote_open: Open

    @property
    def codec_context(self) -> CodecContext:
        """The codec context for UPDATEs of this session."""
        return CodecContext(
            four_octet_as=self.four_octet_as,
            add_path_receive=self.add_path_receive,
            add_path_send=self.add_path_send,
            extended_message=self.extended_message,
            external=self.peer_as != self.local_open.asn,
        )


def local_open(config: SessionConfig) -> Open:
    """Our OPEN for ``config``: every capability we support (RFC 5492).

    The 4-octet AS capability is always sent (RFC 6793 §3), with AS_TRANS in My
    Autonomous System when the ASN needs 4 octets.
    """
    graceful_restart = (
        GracefulRestart(
            restart_time=_GR_RESTART_TIME,
            families=tuple((family, False) for family in config.families),
        )
        if config.graceful_restart
        else None
    )
    capabilities = Capabilities(
        multiprotocol=config.families,
        route_refresh=config.route_refresh,
        enhanced_route_refresh=config.enhanced_route_refresh,
        four_octet_as=config.local_as,
        graceful_restart=graceful_restart,
        add_path=config.add_path,
        extended_message=config.extended_message,
    )
    return Open.for_asn(config.local_as, config.hold_time, config.bgp_identifier, capabilities)


def _open_error(subcode: OpenErrorSubcode, reason: str, data: bytes = b"") -> MessageError:
    return MessageError(ErrorCode.OPEN_MESSAGE_ERROR, subcode, data, reason)


def _check_identifier(config: SessionConfig, remote: Open) -> None:
    """RFC 4271 §6.2 / RFC 6286 §2.2: a 4-octet non-zero identifier, unique inside an AS."""
    try:
        identifier = int(ipaddress.IPv4Address(remote.bgp_identifier))
    except ValueError:
        identifier = 0
    if identifier == 0:
        raise _open_error(
            OpenErrorSubcode.BAD_BGP_IDENTIFIER,
            f"BGP identifier {remote.bgp_identifier} is not a valid non-zero identifier",
        )
    if config.local_as == config.peer_as and identifier == int(
        ipaddress.IPv4Address(config.bgp_identifier)
    ):
        raise _open_error(
            OpenErrorSubcode.BAD_BGP_IDENTIFIER,
            f"internal peer uses our own BGP identifier {remote.bgp_identifier}",
        )


def _families(config: SessionConfig, remote: Capabilities) -> tuple[Family, ...]:
    """RFC 4760 §8: a peer without any Multiprotocol capability speaks IPv4 unicast only."""
    theirs = set(remote.multiprotocol) if remote.multiprotocol else {IPV4_UNICAST}
    return tuple(family for family in config.families if family in theirs)


def _add_path(
    config: SessionConfig, remote: Capabilities, families: tuple[Family, ...]
) -> tuple[frozenset[Family], frozenset[Family]]:
    """RFC 7911 §4: receive where we receive and they send; send where the reverse holds."""
    ours = dict(config.add_path)
    theirs = dict(remote.add_path)
    receive: set[Family] = set()
    send: set[Family] = set()
    for family in families:
        local_mode, remote_mode = ours.get(family), theirs.get(family)
        if local_mode is None or remote_mode is None:
            continue
        if local_mode in _RECEIVES and remote_mode in _SENDS:
            receive.add(family)
        if local_mode in _SENDS and remote_mode in _RECEIVES:
            send.add(family)
    return frozenset(receive), frozenset(send)


def negotiate(config: SessionConfig, local: Open, remote: Open) -> Negotiated:
    """Check the peer's OPEN against ``config`` and intersect it with ours (RFC 4271 §6.2).

    Raises:
        MessageError: 2/1 (data: the 2-octet version we support) for a version other
            than 4; 2/2 when the peer's AS (RFC 6793 §4.1: the 4-octet AS capability
            when present) is not the configured one; 2/3 for a bad BGP Identifier;
            2/6 for a Hold Time of 1 or 2 seconds.
    """
    if remote.version != BGP_VERSION:
        raise _open_error(
            OpenErrorSubcode.UNSUPPORTED_VERSION_NUMBER,
            f"version {remote.version} is not supported",
            BGP_VERSION.to_bytes(2, "big"),
        )
    if remote.asn != config.peer_as:
        raise _open_error(
            OpenErrorSubcode.BAD_PEER_AS,
            f"peer AS {remote.asn} is not the configured {config.peer_as}",
        )
    _check_identifier(config, remote)
    if remote.hold_time in (1, 2):
        raise _open_error(
            OpenErrorSubcode.UNACCEPTABLE_HOLD_TIME,
            f"hold time {remote.hold_time} is neither 0 nor at least 3 seconds",
        )
    mine, theirs = local.capabilities, remote.capabilities
    hold_time = min(local.hold_time, remote.hold_time)
    families = _families(config, theirs)
    add_path_receive, add_path_send = _add_path(config, theirs, families)
    return Negotiated(
        hold_time=hold_time,
        keepalive_time=hold_time // 3,
        peer_as=remote.asn,
        peer_bgp_identifier=remote.bgp_identifier,
        families=families,
        route_refresh=mine.route_refresh and theirs.route_refresh,
        enhanced_route_refresh=mine.enhanced_route_refresh and theirs.enhanced_route_refresh,
        four_octet_as=mine.four_octet_as is not None and theirs.four_octet_as is not None,
        add_path_receive=add_path_receive,
        add_path_send=add_path_send,
        extended_message=mine.extended_message and theirs.extended_message,
        graceful_restart=theirs.graceful_restart is not None,
        local_open=local,
        remote_open=remote,
    )
