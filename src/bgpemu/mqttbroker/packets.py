"""MQTT control packets as frozen values, with the code points of MQTT 3.1.1 and 5.0.

Section numbers refer to the OASIS standards "MQTT Version 3.1.1" (2014) and "MQTT Version
5.0" (2019).  One set of classes serves both versions: fields that exist only in 5.0
(properties, reason codes of acknowledgements) keep their neutral default under 3.1.1 and
the encoder leaves them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

__all__ = [
    "MAX_PACKET_ID",
    "MAX_REMAINING_LENGTH",
    "PROTOCOL_NAME",
    "Auth",
    "Connack",
    "Connect",
    "ConnectReturnCode",
    "Disconnect",
    "Packet",
    "PacketType",
    "Pingreq",
    "Pingresp",
    "Properties",
    "PropertyId",
    "PropertyValue",
    "ProtocolLevel",
    "Puback",
    "Pubcomp",
    "Publish",
    "Pubrec",
    "Pubrel",
    "ReasonCode",
    "RetainHandling",
    "Suback",
    "Subscribe",
    "SubscriptionRequest",
    "Unsuback",
    "Unsubscribe",
    "Will",
    "first_property",
    "int_property",
    "property_values",
]

PROTOCOL_NAME = "MQTT"
"""The protocol name of a CONNECT packet in 3.1.1 and 5.0 (3.1.1 §3.1.2.1, 5.0 §3.1.2.1)."""

MAX_REMAINING_LENGTH = 268_435_455
"""Largest Remaining Length a four-byte Variable Byte Integer can carry (3.1.1 §2.2.3)."""

MAX_PACKET_ID = 65_535
"""Packet identifiers are non-zero 16-bit integers (3.1.1 §2.3.1, 5.0 §2.2.1)."""


class ProtocolLevel(IntEnum):
    """The Protocol Level byte of CONNECT (3.1.1 §3.1.2.2, 5.0 §3.1.2.2)."""

    MQTT_3_1_1 = 4
    MQTT_5 = 5


class PacketType(IntEnum):
    """Control packet types, the high nibble of the fixed header (5.0 §2.1.2)."""

    CONNECT = 1
    CONNACK = 2
    PUBLISH = 3
    PUBACK = 4
    PUBREC = 5
    PUBREL = 6
    PUBCOMP = 7
    SUBSCRIBE = 8
    SUBACK = 9
    UNSUBSCRIBE = 10
    UNSUBACK = 11
    PINGREQ = 12
    PINGRESP = 13
    DISCONNECT = 14
    AUTH = 15


class ConnectReturnCode(IntEnum):
    """CONNACK return codes of MQTT 3.1.1 (3.1.1 §3.2.2.3, table 3.1)."""

    ACCEPTED = 0x00
    UNACCEPTABLE_PROTOCOL_VERSION = 0x01
    IDENTIFIER_REJECTED = 0x02
    SERVER_UNAVAILABLE = 0x03
    BAD_USER_NAME_OR_PASSWORD = 0x04
    NOT_AUTHORIZED = 0x05


class ReasonCode(IntEnum):
    """MQTT 5.0 reason codes (5.0 §2.4, table 2-6); 0x80 is also 3.1.1's SUBACK Failure."""

    SUCCESS = 0x00
    GRANTED_QOS_1 = 0x01
    GRANTED_QOS_2 = 0x02
    DISCONNECT_WITH_WILL_MESSAGE = 0x04
    NO_MATCHING_SUBSCRIBERS = 0x10
    NO_SUBSCRIPTION_EXISTED = 0x11
    CONTINUE_AUTHENTICATION = 0x18
    RE_AUTHENTICATE = 0x19
    UNSPECIFIED_ERROR = 0x80
    MALFORMED_PACKET = 0x81
    PROTOCOL_ERROR = 0x82
    IMPLEMENTATION_SPECIFIC_ERROR = 0x83
    UNSUPPORTED_PROTOCOL_VERSION = 0x84
    CLIENT_IDENTIFIER_NOT_VALID = 0x85
    BAD_USER_NAME_OR_PASSWORD = 0x86
    NOT_AUTHORIZED = 0x87
    SERVER_UNAVAILABLE = 0x88
    SERVER_BUSY = 0x89
    BANNED = 0x8A
    SERVER_SHUTTING_DOWN = 0x8B
    BAD_AUTHENTICATION_METHOD = 0x8C
    KEEP_ALIVE_TIMEOUT = 0x8D
    SESSION_TAKEN_OVER = 0x8E
    TOPIC_FILTER_INVALID = 0x8F
    TOPIC_NAME_INVALID = 0x90
    PACKET_IDENTIFIER_IN_USE = 0x91
    PACKET_IDENTIFIER_NOT_FOUND = 0x92
    RECEIVE_MAXIMUM_EXCEEDED = 0x93
    TOPIC_ALIAS_INVALID = 0x94
    PACKET_TOO_LARGE = 0x95
    MESSAGE_RATE_TOO_HIGH = 0x96
    QUOTA_EXCEEDED = 0x97
    ADMINISTRATIVE_ACTION = 0x98
    PAYLOAD_FORMAT_INVALID = 0x99
    RETAIN_NOT_SUPPORTED = 0x9A
    QOS_NOT_SUPPORTED = 0x9B
    USE_ANOTHER_SERVER = 0x9C
    SERVER_MOVED = 0x9D
    SHARED_SUBSCRIPTIONS_NOT_SUPPORTED = 0x9E
    CONNECTION_RATE_EXCEEDED = 0x9F
    MAXIMUM_CONNECT_TIME = 0xA0
    SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED = 0xA1
    WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED = 0xA2


