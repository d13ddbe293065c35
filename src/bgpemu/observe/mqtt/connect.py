"""Connecting to a broker: the client every part of the adapter uses, and a reachability check.

Every client speaks MQTT 3.1.1 (aiomqtt 2.x) and logs to ``bgpemu.observe.mqtt.client``;
documents are compact JSON (:func:`encode`), retained documents go at QoS 1 and deltas
at QoS 0 (docs/mqtt.md).  :func:`mqtt_client` is the one client factory: it carries the
address's TLS settings (``mqtts://``: the CA file, the client certificate) and its
credentials, so every publisher, observer and control client connects the same way;
:func:`connect_problem` says why a connection failed, naming the user the broker refused;
:func:`connection` enters a client and leaves no socket behind, however it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import ssl
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiomqtt
from aiomqtt.exceptions import MqttConnectError

from bgpemu.observe.errors import BrokerRefusedError, BrokerUnreachableError, MqttSecurityError
from bgpemu.observe.url import BrokerAddress, parse_mqtt_url

__all__ = [
    "EVENT_QOS",
    "RETAINED_QOS",
    "Payload",
    "broker_address",
    "check_broker",
    "connect_error",
    "connect_problem",
    "connection",
    "encode",
    "mqtt_client",
    "tls_context",
]

_client_logger = logging.getLogger("bgpemu.observe.mqtt.client")

Payload = Mapping[str, Any] | bytes
RETAINED_QOS = 1
EVENT_QOS = 0


def encode(payload: Payload) -> bytes:
    """Compact JSON bytes for a document (bytes pass through unchanged)."""
    if isinstance(payload, bytes):
        return payload
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def broker_address(broker: str | BrokerAddress) -> BrokerAddress:
    """``broker`` as an address (a URL is parsed, 3.1.1 over TCP)."""
    return parse_mqtt_url(broker) if isinstance(broker, str) else broker


@functools.lru_cache(maxsize=16)
def tls_context(address: BrokerAddress) -> ssl.SSLContext | None:
    """The TLS context of an ``mqtts://`` address (None for ``mqtt://``): the broker's
    certificate and host name are verified against ``ca_file`` (else the system's CAs),
    and the client certificate is offered when there is one.  Made once per address and
    process (every publisher of a worker shares it; a reconnection reads no file).

    Raises :class:`~bgpemu.observe.errors.MqttSecurityError` naming the file that cannot
    be read or used.
    """
    if not address.tls:
        return None
    try:
        context = ssl.create_default_context(cafile=address.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise MqttSecurityError(
            f"{address.url}: cannot use the CA file {address.ca_file}: {_ssl_reason(exc)}"
        ) from None
    if address.cert_file:
        try:
            context.load_cert_chain(address.cert_file, address.key_file)
        except (OSError, ssl.SSLError) as exc:
            files = " and ".join(f for f in (address.cert_file, address.key_file) if f)
            raise MqttSecurityError(
                f"{address.url}: cannot use the client certificate {files}: {_ssl_reason(exc)}"
            ) from None
    return context


def _ssl_reason(exc: BaseException) -> str:
    verify = getattr(exc, "verify_message", None)
    reason = getattr(exc, "reason", None)
    if isinstance(exc, ssl.SSLError) and verify:
        return f"{verify} ({reason}; is the CA file the one that signed the broker's?)"
    if isinstance(exc, ssl.SSLError) and reason:
        return f"{reason} ({getattr(exc, 'library', None) or 'ssl'})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if exc.args and isinstance(exc.args[0], str):
        return exc.args[0]
    return str(exc) or type(exc).__name__


def mqtt_client(address: BrokerAddress, **options: Any) -> aiomqtt.Client:
    """An MQTT 3.1.1 client of ``address`` logging to ``bgpemu.observe.mqtt.client``, with
    the address's TLS settings and credentials; ``options`` are aiomqtt's (``will``,
    ``identifier``, ``timeout``...).

    Raises :class:`~bgpemu.observe.errors.MqttSecurityError` when a TLS file is unusable.
    """
    return aiomqtt.Client(
        address.host,
        address.port,
        protocol=aiomqtt.ProtocolVersion.V311,
        logger=_client_logger,
        username=address.username,
        password=address.password,
        tls_context=tls_context(address),
        **options,
    )


@contextlib.asynccontextmanager
async def connection(client: aiomqtt.Client) -> AsyncIterator[aiomqtt.Client]:
    """``async with client``, leaving no socket open however it ends.

    aiomqtt 2.x closes the socket when it disconnects cleanly, but not when entering or
    leaving is interrupted: a CONNACK that does not come within its timeout, a task
    cancelled (a lab stopping, ``asyncio.timeout``) while it connects, waits for the
    CONNACK or for the DISCONNECT to go out.  The socket then stays registered with the
    event loop with its housekeeping task, and is closed only when the client is
    collected, by then maybe on a closed loop ("Event loop is closed" from
    ``Client.__del__``).  Every client of this package is entered through here, once:
    a client whose entering failed is abandoned (:func:`_abandon`).
    """
    entered = False
    try:
        async with client:
            entered = True
            yield client
    finally:
        if entered:
            _close_leftover(client)
        else:
            _abandon(client)


def _close_leftover(client: aiomqtt.Client) -> None:
    """Close the socket an interrupted connection left open; paho's own close
    unregisters it through aiomqtt's callback.  A closed connection is left alone."""
    paho = client._client
    if paho.socket() is not None:
        paho._sock_close()


def _abandon(client: aiomqtt.Client) -> None:
    """Close what a failed or cancelled CONNECT left, and cut the client off the loop.

    A CONNACK that does not come (a broker that accepts TCP but does not answer:
    stopped, overloaded) leaves the socket open and registered; left so, the broker
    answers it once it runs again and, the client id being the same, takes the live
    connection over.  A task cancelled while aiomqtt connects in its executor thread
    leaves that thread running: the socket it opens afterwards would register itself
    with the loop.  Without aiomqtt's socket callbacks, that socket is closed as soon
    as it is opened, in the thread, without touching the loop.
    """
    _close_leftover(client)
    paho = client._client
    paho.on_socket_close = None
    paho.on_socket_register_write = None
    paho.on_socket_unregister_write = None
    paho.on_disconnect = None
    paho.on_socket_open = _close_at_once


def _close_at_once(paho: Any, _userdata: object, _sock: object) -> None:
    """paho's ``on_socket_open`` of an abandoned client: close the new socket."""
    paho._sock_close()


_REFUSALS = {
    0x04: "bad user name or password",  # 3.1.1 §3.2.2.3
    0x86: "bad user name or password",  # 5.0 §3.2.2.2 (paho reports 3.1.1 codes so)
    0x05: "not authorised",
    0x87: "not authorised",
}


def connect_problem(address: BrokerAddress, exc: BaseException) -> tuple[bool, str]:
    """Why connecting to ``address`` failed: ``(refused, reason)``.

    ``refused`` is True when the broker answered and the connection was not made: its
    CONNACK refused the credentials (3.1.1 §3.2.2.3: ``the broker refused user 'X': not
    authorised``), or the TLS handshake failed (an unverifiable certificate, a client
    certificate required).
    """
    rc = getattr(exc, "rc", None)
    if isinstance(exc, MqttConnectError) and rc is not None:
        code = int(getattr(rc, "value", rc))
        refusal = _REFUSALS.get(code, f"CONNACK code {code:#04x} ({exc})")
        return True, f"the broker refused {address.who}: {refusal}"
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return True, f"TLS handshake failed: {_ssl_reason(cause)}"
        cause = cause.__cause__ or cause.__context__
    text = str(exc)
    if "SSL" in text or "certificate" in text:
        return True, f"TLS handshake failed: {text}"
    return False, text or type(exc).__name__


def connect_error(address: BrokerAddress, exc: BaseException) -> BrokerUnreachableError:
    """The error to raise for a failed connection (:func:`connect_problem`)."""
    refused, reason = connect_problem(address, exc)
    if refused:
        return BrokerRefusedError(address.url, reason)
    return BrokerUnreachableError(address.url, reason)


_PROBE_CONNECT = bytes.fromhex("100c00044d515454040200000000")
"""An anonymous MQTT 3.1.1 CONNECT (clean session, no keepalive, empty client id)."""


async def _tls_handshake(address: BrokerAddress) -> None:
    """Open one TLS connection to an ``mqtts://`` broker, send an anonymous CONNECT and
    read the answer's first bytes, then close.

    A failed handshake is reported by asyncio with its reason and its socket closed
    (paho leaves it open); with TLS 1.3 a broker that requires a client certificate
    says so only after the handshake, in an alert that the read raises (paho only logs
    it and then waits for a CONNACK that never comes).
    """
    context = tls_context(address)
    if context is None:
        return
    reader, writer = await asyncio.open_connection(address.host, address.port, ssl=context)
    try:
        writer.write(_PROBE_CONNECT)
        await writer.drain()
        answer = await reader.read(4)
    except ssl.SSLError:
        raise
    except OSError:
        answer = b""
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
    if not answer:
        hint = "" if address.cert_file else "; does it require a client certificate?"
        raise _ClosedAfterHandshake(
            f"the broker closed the connection after the TLS handshake{hint}"
        )


class _ClosedAfterHandshake(ssl.SSLError):
    """A TLS broker that hung up on a CONNECT: its TLS 1.3 refusal of the client."""


async def check_broker(broker: str | BrokerAddress, timeout: float = 3.0) -> BrokerAddress:
    """Connect to the broker at ``broker`` once (CONNECT/CONNACK) and disconnect.

    Raises :class:`~bgpemu.observe.errors.MqttUrlError` for a malformed URL,
    :class:`~bgpemu.observe.errors.MqttSecurityError` for an unusable CA file or client
    certificate, :class:`~bgpemu.observe.errors.BrokerRefusedError` when the broker
    refuses the TLS handshake or the credentials, and
    :class:`~bgpemu.observe.errors.BrokerUnreachableError`, naming the URL, when no broker
    answers within ``timeout`` seconds.
    """
    address = broker_address(broker)
    client = mqtt_client(address, timeout=timeout)
    try:
        async with asyncio.timeout(timeout):
            await _tls_handshake(address)
            async with connection(client):
                pass
    except TimeoutError:
        hint = "" if address.tls else " (if it expects TLS, use mqtts://)"
        raise BrokerUnreachableError(address.url, f"no answer within {timeout:g} s{hint}") from None
    except (aiomqtt.MqttError, OSError) as exc:
        raise connect_error(address, exc) from None
    return address
