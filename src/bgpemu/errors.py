"""The one exception root of bgpemu (L0) and the errors every layer shares.

Hierarchy::

    BgpEmuError
    ├── MessageError        a received message is malformed: carries the RFC 4271 §4.5
    │                       NOTIFICATION (code, subcode, data) to send before closing
    ├── EncodeError         a message cannot be encoded (our bug or a caller's misuse)
    │   └── MessageTooLongError  it would exceed the session's maximum message size
    ├── ConfigError         a configuration file is invalid: carries every problem found
    └── TransportError      a socket-level failure, translated at the runtime boundary
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BgpEmuError",
    "ConfigError",
    "ConfigProblem",
    "EncodeError",
    "MessageError",
    "MessageTooLongError",
    "TransportError",
]


class BgpEmuError(Exception):
    """Root of every exception bgpemu raises on purpose."""


class MessageError(BgpEmuError):
    """A malformed message: the session answers with this NOTIFICATION and closes.

    RFC 4271 §6: "When any of the conditions described here are detected, a
    NOTIFICATION message, with the indicated Error Code, Error Subcode, and Data
    fields, is sent, and the BGP connection is closed".
    """

    def __init__(self, code: int, subcode: int, data: bytes = b"", reason: str = "") -> None:
        self.code = code
        self.subcode = subcode
        self.data = data
        self.reason = reason
        super().__init__(
            f"NOTIFICATION {code}/{subcode}: {reason}" if reason else f"{code}/{subcode}"
        )


class EncodeError(BgpEmuError):
    """A message or attribute that cannot be put on the wire as given."""


class MessageTooLongError(EncodeError):
    """The message would be longer than the session allows: 4,096 octets (RFC 4271
    §4.1), or 65,535 when both ends sent the Extended Message capability (RFC 8654 §4:
    a speaker MUST NOT send a longer message to a peer that did not advertise it)."""


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One problem in a configuration file: where it is, what is wrong, and a hint."""

    file: str
    location: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.file}: {self.location}" if self.location else self.file
        return f"{where}: {self.message}" + (f" (hint: {self.hint})" if self.hint else "")


class ConfigError(BgpEmuError):
    """A configuration file with one or more problems, all reported at once."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class TransportError(BgpEmuError):
    """A TCP-level failure (refused, reset, unreachable), translated by the runtime."""