class PropertyId(IntEnum):
    """MQTT 5.0 property identifiers (5.0 §2.2.2.2, table 2-4)."""

    PAYLOAD_FORMAT_INDICATOR = 0x01
    MESSAGE_EXPIRY_INTERVAL = 0x02
    CONTENT_TYPE = 0x03
    RESPONSE_TOPIC = 0x08
    CORRELATION_DATA = 0x09
    SUBSCRIPTION_IDENTIFIER = 0x0B
    SESSION_EXPIRY_INTERVAL = 0x11
    ASSIGNED_CLIENT_IDENTIFIER = 0x12
    SERVER_KEEP_ALIVE = 0x13
    AUTHENTICATION_METHOD = 0x15
    AUTHENTICATION_DATA = 0x16
    REQUEST_PROBLEM_INFORMATION = 0x17
    WILL_DELAY_INTERVAL = 0x18
    REQUEST_RESPONSE_INFORMATION = 0x19
    RESPONSE_INFORMATION = 0x1A
    SERVER_REFERENCE = 0x1C
    REASON_STRING = 0x1F
    RECEIVE_MAXIMUM = 0x21
    TOPIC_ALIAS_MAXIMUM = 0x22
    TOPIC_ALIAS = 0x23
    MAXIMUM_QOS = 0x24
    RETAIN_AVAILABLE = 0x25
    USER_PROPERTY = 0x26
    MAXIMUM_PACKET_SIZE = 0x27
    WILDCARD_SUBSCRIPTION_AVAILABLE = 0x28
    SUBSCRIPTION_IDENTIFIER_AVAILABLE = 0x29
    SHARED_SUBSCRIPTION_AVAILABLE = 0x2A


class RetainHandling(IntEnum):
    """Retain Handling subscription option (5.0 §3.8.3.1)."""

    SEND_AT_SUBSCRIBE = 0
    SEND_IF_NEW_SUBSCRIPTION = 1
    DO_NOT_SEND = 2


PropertyValue = int | str | bytes | tuple[str, str]
"""A property value: an integer, a UTF-8 string, binary data, or a user-property pair."""

Properties = tuple[tuple[PropertyId, PropertyValue], ...]
"""Properties in wire order; User Property and Subscription Identifier may repeat."""


def property_values(properties: Properties, identifier: PropertyId) -> list[PropertyValue]:
    """Every value of ``identifier`` in ``properties``, in order."""
    return [value for key, value in properties if key is identifier]


def first_property(properties: Properties, identifier: PropertyId) -> PropertyValue | None:
    """The value of the first ``identifier`` in ``properties``, None when absent."""
    for key, value in properties:
        if key is identifier:
            return value
    return None


def int_property(properties: Properties, identifier: PropertyId, default: int) -> int:
    """The integer value of ``identifier`` in ``properties``, ``default`` when absent."""
    value = first_property(properties, identifier)
    return value if isinstance(value, int) else default


