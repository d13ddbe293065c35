"""Connecting to a broker: the client every part of the adapter uses, and a reachability check.

Every client speaks MQTT 3.1.1 (aiomqtt 2.x) and logs to ``bgpemu.observe.mqtt.client``;
documents are compact JSON (:func:`encode`), retained documents go at QoS 1 and deltas
at QoS 0 (docs/mqtt.md).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any

import aiomqtt

from bgpemu.observe.errors import BrokerUnreachableError
from bgpemu.observe.url import BrokerAddress, parse_mqtt_url

__all__ = [
    "EVENT_QOS",
    "RETAINED_QOS",
    "Payload",
    "broker_address",
    "check_broker",
    "encode",
    "mqtt_client",
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


def mqtt_client(address: BrokerAddress, **options: Any) -> aiomqtt.Client:
    """An MQTT 3.1.1 client of ``address`` logging to ``bgpemu.observe.mqtt.client``."""
    return aiomqtt.Client(
        address.host,
        address.port,
        protocol=aiomqtt.ProtocolVersion.V311,
        logger=_client_logger,
        **options,
    )


async def check_broker(url: str, timeout: float = 3.0) -> BrokerAddress:
    """Connect to the broker at ``url`` once (CONNECT/CONNACK) and disconnect.

    Raises :class:`~bgpemu.observe.errors.MqttUrlError` for a malformed URL and
    :class:`~bgpemu.observe.errors.BrokerUnreachableError`, naming ``url``, when no broker
    answers within ``timeout`` seconds.
    """
    address = parse_mqtt_url(url)
    try:
        async with asyncio.timeout(timeout):
            client = mqtt_client(address, timeout=timeout)
            async with client:
                pass
    except TimeoutError:
        raise BrokerUnreachableError(url, f"no answer within {timeout:g} s") from None
    except (aiomqtt.MqttError, OSError) as exc:
        raise BrokerUnreachableError(url, str(exc) or type(exc).__name__) from None
    return address
