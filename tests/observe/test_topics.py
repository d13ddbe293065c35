"""Topic layout, name validation, topic parsing and broker URLs."""

from __future__ import annotations

import pytest

from bgpemu.observe import (
    LabTopics,
    MqttUrlError,
    NodeTopic,
    NodeTopics,
    TopicError,
    parse_mqtt_url,
    validate_name,
)
from bgpemu.observe.topics import TopicRef, parse_topic
from bgpemu.observe.url import BrokerAddress


def test_node_topics_layout() -> None:
    t = LabTopics(lab="demo").node("hub-1")
    base = "bgpemu/v1/demo/nodes/hub-1"
    assert (t.status, t.info, t.sessions) == (f"{base}/status", f"{base}/info", f"{base}/sessions")
    assert (t.rib_loc, t.rib_in, t.rib_out) == (
        f"{base}/rib/loc",
        f"{base}/rib/in/+",
        f"{base}/rib/out/+",
    )
    assert (t.rib_in_of("gw"), t.rib_out_of("gw")) == (f"{base}/rib/in/gw", f"{base}/rib/out/gw")
    assert t.table("rib/in/gw") == t.rib_in_of("gw")
    assert t.table("sessions") == t.sessions
    assert t.events == f"{base}/events"
    assert t.azure("effective-routes") == f"{base}/azure/effective-routes"
    assert t.all == f"{base}/#"


def test_lab_topics_layout() -> None:
    lab = LabTopics(lab="demo")
    assert lab.state == "bgpemu/v1/demo/state"
    assert lab.control == "bgpemu/v1/demo/control"
    assert lab.all == "bgpemu/v1/demo/#"
    assert lab.nodes_filter == "bgpemu/v1/demo/nodes/+/status"


@pytest.mark.parametrize("name", ["", "a/b", "a+b", "a#", "$SYS", "x\x00", " padded"])
def test_invalid_names_rejected(name: str) -> None:
    with pytest.raises(TopicError, match="invalid node name"):
        validate_name(name)
    with pytest.raises(TopicError, match="invalid lab name"):
        LabTopics(lab=name)
    with pytest.raises(TopicError, match="invalid view name"):
        NodeTopics(lab="demo", node="n").azure(name)


@pytest.mark.parametrize("name", ["vnet-hub", "onprem.dc1", "a$b", "ER_gw", "ü"])
def test_valid_names_accepted(name: str) -> None:
    assert validate_name(name) == name


def test_azure_kind_needs_a_view() -> None:
    with pytest.raises(TopicError, match="view name"):
        NodeTopics(lab="demo", node="n").topic(NodeTopic.AZURE)


@pytest.mark.parametrize("key", ["rib/in", "rib/in/", "rib/in/a+b", "rib/x/y", "status"])
def test_a_table_topic_needs_a_valid_neighbor(key: str) -> None:
    with pytest.raises(TopicError):
        NodeTopics(lab="demo", node="n").table(key)
    with pytest.raises(TopicError, match="needs a neighbour"):
        NodeTopics(lab="demo", node="n").topic(NodeTopic.RIB_IN)


def test_parse_topic_round_trips_every_topic() -> None:
    t = NodeTopics(lab="demo", node="n1")
    for kind in NodeTopic:
        if kind in (NodeTopic.AZURE, NodeTopic.RIB_IN, NodeTopic.RIB_OUT):
            continue
        assert parse_topic(t.topic(kind)) == TopicRef(lab="demo", kind=kind, node="n1")
    for kind in (NodeTopic.RIB_IN, NodeTopic.RIB_OUT):
        assert parse_topic(t.table(f"{kind}/gw")) == TopicRef(
            lab="demo", kind=kind, node="n1", peer="gw"
        )
    assert parse_topic(t.azure("hub-routes")) == TopicRef(
        lab="demo", kind=NodeTopic.AZURE, node="n1", view="hub-routes"
    )
    for topic in (t.table("rib/out/gw"), t.azure("hub-routes"), t.sessions):
        ref = parse_topic(topic)
        assert ref is not None
        assert f"{t.base}/{ref.suffix}" == topic
    assert parse_topic("bgpemu/v1/demo/state") == TopicRef(lab="demo", kind="state")
    assert parse_topic("bgpemu/v1/demo/control") == TopicRef(lab="demo", kind="control")