@dataclass(frozen=True, slots=True, kw_only=True)
class Will:
    """The Will Message of a CONNECT (3.1.1 §3.1.2.5, 5.0 §3.1.2.5 and §3.1.3.2)."""

    topic: str
    payload: bytes
    qos: int = 0
    retain: bool = False
    properties: Properties = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Connect:
    """CONNECT (3.1.1 §3.1, 5.0 §3.1); ``clean_start`` is 3.1.1's Clean Session flag."""

    protocol_level: int
    client_id: str
    clean_start: bool = True
    keep_alive: int = 0
    will: Will | None = None
    username: str | None = None
    password: bytes | None = None
    properties: Properties = ()
    protocol_name: str = PROTOCOL_NAME


@dataclass(frozen=True, slots=True, kw_only=True)
class Connack:
    """CONNACK (3.1.1 §3.2, 5.0 §3.2): a 3.1.1 return code or a 5.0 reason code."""

    session_present: bool = False
    reason_code: int = 0
    properties: Properties = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Publish:
    """PUBLISH (3.1.1 §3.3, 5.0 §3.3); ``packet_id`` is None exactly when QoS is 0."""

    topic: str
    payload: bytes = b""
    qos: int = 0
    retain: bool = False
    dup: bool = False
    packet_id: int | None = None
    properties: Properties = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class _Acknowledgement:
    """The layout the four packets of a QoS 1/2 flow share (5.0 §3.4.2: packet
    identifier, reason code, properties; 3.1.1 has the packet identifier only)."""

    packet_id: int
    reason_code: int = 0
    properties: Properties = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Puback(_Acknowledgement):
    """PUBACK (3.1.1 §3.4, 5.0 §3.4)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Pubrec(_Acknowledgement):
    """PUBREC (3.1.1 §3.5, 5.0 §3.5)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Pubrel(_Acknowledgement):
    """PUBREL (3.1.1 §3.6, 5.0 §3.6)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Pubcomp(_Acknowledgement):
    """PUBCOMP (3.1.1 §3.7, 5.0 §3.7)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionRequest:
    """One topic filter of a SUBSCRIBE with its options (3.1.1 §3.8.3, 5.0 §3.8.3.1).

    ``no_local``, ``retain_as_published`` and ``retain_handling`` exist only in 5.0.
    """

    topic_filter: str
    qos: int = 0
    no_local: bool = False
    retain_as_published: bool = False
    retain_handling: RetainHandling = RetainHandling.SEND_AT_SUBSCRIBE


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscribe:
    """SUBSCRIBE (3.1.1 §3.8, 5.0 §3.8)."""

    packet_id: int
    subscriptions: tuple[SubscriptionRequest, ...]
    properties: Properties = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Suback:
    """SUBACK (3.1.1 §3.9, 5.0 §3.9): one return/reason code per requested filter."""

    packet_id: int
    reason_codes: tuple[int, ...]
    properties: Properties = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Unsubscribe:
    """UNSUBSCRIBE (3.1.1 §3.10, 5.0 §3.10)."""

    packet_id: int
    topic_filters: tuple[str, ...]
    properties: Properties = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Unsuback:
    """UNSUBACK (3.1.1 §3.11, 5.0 §3.11); 3.1.1 carries no reason codes."""

    packet_id: int
    reason_codes: tuple[int, ...] = ()
    properties: Properties = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Pingreq:
    """PINGREQ (3.1.1 §3.12, 5.0 §3.12)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Pingresp:
    """PINGRESP (3.1.1 §3.13, 5.0 §3.13)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Disconnect:
    """DISCONNECT (3.1.1 §3.14, 5.0 §3.14); the reason code exists only in 5.0."""

    reason_code: int = 0
    properties: Properties = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Auth:
    """AUTH (5.0 §3.15): enhanced authentication, which this broker does not offer."""

    reason_code: int = 0
    properties: Properties = ()


Packet = (
    Connect
    | Connack
    | Publish
    | Puback
    | Pubrec
    | Pubrel
    | Pubcomp
    | Subscribe
    | Suback
    | Unsubscribe
    | Unsuback
    | Pingreq
    | Pingresp
    | Disconnect
    | Auth
)
"""Any MQTT control packet."""
