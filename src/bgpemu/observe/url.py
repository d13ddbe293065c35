"""``mqtt://host[:port]`` broker URLs (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from bgpemu.observe.errors import MqttUrlError

__all__ = ["DEFAULT_PORT", "BrokerAddress", "parse_mqtt_url"]

DEFAULT_PORT = 1883
"""The IANA port of MQTT over TCP."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerAddress:
    """Where an MQTT broker listens."""

    host: str
    port: int = DEFAULT_PORT

    @property
    def url(self) -> str:
        """The canonical ``mqtt://`` URL of this address."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"mqtt://{host}:{self.port}"


def parse_mqtt_url(url: str) -> BrokerAddress:
    """Parse ``mqtt://host[:port]`` (port 1883 when omitted; IPv6 hosts in brackets).

    Raises :class:`MqttUrlError` naming the URL and what is wrong with it.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise MqttUrlError(f"invalid MQTT URL {url!r}: {exc}") from None
    if parts.scheme != "mqtt":
        raise MqttUrlError(
            f"invalid MQTT URL {url!r}: the scheme must be mqtt:// (got {parts.scheme or 'none'!r})"
        )
    if not parts.hostname:
        raise MqttUrlError(f"invalid MQTT URL {url!r}: no host (expected mqtt://host:port)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise MqttUrlError(f"invalid MQTT URL {url!r}: no path, query or fragment allowed")
    if parts.username is not None or parts.password is not None:
        raise MqttUrlError(f"invalid MQTT URL {url!r}: credentials are not supported")
    if port == 0:
        raise MqttUrlError(f"invalid MQTT URL {url!r}: port 0")
    return BrokerAddress(host=parts.hostname, port=DEFAULT_PORT if port is None else port)
