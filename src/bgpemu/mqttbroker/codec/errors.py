"""The codec's errors: each carries the MQTT 5.0 reason code to put in the DISCONNECT.

5.0 §4.13: a receiver that sees a Malformed Packet or Protocol Error closes the network
connection, a 5.0 server first sending DISCONNECT with the reason code.  An unsupported
protocol level is answered by a CONNACK instead (3.1.1 §3.1.2.2 / 5.0 §3.1.2.2).
"""

from __future__ import annotations

from bgpemu.errors import BgpEmuError
from bgpemu.mqttbroker.packets import PROTOCOL_NAME, ReasonCode

__all__ = [
    "CodecError",
    "MalformedPacketError",
    "PacketTooLargeError",
    "ProtocolError",
    "UnsupportedProtocolError",
]

_LEGACY_PROTOCOL_NAME = "MQIsdp"  # MQTT 3.1, protocol level 3


class CodecError(BgpEmuError):
    """A packet the receiver must refuse; ``reason_code`` goes in the 5.0 DISCONNECT."""

    reason_code: ReasonCode = ReasonCode.UNSPECIFIED_ERROR

    def __init__(self, message: str, reason_code: ReasonCode | None = None) -> None:
        super().__init__(message)
        if reason_code is not None:
            self.reason_code = reason_code


class MalformedPacketError(CodecError):
    """The bytes do not follow the packet layout (5.0 §4.13: Malformed Packet)."""

    reason_code = ReasonCode.MALFORMED_PACKET


class ProtocolError(CodecError):
    """A well-formed packet that breaks a protocol rule (5.0 §4.13: Protocol Error)."""

    reason_code = ReasonCode.PROTOCOL_ERROR


class PacketTooLargeError(CodecError):
    """A packet over the receiver's Maximum Packet Size (5.0 §3.1.2.11.4)."""

    reason_code = ReasonCode.PACKET_TOO_LARGE


class UnsupportedProtocolError(CodecError):
    """A CONNECT for a protocol name or level this codec does not speak.

    3.1.1 §3.1.2.2 answers an unsupported level with return code 0x01; 5.0 §3.1.2.2 with
    reason code 0x84.  ``name`` tells the server whether the peer speaks MQTT at all.
    """

    reason_code = ReasonCode.UNSUPPORTED_PROTOCOL_VERSION

    def __init__(self, name: str, level: int) -> None:
        self.name = name
        self.level = level
        super().__init__(f"unsupported protocol {name!r} level {level}")

    @property
    def is_mqtt(self) -> bool:
        """True when the protocol name is one of MQTT's own ("MQTT" or 3.1's "MQIsdp")."""
        return self.name in (PROTOCOL_NAME, _LEGACY_PROTOCOL_NAME)
