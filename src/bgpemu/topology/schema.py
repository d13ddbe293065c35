"""The JSON Schema of the topology file, generated from the pydantic models.

Shipped as ``schema/topology.schema.json`` so editors (the YAML language server, for
one) can complete and check topology files; regenerate it with
``python -m bgpemu.topology.schema > schema/topology.schema.json``.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import json
import textwrap
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from bgpemu.azure.learn import public
from bgpemu.topology.document import NetworkModel

__all__ = ["SCHEMA_ID", "render", "topology_json_schema"]

SCHEMA_ID = "https://bgpemu.invalid/schema/topology.schema.json"
"""Placeholder ``$id``: the schema is used from the local file."""


def topology_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a topology file; its descriptions (the models'
    docstrings) cite the public Azure pages, not the reference notes' sections
    (:func:`bgpemu.azure.learn.public`)."""
    schema = _public(
        NetworkModel.model_json_schema(
            by_alias=True, mode="validation", schema_generator=_FieldDocstrings
        )
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "bgpemu topology",
    }


class _FieldDocstrings(GenerateJsonSchema):
    """pydantic's JSON Schema, each field described by the docstring under it (what
    pydantic's ``use_attribute_docstrings`` does, see :class:`~bgpemu.topology._base.Model`):
    the docstring of the class that declares the field, unless the field has a
    description of its own."""

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        json_schema = super().model_schema(schema)
        model = schema["cls"]
        properties = json_schema.get("properties", {})
        for name, field in model.model_fields.items():
            key = field.alias or name
            if field.description is not None or key not in properties:
                continue
            docstring = _declared_docstrings(model, name).get(name)
            if docstring is not None:
                properties[key]["description"] = docstring
        return json_schema


def _declared_docstrings(model: type[BaseModel], name: str) -> dict[str, str]:
    """The attribute docstrings of the first class of ``model``'s MRO that declares
    field ``name``."""
    for cls in model.__mro__:
        if name in inspect.get_annotations(cls):
            return _attribute_docstrings(cls)
    return {}


def _attribute_docstrings(cls: type) -> dict[str, str]:
    """Each string statement that follows an annotated name in ``cls``'s body, cleaned
    (:func:`inspect.cleandoc`), by that name."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body if isinstance(tree.body[0], ast.ClassDef) else []
    docstrings: dict[str, str] = {}
    for previous, statement in itertools.pairwise(body):
        if (
            isinstance(previous, ast.AnnAssign)
            and isinstance(previous.target, ast.Name)
            and isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str)
        ):
            docstrings[previous.target.id] = inspect.cleandoc(statement.value.value)
    return docstrings


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
