"""Schema errors (pydantic) as :class:`Issue` values with netlab-style paths and hints.

pydantic puts the discriminator value into error locations
(``nodes.hub.vnet.peerings[0]``); the path shown to the user drops it, and unknown
roles, types and fields get a reason that names the value and a "did you mean" hint.
"""

from __future__ import annotations

import difflib
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from bgpemu.azure.learn import see
from bgpemu.topology._yaml import Path
from bgpemu.topology.checks import Issue
from bgpemu.topology.connections import CONNECTION_MODELS, CONNECTION_TYPES
from bgpemu.topology.document import NetworkModel
from bgpemu.topology.nodes import ROLE_MODELS

__all__ = ["field_names", "schema_issues", "suggest"]

_DOCS = "see docs/topology.md"
_MD5_HINT = (
    "Azure VPN gateways, Route Server and Virtual WAN hub BGP take no TCP-MD5 key; "
    "a key goes on an expressroute circuit (sharedKey) or a bgp connection (password)"
)


def suggest(word: str, choices: list[str]) -> str:
    """A hint: the closest choice, or every choice."""
    close = difflib.get_close_matches(word, choices, n=1)
    return f"did you mean {close[0]!r}?" if close else f"one of: {', '.join(choices)}"


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is dict and args:
        args = args[1:]
    if origin is typing.Annotated:
        args = args[:1]
    for arg in args:
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def field_names(model: type[BaseModel]) -> list[str]:
    """The keys (aliases) a model accepts."""
    return [info.alias or name for name, info in model.model_fields.items()]


def _context(path: Path, data: Any) -> type[BaseModel] | None:
    """The model that holds the last element of ``path`` (None when unknown)."""
    model: type[BaseModel] | None = NetworkModel
    rest: Path = path
    if len(path) >= 2 and path[0] in ("nodes", "connections"):
        try:
            raw = data[path[0]][path[1]]
        except (KeyError, IndexError, TypeError):
            return None
        if not isinstance(raw, dict):
            return None
        if path[0] == "nodes":
            model = ROLE_MODELS.get(str(raw.get("role")))
        else:
            model = CONNECTION_MODELS.get(str(raw.get("type")))
        rest = path[2:]
    for part in rest[:-1]:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        by_alias = {info.alias or name: info for name, info in model.model_fields.items()}
        info = by_alias.get(part)
        model = None if info is None else _model_in(info.annotation)
    return model


def _clean(loc: tuple[int | str, ...]) -> Path:
    parts = [
        p for p in loc if not (isinstance(p, str) and (p.startswith("function-") or p == "[key]"))
    ]
    tags = {"nodes": ROLE_MODELS, "connections": CONNECTION_TYPES}
    if len(parts) >= 3 and parts[2] in tags.get(str(parts[0]), ()):
        del parts[2]
    return tuple(parts)


def schema_issues(error: ValidationError, data: Any) -> list[Issue]:
    """One issue per pydantic error."""
    issues = []
    for item in error.errors(include_url=False):
        path = _clean(item["loc"])
        kind = item["type"]
        message = str(item["msg"]).removeprefix("Value error, ")
        hint = ""
        key = "role" if path[:1] == ("nodes",) else "type"
        choices = list(ROLE_MODELS) if key == "role" else list(CONNECTION_TYPES)
        if kind == "union_tag_invalid":
            tag = str(item.get("ctx", {}).get("tag", ""))
            path = (*path, key)
            message = f"unknown {key} {tag!r}"
            hint = suggest(tag, choices)
        elif kind == "union_tag_not_found":
            path = (*path, key)
            message = f"{key} is missing"
            hint = f"one of: {', '.join(choices)}"
        elif kind == "extra_forbidden":
            message = f"unknown field {path[-1]!r}"
            model = _context(path, data)
            hint = suggest(str(path[-1]), field_names(model)) if model else _DOCS
            if model is not None and hint.startswith("one of"):
                hint = f"fields here: {', '.join(field_names(model))}"
            if path[-1] in ("password", "sharedKey"):
                hint = _MD5_HINT
        elif kind == "missing":
            message = "required field is missing"
            hint = f"add {path[-1]!r}; {_DOCS}"
        elif kind == "literal_error" and path[:1] == ("defaults",):
            message = f"unknown role {path[-1]!r}"
            hint = suggest(str(path[-1]), list(ROLE_MODELS))
        hint = hint or _traffic_hint(path, kind)
        issues.append(Issue(path, message, hint or _DOCS))
    return issues


def _traffic_hint(path: Path, kind: str) -> str:
    """The rule a bad NSG or firewall priority or port breaks (azure-traffic.md §1.1, §7.1)."""
    if path and path[-1] == "priority" and kind in ("greater_than_equal", "less_than_equal"):
        if path[0] == "networkSecurityGroups":
            return (
                "user rules take 100-4096, the lowest first; 65000-65500 are the default "
                f"rules' ({see('NSG-OV')})"
            )
        return f"rule collections and their groups take 100-65000 ({see('FW-RULES')})"
    named = [p for p in path[-2:] if isinstance(p, str)]
    if kind == "value_error" and any("Port" in p for p in named):
        return f"a port is 0-65535, a range a-b with a <= b, '*' any port ({see('NSG-OV')})"
    if kind == "value_error" and "sourceAddresses" in named:
        return f"a firewall source is '*', a CIDR (no host bits) or an address ({see('FW-RULES')})"
    if kind == "value_error" and any("Address" in p for p in named):
        return (
            "'*', a CIDR (no host bits), an address, or one service tag: VirtualNetwork, "
            f"Internet, AzureLoadBalancer ({see('NSG-OV')})"
        )
    return ""
