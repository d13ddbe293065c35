"""Contract tests: every payload validates against its JSON Schema in schema/mqtt/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings

from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.observe.payloads import (
    Kind,
    azure_view_payload,
    info_payload,
    lab_state_payload,
    schema_id,
    status_payload,
    table_keys,
    table_payload,
)
from tests.observe.schemas import SCHEMA_DIR, load_schemas, validate, validators
from tests.observe.strategies import snapshots

CHECKERS = validators()
DOC = Path(__file__).resolve().parents[2] / "docs" / "mqtt.md"


def test_every_kind_has_a_schema_and_no_more() -> None:
    assert set(CHECKERS) == {schema_id(k) for k in Kind}
    for name, schema in load_schemas().items():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$id"] == f"urn:bgpemu:mqtt:v1:{name}", name
    assert (SCHEMA_DIR / "common.json").is_file()


def test_simple_payloads_validate() -> None:
    for payload in (
        status_payload("r1", online=True),
        status_payload("r1", online=False),
        info_payload(
            "r1", role="vpn_gateway", asn=65515, router_id="10.0.0.4", addresses=["127.0.0.4"]
        ),
        info_payload(  # issue 15: where a real router connects (optional, additive fields)
            "VpnGW.1",
            role="vpn_gateway",
            asn=65515,
            router_id="10.0.0.5",
            addresses=["10.1.255.5", "127.0.0.5"],
            topology_node="VpnGW",
            instance=1,
            port=10179,
        ),
        azure_view_payload(
            "vnet1", "effective-routes", {"value": [{"addressPrefix": ["10.0.0.0/16"]}]}
        ),
        lab_state_payload("demo", converged=False, nodes=["b", "a"]),
        lab_state_payload(
            "demo",
            converged=True,
            nodes=["a"],
            since=1.7e9,
            convergence_time=1.25,
            sessions_established=4,
            sessions_expected=4,
        ),
    ):
        validate(CHECKERS, payload)


def test_schemas_reject_drift() -> None:
    bad = status_payload("r1", online=True) | {"extra": 1}
    with pytest.raises(jsonschema.ValidationError):
        validate(CHECKERS, bad)
    with pytest.raises(jsonschema.ValidationError):
        validate(CHECKERS, status_payload("r1", online=True) | {"node": "a/b"})


@settings(max_examples=40, deadline=None)
@given(snap=snapshots())
def test_table_documents_validate(snap: RouterSnapshot) -> None:
    """The reference documents (the feed's text equals them: test_tables.py, which also
    validates the feed's events) against the table schemas."""
    for key in table_keys(snap):
        validate(CHECKERS, table_payload(key, snap, seq=3, now=100.0))


def test_documented_examples_validate() -> None:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(), re.DOTALL)
    kinds = set()
    for block in blocks:
        payload = json.loads(block)
        validate(CHECKERS, payload)
        kinds.add(payload["schema"])
    assert kinds == set(CHECKERS), "docs/mqtt.md should show one example of every payload"


def test_a_session_validates_with_and_without_established_since() -> None:
    """Issue 15: ``established_since`` is added to the v1 session entry (epoch seconds or
    null); a document of an older bgpemu, without it, is still valid."""
    from bgpemu.azure.snapshot import PeerStatus
    from bgpemu.observe.payloads import sessions_payload

    peers = [PeerStatus(peer="b", state="Established", established_at=40.0)]
    doc = sessions_payload("r1", peers, seq=1, now=100.0, epoch=1_700_000_000.0)
    assert doc["sessions"][0]["established_since"] == 1_700_000_040.0
    validate(CHECKERS, doc)
    del doc["sessions"][0]["established_since"]
    validate(CHECKERS, doc)
    doc["sessions"][0]["established_since"] = -1
    with pytest.raises(jsonschema.ValidationError):
        validate(CHECKERS, doc)
