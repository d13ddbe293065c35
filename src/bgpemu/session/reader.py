"""Cutting one connection's received bytes into messages (RFC 4271 §4.1), sans-IO.

Theory of operation: a :class:`FrameReader` wraps the wire :class:`~bgpemu.wire.Framer`
and remembers the bytes the framer holds back (the start of an incomplete message).
When a chunk contains a framing error (RFC 4271 §6.1 header error, RFC 7313 §5
ROUTE-REFRESH length), :meth:`FrameReader.feed` still returns the complete messages
that precede it, re-framed from those bytes one message at a time, so the session
handles them in order before the error.  Each new connection starts with a fresh
reader state (:meth:`FrameReader.reset`) and 4096-octet messages (RFC 8654 §3: larger
ones only once Extended Message is agreed).
"""

from __future__ import annotations

from bgpemu.errors import MessageError
from bgpemu.wire import Framer
from bgpemu.wire.constants import HEADER_LEN, MAX_MESSAGE_SIZE

__all__ = ["FrameReader"]


class FrameReader:
    """The framer of the current connection and the bytes it holds back."""

    __slots__ = ("_framer", "_tail")

    def __init__(self) -> None:
        self._framer = Framer(max_message_size=MAX_MESSAGE_SIZE)
        self._tail = b""

    def reset(self) -> None:
        """Forget everything buffered: a new connection (RFC 4271 §8.2.2 OpenSent)."""
        self._framer = Framer(max_message_size=MAX_MESSAGE_SIZE)
        self._tail = b""

    @property
    def max_message_size(self) -> int:
        """The largest message accepted (RFC 4271 §4.1: 4096; RFC 8654: 65535)."""
        return self._framer.max_message_size

    @max_message_size.setter
    def max_message_size(self, size: int) -> None:
        self._framer.max_message_size = size

    def feed(self, data: bytes) -> tuple[list[bytes], MessageError | None]:
        """The complete messages ``data`` ends, and the framing error that follows them.

        Without an error, the frames are the framer's and the error is None.  With one,
        the frames are the complete messages before the bad one and the error is the
        framer's; the reader is then unusable until :meth:`reset` (the session drops
        the connection on any framing error).
        """
        try:
            frames = self._framer.feed(data)
        except MessageError as exc:
            return _frames_before_error(self._tail + data, self._framer.max_message_size), exc
        self._remember_tail(data)
        return frames, None

    def _remember_tail(self, data: bytes) -> None:
        """Keep the bytes the framer holds back, to re-frame them after an error."""
        pending = self._framer.buffered
        if pending == 0:
            self._tail = b""
        elif pending <= len(data):
            self._tail = data[len(data) - pending :]
        else:
            self._tail = self._tail[len(self._tail) - (pending - len(data)) :] + data


def _frames_before_error(stream: bytes, max_message_size: int) -> list[bytes]:
    """The complete, well-framed messages at the front of ``stream`` (slow path).

    Used only after the framer rejected a chunk: a fresh framer is fed one message
    at a time, so the messages before the bad one are still processed in order.
    """
    probe = Framer(max_message_size=max_message_size)
    frames: list[bytes] = []
    pos = 0
    while len(stream) - pos >= HEADER_LEN:
        step = max(int.from_bytes(stream[pos + 16 : pos + 18], "big"), HEADER_LEN)
        try:
            got = probe.feed(stream[pos : pos + step])
        except MessageError:
            break
        if not got:
            break
        frames.extend(got)
        pos += step
    return frames
