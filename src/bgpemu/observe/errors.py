"""The errors of the observation layer (L8), all under :class:`~bgpemu.errors.BgpEmuError`."""

from __future__ import annotations

from bgpemu.errors import BgpEmuError

__all__ = [
    "BrokerRefusedError",
    "BrokerUnreachableError",
    "JsonNestingError",
    "MqttSecurityError",
    "MqttUrlError",
    "ObserveError",
    "SequenceGapError",
    "TopicError",
]


class ObserveError(BgpEmuError):
    """Root of the errors raised by :mod:`bgpemu.observe`."""


class TopicError(ObserveError, ValueError):
    """A lab, node or view name that cannot be one MQTT topic level."""


class MqttUrlError(ObserveError, ValueError):
    """A broker URL that is not ``mqtt://host[:port]``."""


class JsonNestingError(ObserveError, ValueError):
    """A JSON text nested too deeply for Python's recursive decoder (:mod:`.jsontext`)."""


class MqttSecurityError(ObserveError, ValueError):
    """A CA file, client certificate or key, or password file that cannot be used."""


class BrokerUnreachableError(ObserveError):
    """The MQTT broker at :attr:`url` did not accept a connection."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(self._message())

    def _message(self) -> str:
        return f"cannot reach the MQTT broker at {self.url}: {self.reason}"


class BrokerRefusedError(BrokerUnreachableError):
    """The MQTT broker at :attr:`url` answered but refused the client: a failed TLS
    handshake, or a CONNACK refusing its credentials (MQTT 3.1.1 §3.2.2.3)."""

    def _message(self) -> str:
        return f"MQTT broker {self.url}: {self.reason}"


class SequenceGapError(ObserveError):
    """A delta does not follow the table document it is applied to: re-read the snapshot."""

    def __init__(self, table: str, have: int, base: int, seq: int) -> None:
        self.table = table
        self.have = have
        self.base = base
        self.seq = seq
        super().__init__(
            f"{table}: document at seq {have}, delta {seq} applies to seq {base}; "
            "re-read the retained snapshot"
        )
