"""One-off exchanges with a broker: the lab's ``control`` topic and lab discovery.

:func:`listen_control` feeds a lab the commands sent to it; :func:`send_control` sends one
and collects the lab's answering events; :func:`retained_labs` lists the labs by their
retained ``state`` documents (docs/mqtt.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiomqtt

from bgpemu.observe.errors import BrokerUnreachableError, MqttSecurityError
from bgpemu.observe.jsontext import loads
from bgpemu.observe.mqtt.connect import (
    broker_address,
    connect_error,
    connect_problem,
    connection,
    encode,
    mqtt_client,
)
from bgpemu.observe.topics import ROOT, LabTopics, parse_topic
from bgpemu.observe.url import BrokerAddress

__all__ = ["listen_control", "retained_labs", "send_control"]

logger = logging.getLogger(__name__)


async def listen_control(
    broker: str | BrokerAddress,
    lab: str,
    handle: Callable[[bytes], Awaitable[None]],
    *,
    backoff: tuple[float, float] = (0.05, 2.0),
) -> None:
    """Call ``handle`` with every message on the lab's ``control`` topic; until cancelled.

    Reconnects with backoff when the broker goes away (commands sent meanwhile are
    lost: ``control`` is not retained, so a late lab never replays old commands).
    """
    address = broker_address(broker)
    topic = LabTopics(lab=lab).control
    delay = backoff[0]
    while True:
        try:
            async with connection(mqtt_client(address)) as client:
                await client.subscribe(topic, qos=1)
                delay = backoff[0]
                async for message in client.messages:
                    payload = message.payload
                    await handle(payload if isinstance(payload, bytes) else str(payload).encode())
        except (aiomqtt.MqttError, MqttSecurityError) as exc:
            refused, reason = connect_problem(address, exc)
            logger.log(
                logging.WARNING if refused else logging.INFO,
                "control of %s: broker %s unavailable (%s)",
                lab,
                address.url,
                reason,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, backoff[1])


async def send_control(
    broker: str | BrokerAddress,
    lab: str,
    payload: Mapping[str, Any],
    timeout: float,
    first: float | None = None,
) -> list[dict[str, Any]]:
    """Publish a ``control`` message and return the lab's events that answer it.

    Returns once the lab said ``rejected``, ``converged`` or (a traffic question)
    ``answered`` for this request (its ``id``); raises TimeoutError if it did not
    within ``timeout`` seconds, or gave no answer at all within ``first`` seconds (when
    given: a lab that is gone is found out in seconds), and
    :class:`~bgpemu.observe.errors.BrokerUnreachableError` if the broker is down.
    """
    address = broker_address(broker)
    topics = LabTopics(lab=lab)
    request = payload["id"]
    answers: list[dict[str, Any]] = []
    try:
        client = mqtt_client(address, timeout=timeout)
        async with asyncio.timeout(timeout), connection(client):
            await client.subscribe(topics.events, qos=1)
            await client.publish(topics.control, encode(dict(payload)), qos=1)
            async with asyncio.timeout(first) as first_answer:
                async for message in client.messages:
                    raw = message.payload
                    try:
                        doc = loads(raw if isinstance(raw, bytes) else str(raw))
                    except ValueError:
                        continue
                    if not isinstance(doc, dict) or doc.get("request") != request:
                        continue
                    answers.append(doc)
                    first_answer.reschedule(None)
                    if doc.get("event") in ("rejected", "converged", "answered"):
                        return answers
    except aiomqtt.MqttError as exc:
        raise connect_error(address, exc) from None
    return answers


async def retained_labs(
    broker: str | BrokerAddress, timeout: float, quiet: float = 0.3
) -> dict[str, dict[str, Any]]:
    """The retained ``state`` document of every lab on the broker, by lab name.

    Subscribes to ``bgpemu/v1/+/state`` and collects the retained messages the broker
    sends after the subscription (MQTT 3.1.1 §3.3.1.3); returns once none arrived for
    ``quiet`` seconds, or after ``timeout`` seconds in all.  Raises
    :class:`~bgpemu.observe.errors.BrokerUnreachableError` if the broker is down.
    """
    address = broker_address(broker)
    labs: dict[str, dict[str, Any]] = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    subscribed = False
    try:
        client = mqtt_client(address, timeout=timeout)
        async with asyncio.timeout(timeout), connection(client):
            await client.subscribe(f"{ROOT}/+/state", qos=1)
            subscribed = True
            messages = aiter(client.messages)
            while True:
                window = min(quiet, deadline - loop.time())
                if window <= 0:
                    break
                try:
                    async with asyncio.timeout(window):
                        message = await anext(messages)
                except TimeoutError:
                    break
                ref = parse_topic(message.topic.value)
                raw = message.payload
                if ref is None or ref.kind != "state" or not isinstance(raw, bytes) or not raw:
                    continue
                try:
                    doc = loads(raw)
                except ValueError:
                    continue
                if isinstance(doc, dict):
                    labs[ref.lab] = doc
    except TimeoutError:
        if not subscribed:
            raise BrokerUnreachableError(address.url, f"no answer within {timeout:g} s") from None
    except aiomqtt.MqttError as exc:
        raise connect_error(address, exc) from None
    return labs
