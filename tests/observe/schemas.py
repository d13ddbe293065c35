"""Load the JSON Schemas of schema/mqtt and validate payloads against them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schema" / "mqtt"


def load_schemas() -> dict[str, dict[str, Any]]:
    """Every schema file by kind (file stem)."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(SCHEMA_DIR.glob("*.json"))}


def validators() -> dict[str, Draft202012Validator]:
    """A validator per payload ``schema`` value (``bgpemu/v1/<kind>``)."""
    schemas = load_schemas()
    registry: Registry[Any] = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in schemas.values()
    )
    return {
        f"bgpemu/v1/{kind}": Draft202012Validator(schema, registry=registry)
        for kind, schema in schemas.items()
        if kind != "common"
    }


def validate(checkers: Mapping[str, Draft202012Validator], payload: Mapping[str, Any]) -> None:
    """Validate ``payload`` against the schema its ``schema`` field names."""
    checkers[payload["schema"]].validate(payload)
