"""The MQTT options every command that talks to a broker shares: one place to add them
(:func:`add_mqtt_options`) and one to read them (:func:`broker_of`).

``--mqtt URL`` (``mqtt://host[:port]`` or ``mqtts://host[:port]`` for TLS), ``--mqtt-ca``,
``--mqtt-cert`` and ``--mqtt-key`` (TLS files), and the credentials: the user name from
``--mqtt-username``, the URL (``mqtt://user@host``) or ``$BGPEMU_MQTT_USERNAME``; the
password from ``--mqtt-password-file`` or ``$BGPEMU_MQTT_PASSWORD``, never from the
command line (docs/mqtt.md, "Security").

Which lab and which broker (:func:`resolve_lab`, the one place every command that takes
``--lab`` and ``--mqtt`` reads them): ``--lab``, else ``$BGPEMU_LAB``; ``--mqtt``, else
``$BGPEMU_MQTT``, else the broker of the lab running on this machine (its state file,
:mod:`bgpemu.lab.state_files`: the named lab's, or the only one's), else
:data:`DEFAULT_MQTT`.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bgpemu.observe.url import BrokerAddress

__all__ = [
    "DEFAULT_MQTT",
    "ENV_LAB",
    "ENV_MQTT",
    "ENV_PASSWORD",
    "ENV_USERNAME",
    "add_mqtt_options",
    "broker_of",
    "resolve_lab",
    "security_options",
]

DEFAULT_MQTT = "mqtt://127.0.0.1:1883"
"""The broker a command talks to when neither ``--mqtt`` nor a running lab names one."""

_SECURITY = ("ca", "cert", "key", "username", "password_file")

ENV_USERNAME = "BGPEMU_MQTT_USERNAME"
ENV_PASSWORD = "BGPEMU_MQTT_PASSWORD"
ENV_MQTT = "BGPEMU_MQTT"
"""The default of ``--mqtt``."""
ENV_LAB = "BGPEMU_LAB"
"""The default of ``--lab``."""

_PASSWORD_FILE_MAX = 65536
_FIRST_LINE = re.compile(rb"\r\n|\r|\n")  # the line ends text mode reads


def add_mqtt_options(parser: argparse.ArgumentParser, *, default: str | None, help: str) -> None:
    """Add ``--mqtt`` (with this command's ``default`` and ``help``) and the TLS and
    credential options to ``parser``."""
    parser.add_argument("--mqtt", metavar="URL", default=default, help=help)
    group = parser.add_argument_group("MQTT security (docs/mqtt.md)")
    group.add_argument(
        "--mqtt-ca",
        metavar="FILE",
        help="CA certificates (PEM) that verify an mqtts:// broker (default: the system's)",
    )
    group.add_argument(
        "--mqtt-cert", metavar="FILE", help="client certificate (PEM) for an mqtts:// broker"
    )
    group.add_argument(
        "--mqtt-key", metavar="FILE", help="its private key (default: in --mqtt-cert's file)"
    )
    group.add_argument(
        "--mqtt-username",
        metavar="NAME",
        help=f"user name (default: the URL's user, else ${ENV_USERNAME})",
    )
    group.add_argument(
        "--mqtt-password-file",
        metavar="FILE",
        help=f"file whose first line is the password (default: ${ENV_PASSWORD})",
    )


def broker_of(
    args: argparse.Namespace, url: str, environ: Mapping[str, str] | None = None
) -> BrokerAddress:
    """The broker at ``url`` with the TLS files and credentials of ``args`` and the
    environment.

    Raises :class:`~bgpemu.observe.errors.MqttUrlError` for a bad URL (or a password in
    it) and :class:`~bgpemu.observe.errors.MqttSecurityError` for an unreadable password
    file or a password without a user name.
    """
    from bgpemu.observe.errors import MqttSecurityError
    from bgpemu.observe.url import parse_mqtt_url

    env = os.environ if environ is None else environ
    address = parse_mqtt_url(url)
    ca, cert, key = (
        os.path.abspath(path) if path else None  # the lab's workers may read them later
        for path in (getattr(args, f"mqtt_{n}", None) for n in ("ca", "cert", "key"))
    )
    if ca or cert or key:
        address = address.with_tls_files(ca, cert, key)
    username = getattr(args, "mqtt_username", None) or address.username or env.get(ENV_USERNAME)
    password_file = getattr(args, "mqtt_password_file", None)
    password = _read_password(password_file) if password_file else env.get(ENV_PASSWORD)
    if password is not None and not username:
        source = f"--mqtt-password-file {password_file}" if password_file else f"${ENV_PASSWORD}"
        raise MqttSecurityError(
            f"{address.url}: a password ({source}) without a user name: give --mqtt-username "
            f"or set ${ENV_USERNAME}"
        )
    return address.with_credentials(username or None, password)


def resolve_lab(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> None:
    """Fill in ``args.lab`` and ``args.mqtt`` where the command line left them out.

    ``args.lab``: ``$BGPEMU_LAB``, else None (the command then picks the only lab).
    ``args.mqtt``: ``$BGPEMU_MQTT``, else the broker recorded by the lab running on this
    machine (the named lab's state file, or the only running lab's), else
    :data:`DEFAULT_MQTT`.
    """
    from bgpemu.lab.state_files import read_state

    env = os.environ if environ is None else environ
    if getattr(args, "lab", None) is None:
        args.lab = env.get(ENV_LAB) or None
    if getattr(args, "mqtt", None) is None:
        url = env.get(ENV_MQTT) or None
        if url is None:
            brokers = {str(s["mqtt"]) for s in read_state(args.lab) if s.get("mqtt")}
            url = brokers.pop() if len(brokers) == 1 else None
        args.mqtt = url or DEFAULT_MQTT


def security_options(args: argparse.Namespace) -> list[str]:
    """The TLS and credential options given on the command line (``--mqtt-ca``...)."""
    return [
        f"--mqtt-{name.replace('_', '-')}"
        for name in _SECURITY
        if getattr(args, f"mqtt_{name}", None) is not None
    ]


def _read_password(path: str) -> str:
    """The first line of the file at ``path`` (of at most :data:`_PASSWORD_FILE_MAX`
    bytes; a pipe such as ``<(pass show lab)`` is read too)."""
    from bgpemu.files import FileLimitError, read_limited
    from bgpemu.observe.errors import MqttSecurityError

    try:
        data = read_limited(path, _PASSWORD_FILE_MAX, regular_only=False)
    except FileLimitError:
        raise MqttSecurityError(
            f"--mqtt-password-file {path}: larger than {_PASSWORD_FILE_MAX} bytes"
        ) from None
    except OSError as exc:
        raise MqttSecurityError(f"--mqtt-password-file {path}: {exc.strerror or exc}") from None
    try:
        password = _FIRST_LINE.split(data, maxsplit=1)[0].decode("utf-8")
    except UnicodeDecodeError:
        raise MqttSecurityError(f"--mqtt-password-file {path}: not UTF-8 text") from None
    if not password:
        raise MqttSecurityError(f"--mqtt-password-file {path}: the first line is empty")
    return password
