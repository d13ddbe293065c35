"""The topology a lab publishes (its retained ``topology`` document): every TCP-MD5 key
redacted, inline or a reference, and the text still loads to the same graph."""

from __future__ import annotations

import pytest
import yaml

from bgpemu.azure.graph import topology_graph
from bgpemu.azure.roles import compile_network
from bgpemu.config.keys import KeySources
from bgpemu.lab.publish import topology_document
from bgpemu.topology import parse_topology
from bgpemu.topology.source import REDACTED_KEY, TopologySource, redacted_document
from tests.observe.schemas import validate, validators
from tests.unit.topology.test_tcp_md5 import SECRET, _text

CHECKERS = validators()


def test_inline_keys_and_references_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BGPEMU_TEST_ER_KEY", SECRET)
    text = _text(
        circuit_key="sharedKey: {env: BGPEMU_TEST_ER_KEY}", bgp_key=f'password: "{SECRET}"'
    )
    network = parse_topology(text, "md5.yaml")
    document = redacted_document(network)
    assert document is not None
    assert document["nodes"]["Circuit"]["sharedKey"] == REDACTED_KEY
    assert document["connections"][1]["password"] == REDACTED_KEY
    assert isinstance(network.source, TopologySource)
    assert network.source.document["connections"][1]["password"] == SECRET  # unchanged

    payload = topology_document("demo", network, "md5.yaml")
    assert payload is not None
    validate(CHECKERS, payload)
    assert SECRET not in payload["topology"]
    assert "BGPEMU_TEST_ER_KEY" not in payload["topology"]
    again = parse_topology(payload["topology"], "doc", KeySources(references=False))
    assert topology_graph(again, compile_network(again)) == topology_graph(
        network, compile_network(network)
    )
    assert yaml.safe_load(payload["topology"])["name"] == "md5"


def test_a_network_built_in_code_publishes_no_topology() -> None:
    from bgpemu.azure.model import Network

    network = Network(name="coded", nodes=())
    assert redacted_document(network) is None
    assert topology_document("demo", network, "") is None
