"""The JSON Schema shipped for editors is the one the models generate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bgpemu.topology.schema import render, topology_json_schema

SHIPPED = Path(__file__).parents[3] / "schema" / "topology.schema.json"


def test_shipped_schema_equals_generated() -> None:
    assert SHIPPED.read_text(encoding="utf-8") == render(), (
        "regenerate: python -m bgpemu.topology.schema > schema/topology.schema.json"
    )


def test_module_prints_the_schema() -> None:
    src = Path(__file__).parents[3] / "src"
    result = subprocess.run(
        [sys.executable, "-m", "bgpemu.topology.schema"],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(src)},
    )
    assert result.stdout == render()


def test_schema_uses_the_file_keys_and_discriminators() -> None:
    schema = topology_json_schema()
    assert set(schema["required"]) == {"name", "nodes"}
    assert schema["additionalProperties"] is False
    defs = schema["$defs"]
    assert "useRemoteGateways" in defs["PeeringModel"]["properties"]
    assert "bgpPeeringAddress" in defs["OnPremModel"]["properties"]
    assert "p2s" in defs["VWanHubModel"]["properties"]
    nodes = schema["properties"]["nodes"]["additionalProperties"]
    assert nodes["discriminator"]["propertyName"] == "role"
    assert set(nodes["discriminator"]["mapping"]) >= {"onprem", "vnet", "vwan_hub"}
    json.dumps(schema)
