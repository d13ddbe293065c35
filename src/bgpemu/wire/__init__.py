"""bgpemu.wire: BGP-4 framing, encoding and decoding (layer L1).

The public surface: :class:`Framer` splits a TCP stream into messages,
:class:`Codec` turns each into a frozen dataclass from :mod:`bgpemu.wire.messages`
(and back), given the session's :class:`CodecContext`.  scapy stays inside this
package (``_scapy``); nothing that leaves it is a scapy object.
"""

from __future__ import annotations

from bgpemu.wire.codec import Codec, encode_message
from bgpemu.wire.constants import (
    HEADER_LEN,
    MARKER,
    MAX_EXTENDED_MESSAGE_SIZE,
    MAX_MESSAGE_SIZE,
    AttrFlag,
    AttrType,
    CapabilityCode,
    CeaseSubcode,
    ErrorCode,
    FsmErrorSubcode,
    HeaderErrorSubcode,
    MessageType,
    OpenErrorSubcode,
    RouteRefreshErrorSubcode,
    UpdateErrorSubcode,
)
from bgpemu.wire.context import CodecContext
from bgpemu.wire.framing import Framer
from bgpemu.wire.messages import (
    AddPathMode,
    Aggregator,
    AsPathSegment,
    Capabilities,
    GracefulRestart,
    Keepalive,
    Message,
    MpReach,
    MpUnreach,
    Notification,
    Open,
    Origin,
    PathAttributes,
    RouteRefresh,
    RouteRefreshSubtype,
    SegmentType,
    UnknownAttribute,
    Update,
    UpdateIssue,
    UpdateIssueAction,
)

__all__ = [
    "HEADER_LEN",
    "MARKER",
    "MAX_EXTENDED_MESSAGE_SIZE",
    "MAX_MESSAGE_SIZE",
    "AddPathMode",
    "Aggregator",
    "AsPathSegment",
    "AttrFlag",
    "AttrType",
    "Capabilities",
    "CapabilityCode",
    "CeaseSubcode",
    "Codec",
    "CodecContext",
    "ErrorCode",
    "Framer",
    "FsmErrorSubcode",
    "GracefulRestart",
    "HeaderErrorSubcode",
    "Keepalive",
    "Message",
    "MessageType",
    "MpReach",
    "MpUnreach",
    "Notification",
    "Open",
    "OpenErrorSubcode",
    "Origin",
    "PathAttributes",
    "RouteRefresh",
    "RouteRefreshErrorSubcode",
    "RouteRefreshSubtype",
    "SegmentType",
    "UnknownAttribute",
    "Update",
    "UpdateErrorSubcode",
    "UpdateIssue",
    "UpdateIssueAction",
    "encode_message",
]
