"""The JSON Schema shipped for editors is the one the models generate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Literal, get_args

import pytest
from pydantic import BaseModel, Field

from bgpemu.topology._base import Model, models_by_tag
from bgpemu.topology.connections import CONNECTION_MODELS, CONNECTION_TYPES, ConnectionModel
from bgpemu.topology.nodes import ROLE_MODELS, NodeModel, VNetModel
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


def test_each_role_and_connection_type_names_its_model_in_the_documented_order() -> None:
    """The lookup tables of the loader, the editor and the error hints hold exactly the
    members of the discriminated unions, each under its own ``role`` / ``type`` tag."""
    assert list(ROLE_MODELS) == [
        "onprem",
        "vnet",
        "vpn_gateway",
        "expressroute_gateway",
        "expressroute",
        "route_server",
        "nva",
        "vwan",
        "vwan_hub",
        "azure_firewall",
    ]
    assert list(CONNECTION_MODELS) == [
        "site_to_site",
        "vnet_to_vnet",
        "expressroute",
        "hub_vnet",
        "hub_vpn",
        "hub_expressroute",
        "hub_bgp",
        "route_server_peer",
        "bgp",
    ]
    assert tuple(CONNECTION_MODELS) == CONNECTION_TYPES
    for tag, table in (("role", ROLE_MODELS), ("type", CONNECTION_MODELS)):
        for value, model in table.items():
            assert get_args(model.model_fields[tag].annotation) == (value,), model
    assert set(ROLE_MODELS.values()) == set(get_args(get_args(NodeModel)[0]))
    assert set(CONNECTION_MODELS.values()) == set(get_args(get_args(ConnectionModel)[0]))


def test_a_union_member_with_another_base_is_refused() -> None:
    class Stray(BaseModel):
        role: Literal["stray"]

    with pytest.raises(TypeError, match="Stray"):
        models_by_tag(Annotated[VNetModel | Stray, Field(discriminator="role")], "role", Model)