@pytest.mark.parametrize(
    "topic",
    [
        "other/v1/demo/state",
        "bgpemu/v2/demo/state",
        "bgpemu/v1/demo/nodes/n1/rib",
        "bgpemu/v1/demo/nodes/n1/azure",
        "bgpemu/v1/demo/nodes/n1/azure/a/b",
        "bgpemu/v1/demo/nodes/n1/rib/in",
        "bgpemu/v1/demo/nodes/n1/rib/in/",
        "bgpemu/v1/demo/nodes/n1/rib/in/a/b",
        "bgpemu/v1/demo/nodes//status",
        "bgpemu/v1//state",
        "bgpemu/v1/demo/unknown",
    ],
)
def test_parse_topic_ignores_foreign_topics(topic: str) -> None:
    assert parse_topic(topic) is None


@pytest.mark.parametrize(
    ("url", "host", "port"),
    [
        ("mqtt://localhost", "localhost", 1883),
        ("mqtt://127.0.0.1:1884", "127.0.0.1", 1884),
        ("mqtt://[::1]:18830/", "::1", 18830),
        ("  mqtt://broker:1883 ", "broker", 1883),
        ("mqtts://broker", "broker", 8883),
        ("mqtts://broker:18883", "broker", 18883),
    ],
)
def test_parse_mqtt_url(url: str, host: str, port: int) -> None:
    address = parse_mqtt_url(url)
    assert (address.host, address.port) == (host, port)
    assert address.tls == url.strip().startswith("mqtts:")


def test_broker_address_url_is_canonical() -> None:
    assert parse_mqtt_url("mqtt://[::1]").url == "mqtt://[::1]:1883"
    assert parse_mqtt_url("mqtt://h:2").url == "mqtt://h:2"
    assert parse_mqtt_url("mqtts://h").url == "mqtts://h:8883"
    assert parse_mqtt_url("mqtt://alice@h").url == "mqtt://h:1883"


def test_broker_address_keeps_the_password_out_of_sight() -> None:
    address = parse_mqtt_url("mqtt://alice@h").with_credentials("alice", "hunter2")
    assert address.username == "alice"
    assert "hunter2" not in repr(address) + address.url + address.who


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"ca_file": "ca.pem"}, "needs TLS: use mqtts://"),
        ({"tls": True, "key_file": "k.pem"}, "a client key without a client certificate"),
        ({"password": "pw"}, "a password without a user name"),
    ],
)
def test_broker_address_checks_its_fields(fields: dict[str, object], reason: str) -> None:
    with pytest.raises(MqttUrlError, match=reason):
        BrokerAddress(host="h", **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("tcp://h:1883", "scheme must be mqtt://"),
        ("h:1883", "scheme must be mqtt://"),
        ("ws://h", "scheme must be mqtt:// or mqtts://"),
        ("mqtt://", "no host"),
        ("mqtt://h:notaport", "invalid MQTT URL"),
        ("mqtt://h:70000", "invalid MQTT URL"),
        ("mqtt://h:0", "port 0"),
        ("mqtt://h/path", "no path"),
    ],
)
def test_parse_mqtt_url_errors_name_the_url(url: str, reason: str) -> None:
    with pytest.raises(MqttUrlError, match=reason) as info:
        parse_mqtt_url(url)
    assert repr(url.strip()) in str(info.value)


def test_a_password_in_the_url_is_refused_with_where_to_put_it() -> None:
    with pytest.raises(MqttUrlError) as info:
        parse_mqtt_url("mqtts://alice:hunter2@broker:8883")
    message = str(info.value)
    assert "hunter2" not in message
    assert "mqtts://alice:***@broker:8883" in message
    assert "BGPEMU_MQTT_PASSWORD" in message
    assert "--mqtt-password-file" in message
