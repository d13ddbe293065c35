"""Splitting a TCP byte stream into whole BGP messages (RFC 4271 §4.1, §6.1).

Theory of operation: bytes are appended to one buffer; every complete message at the
front is sliced off and returned.  The header is checked as soon as its 19 octets
are there, so a bad marker or length is reported without waiting for a body that may
never come.  A ROUTE-REFRESH of the wrong length is reported once the whole message
is in, because its error data is the whole message (RFC 7313 §5).  After any error
the framer is dead: every later :meth:`Framer.feed` raises the same error, since the
stream can no longer be trusted to be in sync.
"""

from __future__ import annotations

from bgpemu.errors import MessageError
from bgpemu.wire.constants import (
    HEADER_LEN,
    MARKER,
    MAX_MESSAGE_SIZE,
    ErrorCode,
    HeaderErrorSubcode,
    MessageType,
    RouteRefreshErrorSubcode,
)

__all__ = ["Framer", "check_header"]

_HEADER = ErrorCode.MESSAGE_HEADER_ERROR
_BAD_LENGTH = HeaderErrorSubcode.BAD_MESSAGE_LENGTH
# RFC 4271 §6.1: the minimum (or exact) length of each message type.
_MIN_LENGTH = {
    MessageType.OPEN: 29,
    MessageType.UPDATE: 23,
    MessageType.NOTIFICATION: 21,
}
_ROUTE_REFRESH_LENGTH = 23  # RFC 2918 §3


def check_header(header: bytes, max_message_size: int) -> tuple[int, int]:
    """Validate a 19-octet header; returns (length, type) or raises MessageError.

    RFC 4271 §6.1: marker → 1/1 (no data); length outside 19..max or wrong for the
    type → 1/2 with the length field as data; unknown type → 1/3 with the type octet.
    """
    if header[:16] != MARKER:
        raise MessageError(
            _HEADER, HeaderErrorSubcode.CONNECTION_NOT_SYNCHRONIZED, b"", "bad marker"
        )
    length = (header[16] << 8) | header[17]
    if length < HEADER_LEN or length > max_message_size:
        raise MessageError(_HEADER, _BAD_LENGTH, header[16:18], f"message length {length}")
    msg_type = header[18]
    if not 1 <= msg_type <= 5:
        raise MessageError(
            _HEADER, HeaderErrorSubcode.BAD_MESSAGE_TYPE, header[18:19], f"type {msg_type}"
        )
    if msg_type == MessageType.KEEPALIVE:
        if length != HEADER_LEN:
            raise MessageError(_HEADER, _BAD_LENGTH, header[16:18], "KEEPALIVE length")
    elif msg_type != MessageType.ROUTE_REFRESH and length < _MIN_LENGTH[MessageType(msg_type)]:
        raise MessageError(_HEADER, _BAD_LENGTH, header[16:18], f"type {msg_type} too short")
    return length, msg_type


def check_route_refresh_length(message: bytes) -> None:
    """RFC 7313 §5: a ROUTE-REFRESH not 23 octets long → 7/1 with the whole message."""
    if len(message) != _ROUTE_REFRESH_LENGTH:
        raise MessageError(
            ErrorCode.ROUTE_REFRESH_MESSAGE_ERROR,
            RouteRefreshErrorSubcode.INVALID_MESSAGE_LENGTH,
            message,
            "ROUTE-REFRESH length",
        )


class Framer:
    """Splits a TCP byte stream into whole BGP messages (RFC 4271 §4.1, §6.1)."""

    def __init__(self, max_message_size: int = MAX_MESSAGE_SIZE) -> None:
        self.max_message_size = max_message_size
        """The largest acceptable message; 65535 after RFC 8654 negotiation."""
        self._buffer = bytearray()
        self._error: MessageError | None = None

    @property
    def buffered(self) -> int:
        """Bytes waiting for the rest of a message."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        """Append ``data``; return every complete message (header included), in order.

        Raises MessageError on a header error (see :func:`check_header`) or a
        ROUTE-REFRESH of the wrong length; after that every call raises it again.
        """
        if self._error is not None:
            raise self._error
        buf = self._buffer
        buf += data
        frames: list[bytes] = []
        pos = 0
        size = len(buf)
        try:
            while size - pos >= HEADER_LEN:
                length, msg_type = check_header(
                    bytes(buf[pos : pos + HEADER_LEN]), self.max_message_size
                )
                if size - pos < length:
                    break
                frame = bytes(buf[pos : pos + length])
                if msg_type == MessageType.ROUTE_REFRESH:
                    check_route_refresh_length(frame)
                frames.append(frame)
                pos += length
        except MessageError as exc:
            self._error = exc
            del buf[:]
            raise
        del buf[:pos]
        return frames
