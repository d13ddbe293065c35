"""One name per concept from the file to the core (docs/topology.md, issue 13 item 3).

Each value of :mod:`bgpemu.azure.model` (and the file-declared ones of
:mod:`bgpemu.azure.security`) is validated by a pydantic model named like it plus
``Model``, and each of its fields is named like the model field it comes from: the
snake_case of the YAML key (``bgpPeeringAddress`` -> ``bgp_peering_address``,
``virtualRouterIps`` -> ``virtual_router_ips``, ``prefixes``, ``routingConfiguration``
-> ``routing_configuration``...).  The only core fields with no key of their own are
listed below with where they come from, as docs/topology.md says.
"""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import BaseModel

from bgpemu.azure import model, security
from bgpemu.topology import connections, document, firewall, nodes
from bgpemu.topology import security as topology_security

_MODULES = (nodes, connections, topology_security, firewall, document)

_NO_KEY: dict[str, dict[str, str]] = {
    "Network": {"firewalls": "the nodes of role azure_firewall", "source": "the document"},
    "OnPrem": {"external_port": "external.port"},
    "Nva": {"router_id": "its address"},
    "ExpressRouteGateway": {"asn": "Azure's 65515"},
    "RouteServer": {"asn": "Azure's 65515"},
    "VWanHub": {"asn": "Azure's 65515"},
    "HubRouting": {"labels": "propagatedRouteTables.labels"},
    "NetworkInterface": {"vnet": "where it is declared", "subnet": "where it is declared"},
    "SecurityRule": {"default": "Azure's default rules"},
}
"""Core fields with no YAML key of their own (besides ``name``, a mapping's key)."""


def _core_classes() -> list[type]:
    found: dict[str, type] = {}
    for module in (model, security):
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and dataclasses.is_dataclass(value)
                and value.__module__ == module.__name__
            ):
                found[value.__name__] = value
    return [found[name] for name in sorted(found)]


def _pydantic(name: str) -> type[BaseModel] | None:
    for module in _MODULES:
        found = getattr(module, f"{name}Model", None)
        if isinstance(found, type) and issubclass(found, BaseModel):
            return found
    return None


_WITH_MODEL = [cls for cls in _core_classes() if _pydantic(cls.__name__) is not None]


def test_every_core_value_a_file_declares_has_its_model() -> None:
    names = {cls.__name__ for cls in _WITH_MODEL}
    for expected in ("OnPrem", "VpnGateway", "HubExpressRouteConnection", "Peering", "Network"):
        assert expected in names


@pytest.mark.parametrize("cls", _WITH_MODEL, ids=lambda cls: cls.__name__)
def test_each_core_field_is_named_like_its_yaml_key(cls: type) -> None:
    pydantic_model = _pydantic(cls.__name__)
    assert pydantic_model is not None
    keyed = set(pydantic_model.model_fields) | {"name"}
    own = _NO_KEY.get(cls.__name__, {})
    fields = {field.name for field in dataclasses.fields(cls)}
    assert sorted(fields - keyed - set(own)) == []
    assert sorted(set(own) - fields) == [], "a listed exception no longer exists"
    assert sorted(set(own) & keyed) == [], "a listed exception has a key after all"
