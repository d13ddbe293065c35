"""The one exception root of bgpemu (L0) and the errors every layer shares.

Every exception bgpemu raises on purpose derives from :class:`BgpEmuError`, so one
``except BgpEmuError`` catches them all; a class that keeps a builtin as a second base
(``ValueError``, ``OSError``, ``TimeoutError``) does so for callers that caught that
before.  Each class lives in the package that raises it (module after the name below).
Private exceptions (a leading underscore) are control flow inside one module and never
leave it; they are not part of the tree.  ``tests/unit/test_exception_tree.py`` walks
every ``bgpemu.*`` module and checks this drawing against the classes.

Hierarchy::

    BgpEmuError
    ├── MessageError            errors: a received message is malformed; carries the
    │                           RFC 4271 §4.5 NOTIFICATION to send before closing
    ├── EncodeError             errors: a message cannot be encoded as given
    │   └── MessageTooLongError errors: longer than the session allows (RFC 8654 §4)
    ├── ConfigError             errors: a configuration file with every problem found
    ├── FileLimitError          files: a file that is not a regular one or is over its
    │                           size limit; also ValueError
    ├── TransportError          errors: a socket-level failure of the TCP runtime
    │   └── Md5UnavailableError runtime.tcp_md5: no TCP-MD5 (RFC 2385); also OSError
    ├── NlriError               wire._nlri: a prefix list that does not parse (becomes
    │                           a MessageError or treat-as-withdraw); also ValueError
    ├── ConvergenceError        fabric.fabric: virtual time ran out before idle
    ├── SplitRunError           fabric.shard: a run on two cores needs both halves at
    │                           once (solve converges again on one core)
    ├── CompileError            azure.plan: a network that cannot be compiled into a
    │                           Plan (compile_network); also ValueError
    ├── UnknownAddressError     azure.traffic.trace: a flow from or to an address no
    │                           interface, appliance, gateway or on-prem range holds;
    │                           also ValueError
    ├── ObserveError            observe.errors: MQTT observation and publication
    │   ├── TopicError          a name that cannot be one topic level; also ValueError
    │   ├── MqttUrlError        a broker URL that does not parse; also ValueError
    │   ├── JsonNestingError    a client's JSON nested too deeply to decode; also
    │   │                       ValueError
    │   ├── MqttSecurityError   an unusable CA, certificate, key or password file;
    │   │                       also ValueError
    │   ├── BrokerUnreachableError  the broker did not accept a connection
    │   │   └── BrokerRefusedError  it answered and refused (TLS, CONNACK)
    │   └── SequenceGapError    a delta that does not follow its document
    ├── CodecError              mqttbroker.codec.errors: a packet the embedded broker
    │   │                       refuses, with its MQTT 5.0 reason code
    │   ├── MalformedPacketError
    │   ├── ProtocolError
    │   ├── PacketTooLargeError
    │   └── UnsupportedProtocolError
    ├── BrokerProcessError      mqttbroker.process: the broker process did not start
    ├── UsersFileError          mqttbroker.standalone: a users file that is not a JSON
    │                           object of user names to passwords; also ValueError
    ├── LabError                lab.errors (exported by lab.supervisor): the lab could
    │   │                       not start or refused
    │   ├── WorkerTimeoutError  a worker did not answer in time; also TimeoutError
    │   └── RoutesUnreadableError  a traffic answer could not read a speaker's routes
    │       └── LabMovedError   the lab converged again meanwhile (lab.traffic)
    ├── LabInputError           lab.errors: an injection or query names nothing real;
    │                           also ValueError
    ├── ListenError             lab.hosting: a speaker could not open its listener
    ├── BadValueError           lab.field_checks: one field of a command or question
    │                           refused; its parser words the refusal
    ├── LabStateError           testing.lab: not converged since the last change, or
    │                           stopped
    ├── RequestError            web.protocol: a web page's request refused; names the
    │                           field
    ├── NoAnswerError           cli.inject: a lab did not answer a command in time
    │                           (names the lab and its broker)
    ├── SplitProcessError       cli._solve_split: the other process of solve on two
    │                           cores failed or ended (a bug; its last words)
    └── UsageError              cli._observe_mqtt: a user-facing CLI error (exit 2)
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
    """A socket-level failure of the TCP runtime that bgpemu raises itself (today only
    :class:`~bgpemu.runtime.tcp_md5.Md5UnavailableError`); connection refusals and resets
    stay the ``OSError`` asyncio raises."""
