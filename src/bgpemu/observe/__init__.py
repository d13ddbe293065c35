"""Observation (L8): the lab's tables on MQTT.

- :mod:`bgpemu.observe.topics`: every topic (pure);
- :mod:`bgpemu.observe.payloads`: the JSON documents and deltas (pure);
- :mod:`bgpemu.observe.tables`: a node's tables as the feed reads and writes them (pure);
- :mod:`bgpemu.observe.journal`: the router's changes between two reads (pure);
- :mod:`bgpemu.observe.feed`: sequence numbers of a node's tables, documents and deltas (pure);
- :mod:`bgpemu.observe.mqtt`: the publisher and observer (the only aiomqtt import);
- :mod:`bgpemu.observe.speaker_feed`: publishes a running :class:`~bgpemu.runtime.Speaker`.

This package imports no MQTT client itself, so the pure parts load without it.
"""

from bgpemu.observe.errors import (
    BrokerUnreachableError,
    MqttUrlError,
    ObserveError,
    SequenceGapError,
    TopicError,
)
from bgpemu.observe.topics import LabTopics, NodeTopic, NodeTopics, validate_name
from bgpemu.observe.url import BrokerAddress, parse_mqtt_url

__all__ = [
    "BrokerAddress",
    "BrokerUnreachableError",
    "LabTopics",
    "MqttUrlError",
    "NodeTopic",
    "NodeTopics",
    "ObserveError",
    "SequenceGapError",
    "TopicError",
    "parse_mqtt_url",
    "validate_name",
]
