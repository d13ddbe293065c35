"""``mqtt://`` and ``mqtts://`` broker URLs and what a client needs to reach a broker (pure).

A :class:`BrokerAddress` is everything a client of bgpemu needs to connect: host and port,
TLS (``mqtts://``, MQTT over TLS on port 8883 by default, with an optional CA file and
client certificate and key), and an optional user name and password (MQTT 3.1.1 §3.1.3.4,
§3.1.3.5).  The password never appears in a URL, a ``repr`` or a log line: a URL that
carries one is refused (a command line is visible to every user of the machine and stays
in the shell history), and :attr:`BrokerAddress.url` has none.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from bgpemu.observe.errors import MqttUrlError

__all__ = ["DEFAULT_PORT", "DEFAULT_TLS_PORT", "BrokerAddress", "parse_mqtt_url"]

DEFAULT_PORT = 1883
"""The IANA port of MQTT over TCP."""

DEFAULT_TLS_PORT = 8883
"""The IANA port of MQTT over TLS (``mqtts://``)."""

_SCHEMES = {"mqtt": False, "mqtts": True}


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerAddress:
    """Where an MQTT broker listens, and how to authenticate to it.

    ``tls`` is MQTT over TLS; ``ca_file`` the CA certificates that verify the broker
    (None: the system's), ``cert_file``/``key_file`` a client certificate.  ``username``
    and ``password`` go in the CONNECT; the password is left out of ``repr``.
    """

    host: str
    port: int = DEFAULT_PORT
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    username: str | None = None
    password: str | None = dataclasses.field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.tls and (self.ca_file or self.cert_file or self.key_file):
            raise MqttUrlError(
                f"{self.url}: a CA file or client certificate needs TLS: use mqtts://"
            )
        if self.key_file and not self.cert_file:
            raise MqttUrlError(f"{self.url}: a client key without a client certificate")
        if self.password is not None and self.username is None:
            raise MqttUrlError(f"{self.url}: a password without a user name")

    @property
    def url(self) -> str:
        """The canonical URL of this address (never with credentials)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{host}:{self.port}"

    @property
    def who(self) -> str:
        """``user NAME`` or ``an anonymous client``, for messages."""
        return f"user {self.username!r}" if self.username is not None else "an anonymous client"

    def with_credentials(self, username: str | None, password: str | None) -> BrokerAddress:
        """This address with another user name and password."""
        return dataclasses.replace(self, username=username, password=password)

    def with_tls_files(
        self, ca_file: str | None, cert_file: str | None, key_file: str | None
    ) -> BrokerAddress:
        """This address with a CA file and client certificate (only with ``mqtts://``)."""
        return dataclasses.replace(self, ca_file=ca_file, cert_file=cert_file, key_file=key_file)


def parse_mqtt_url(url: str) -> BrokerAddress:
    """Parse ``mqtt://[user@]host[:port]`` (port 1883 when omitted) or ``mqtts://...``
    (TLS, port 8883 when omitted); IPv6 hosts in brackets.

    Raises :class:`MqttUrlError` naming the URL and what is wrong with it; a password in
    the URL is refused with where to give it instead.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise MqttUrlError(f"invalid MQTT URL {url!r}: {exc}") from None
    if parts.scheme not in _SCHEMES:
        raise MqttUrlError(
            f"invalid MQTT URL {url!r}: the scheme must be mqtt:// or mqtts:// "
            f"(got {parts.scheme or 'none'!r})"
        )
    if not parts.hostname:
        raise MqttUrlError(f"invalid MQTT URL {url!r}: no host (expected mqtt://host:port)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise MqttUrlError(f"invalid MQTT URL {url!r}: no path, query or fragment allowed")
    if parts.password is not None:
        shown = url.strip().replace(f":{parts.password}@", ":***@", 1)
        raise MqttUrlError(
            f"invalid MQTT URL {shown!r}: no password in a URL (a command line is visible "
            "to other users and kept in the shell history); give it in the environment "
            "(BGPEMU_MQTT_PASSWORD) or in a file (--mqtt-password-file)"
        )
    if port == 0:
        raise MqttUrlError(f"invalid MQTT URL {url!r}: port 0")
    tls = _SCHEMES[parts.scheme]
    return BrokerAddress(
        host=parts.hostname,
        port=(DEFAULT_TLS_PORT if tls else DEFAULT_PORT) if port is None else port,
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
    )
