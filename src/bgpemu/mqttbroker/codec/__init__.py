"""Sans-IO MQTT 3.1.1 / 5.0 codec: bytes in, packets out, and packets to bytes.

Theory of operation
-------------------
:class:`Decoder` is fed whatever the socket returned and gives back every complete
packet.  A packet is framed by its fixed header (5.0 §2.1): one byte of type and flags,
then the Remaining Length as a Variable Byte Integer (5.0 §1.5.5).  Frames are cut
first, checked against the size limit before their body is buffered, and then decoded
by type.  How the body is laid out depends on the protocol level, which a server learns
from the first packet, CONNECT (5.0 §3.1.2.2): until then only CONNECT can be decoded.

Any violation of a "MUST" that the receiver can see on the wire raises a
:class:`CodecError` carrying the 5.0 reason code to put in the DISCONNECT (5.0 §4.13):
:class:`MalformedPacketError` (0x81), :class:`ProtocolError` (0x82),
:class:`PacketTooLargeError` (0x95), or :class:`UnsupportedProtocolError` for a CONNECT of a
level this codec does not speak (answered by a CONNACK, 3.1.1 §3.1.2.2 / 5.0 §3.1.2.2).
After an error the connection is closed and the decoder is discarded.

:func:`encode` is the inverse.  Fields that exist only in 5.0 (properties, reason codes
of acknowledgements) are left out when encoding for 3.1.1.

Layout: :mod:`.framing` (Remaining Length, packet size), :mod:`.errors` (each with its
reason code), :mod:`.properties` (5.0 §2.2.2 tables), :mod:`.reader` (field reader),
:mod:`.decode` (:class:`Decoder`) and :mod:`.encode` (:func:`encode`).
"""

from __future__ import annotations

from bgpemu.mqttbroker.codec.decode import Decoder
from bgpemu.mqttbroker.codec.encode import encode
from bgpemu.mqttbroker.codec.errors import (
    CodecError,
    MalformedPacketError,
    PacketTooLargeError,
    ProtocolError,
    UnsupportedProtocolError,
)
from bgpemu.mqttbroker.codec.framing import MAX_PACKET_SIZE, decode_varint, encode_varint

__all__ = [
    "MAX_PACKET_SIZE",
    "CodecError",
    "Decoder",
    "MalformedPacketError",
    "PacketTooLargeError",
    "ProtocolError",
    "UnsupportedProtocolError",
    "decode_varint",
    "encode",
    "encode_varint",
]
