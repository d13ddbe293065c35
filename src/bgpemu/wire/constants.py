"""Wire-level code points of BGP-4 (IANA registries; RFC 4271 §4, §6 and later RFCs)."""

from __future__ import annotations

from enum import IntEnum

__all__ = [
    "HEADER_LEN",
    "MARKER",
    "MAX_EXTENDED_MESSAGE_SIZE",
    "MAX_MESSAGE_SIZE",
    "AttrFlag",
    "AttrType",
    "CapabilityCode",
    "CeaseSubcode",
    "ErrorCode",
    "FsmErrorSubcode",
    "HeaderErrorSubcode",
    "MessageType",
    "OpenErrorSubcode",
    "RouteRefreshErrorSubcode",
    "UpdateErrorSubcode",
]

MARKER = b"\xff" * 16
HEADER_LEN = 19
MAX_MESSAGE_SIZE = 4096  # RFC 4271 §4.1
MAX_EXTENDED_MESSAGE_SIZE = 65535  # RFC 8654 §3


class MessageType(IntEnum):
    """RFC 4271 §4.1, RFC 2918 §3."""

    OPEN = 1
    UPDATE = 2
    NOTIFICATION = 3
    KEEPALIVE = 4
    ROUTE_REFRESH = 5


class ErrorCode(IntEnum):
    """RFC 4271 §4.5, RFC 6608, RFC 7313."""

    MESSAGE_HEADER_ERROR = 1
    OPEN_MESSAGE_ERROR = 2
    UPDATE_MESSAGE_ERROR = 3
    HOLD_TIMER_EXPIRED = 4
    FSM_ERROR = 5
    CEASE = 6
    ROUTE_REFRESH_MESSAGE_ERROR = 7


class HeaderErrorSubcode(IntEnum):
    """RFC 4271 §6.1."""

    CONNECTION_NOT_SYNCHRONIZED = 1
    BAD_MESSAGE_LENGTH = 2
    BAD_MESSAGE_TYPE = 3


class OpenErrorSubcode(IntEnum):
    """RFC 4271 §6.2, RFC 5492 §5."""

    UNSUPPORTED_VERSION_NUMBER = 1
    BAD_PEER_AS = 2
    BAD_BGP_IDENTIFIER = 3
    UNSUPPORTED_OPTIONAL_PARAMETER = 4
    UNACCEPTABLE_HOLD_TIME = 6
    UNSUPPORTED_CAPABILITY = 7


class UpdateErrorSubcode(IntEnum):
    """RFC 4271 §6.3."""

    MALFORMED_ATTRIBUTE_LIST = 1
    UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE = 2
    MISSING_WELL_KNOWN_ATTRIBUTE = 3
    ATTRIBUTE_FLAGS_ERROR = 4
    ATTRIBUTE_LENGTH_ERROR = 5
    INVALID_ORIGIN_ATTRIBUTE = 6
    INVALID_NEXT_HOP_ATTRIBUTE = 8
    OPTIONAL_ATTRIBUTE_ERROR = 9
    INVALID_NETWORK_FIELD = 10
    MALFORMED_AS_PATH = 11


class FsmErrorSubcode(IntEnum):
    """RFC 6608 §3."""

    UNSPECIFIED = 0
    UNEXPECTED_MESSAGE_IN_OPEN_SENT = 1
    UNEXPECTED_MESSAGE_IN_OPEN_CONFIRM = 2
    UNEXPECTED_MESSAGE_IN_ESTABLISHED = 3


class CeaseSubcode(IntEnum):
    """RFC 4486 §4, RFC 8203."""

    MAXIMUM_PREFIXES_REACHED = 1
    ADMINISTRATIVE_SHUTDOWN = 2
    PEER_DECONFIGURED = 3
    ADMINISTRATIVE_RESET = 4
    CONNECTION_REJECTED = 5
    OTHER_CONFIGURATION_CHANGE = 6
    CONNECTION_COLLISION_RESOLUTION = 7
    OUT_OF_RESOURCES = 8


class RouteRefreshErrorSubcode(IntEnum):
    """RFC 7313 §5."""

    INVALID_MESSAGE_LENGTH = 1


class AttrFlag(IntEnum):
    """Path attribute flag bits (RFC 4271 §4.3)."""

    OPTIONAL = 0x80
    TRANSITIVE = 0x40
    PARTIAL = 0x20
    EXTENDED_LENGTH = 0x10


class AttrType(IntEnum):
    """Path attribute type codes (IANA)."""

    ORIGIN = 1
    AS_PATH = 2
    NEXT_HOP = 3
    MULTI_EXIT_DISC = 4
    LOCAL_PREF = 5
    ATOMIC_AGGREGATE = 6
    AGGREGATOR = 7
    COMMUNITIES = 8  # RFC 1997
    ORIGINATOR_ID = 9  # RFC 4456
    CLUSTER_LIST = 10  # RFC 4456
    MP_REACH_NLRI = 14  # RFC 4760
    MP_UNREACH_NLRI = 15  # RFC 4760
    EXTENDED_COMMUNITIES = 16  # RFC 4360
    AS4_PATH = 17  # RFC 6793
    AS4_AGGREGATOR = 18  # RFC 6793
    LARGE_COMMUNITY = 32  # RFC 8092


class CapabilityCode(IntEnum):
    """Capability codes (IANA; RFC 5492)."""

    MULTIPROTOCOL = 1  # RFC 4760
    ROUTE_REFRESH = 2  # RFC 2918
    EXTENDED_NEXT_HOP = 5  # RFC 8950
    EXTENDED_MESSAGE = 6  # RFC 8654
    GRACEFUL_RESTART = 64  # RFC 4724
    FOUR_OCTET_AS = 65  # RFC 6793
    ADD_PATH = 69  # RFC 7911
    ENHANCED_ROUTE_REFRESH = 70  # RFC 7313
