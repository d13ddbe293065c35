"""The JSON Schema of the topology file, generated from the pydantic models.

Shipped as ``schema/topology.schema.json`` so editors (the YAML language server, for
one) can complete and check topology files; regenerate it with
``python -m bgpemu.topology.schema > schema/topology.schema.json``.
"""

from __future__ import annotations

import json
from typing import Any

from bgpemu.azure.learn import public
from bgpemu.topology.document import NetworkModel

__all__ = ["SCHEMA_ID", "render", "topology_json_schema"]

SCHEMA_ID = "https://bgpemu.invalid/schema/topology.schema.json"
"""Placeholder ``$id``: the schema is used from the local file."""


def topology_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a topology file; its descriptions (the models'
    docstrings) cite the public Azure pages, not the reference notes' sections
    (:func:`bgpemu.azure.learn.public`)."""
    schema = _public(NetworkModel.model_json_schema(by_alias=True, mode="validation"))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "bgpemu topology",
    }


def _public(node: Any) -> Any:
    """``node`` with every ``description`` made public, at any depth."""
    if isinstance(node, dict):
        return {
            key: public(value)
            if key == "description" and isinstance(value, str)
            else _public(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_public(item) for item in node]
    return node


def render() -> str:
    """The schema as the text of the shipped file (sorted keys, trailing newline)."""
    return json.dumps(topology_json_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
