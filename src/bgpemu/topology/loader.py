"""Load a topology file: YAML -> pydantic models -> semantic checks -> ``Network``.

The Network carries the file's document as written (``Network.source``, the model of
record that runtime edits change and load again: :mod:`bgpemu.topology.source`).

Every problem is collected before anything is raised: duplicate keys, schema errors
and the semantic checks of :mod:`bgpemu.topology.checks` (run on every node and
connection that passed the schema).  A YAML syntax error stops at once: nothing else
can be checked.  Each problem carries the file and line (``file:line``, the line of
the deepest YAML node the dotted path reaches), the netlab-style dotted path
(``nodes.hub.peerings[0].useRemoteGateways``), a reason and a hint.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

from pydantic import TypeAdapter, ValidationError

from bgpemu.azure.model import Network
from bgpemu.config._schema_problems import dotted
from bgpemu.config.keys import KEY_SOURCES, KeySources
from bgpemu.config.safe_yaml import gc_paused, read_file
from bgpemu.errors import ConfigError, ConfigProblem
from bgpemu.topology._schema_issues import field_names, schema_issues, suggest
from bgpemu.topology._yaml import Path, Source, YamlProblem, read
from bgpemu.topology.checks import Index, Issue, run_checks
from bgpemu.topology.connections import ConnectionModel
from bgpemu.topology.document import NetworkModel
from bgpemu.topology.nodes import ROLE_MODELS, NodeModel
from bgpemu.topology.resolve import resolve
from bgpemu.topology.security import NetworkSecurityGroupModel
from bgpemu.topology.shipped import resolve_topology
from bgpemu.topology.source import TopologySource, attach

__all__ = ["check_topology", "load_topology", "parse_topology", "validate_file"]

_NODE: TypeAdapter[Any] = TypeAdapter(NodeModel)
_CONNECTION: TypeAdapter[Any] = TypeAdapter(ConnectionModel)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Defaults:
    data: dict[str, Any]
    """The document with defaults merged into the nodes."""
    origin: dict[tuple[str, str], str]
    """(node, key) -> role, for every key that came from ``defaults``."""
    issues: list[Issue]


def _where(file: str, line: int | None) -> str:
    return f"{file}:{line}" if line is not None else file


def _merge_defaults(data: dict[str, Any]) -> _Defaults:
    """Per-role ``defaults`` merged (shallowly) into every node that lacks the key."""
    data = copy.deepcopy(data)
    defaults, nodes = data.get("defaults"), data.get("nodes")
    issues: list[Issue] = []
    origin: dict[tuple[str, str], str] = {}
    if not isinstance(defaults, dict):
        return _Defaults(data=data, origin=origin, issues=issues)
    for role, values in defaults.items():
        model = ROLE_MODELS.get(str(role))
        if model is None or not isinstance(values, dict):
            continue  # reported by the schema
        known = [f for f in field_names(model) if f != "role"]
        for key in values:
            if key not in known:
                issues.append(
                    Issue(
                        ("defaults", role, key), f"unknown field {key!r}", suggest(str(key), known)
                    )
                )
        if not isinstance(nodes, dict):
            continue
        for name, node in nodes.items():
            if not (isinstance(node, dict) and node.get("role") == role):
                continue
            for key, value in values.items():
                if key in known and key not in node:
                    node[key] = copy.deepcopy(value)
                    origin[(str(name), str(key))] = str(role)
    return _Defaults(data=data, origin=origin, issues=issues)


def _index(
    data: dict[str, Any], model: NetworkModel | None, context: dict[str, Any]
) -> tuple[Index, dict[int, str]]:
    """Every node and connection that passes the schema on its own (taken from ``model``
    when the whole file passed, instead of validating each one a second time)."""
    nodes: dict[str, Any] = {}
    roles: dict[str, str | None] = {}
    raw_nodes = data.get("nodes")
    if isinstance(raw_nodes, dict):
        for name, raw in raw_nodes.items():
            role = raw.get("role") if isinstance(raw, dict) else None
            roles[str(name)] = role if isinstance(role, str) and role in ROLE_MODELS else None
            if model is not None:
                continue
            try:
                nodes[str(name)] = _NODE.validate_python(raw, context=context)
            except ValidationError:
                continue
    connections: list[tuple[int, Any]] = []
    explicit: dict[int, str] = {}
    raw_connections = data.get("connections")
    if isinstance(raw_connections, list):
        for position, raw in enumerate(raw_connections):
            if isinstance(raw, dict) and isinstance(raw.get("name"), str):
                explicit[position] = raw["name"]
            if model is not None:
                continue
            try:
                connections.append((position, _CONNECTION.validate_python(raw, context=context)))
            except ValidationError:
                continue
    if model is not None:
        nodes = dict(model.nodes)
        connections = list(enumerate(model.connections))
    nsgs, nsg_names = _nsgs(data, model, context)
    asgs = data.get("applicationSecurityGroups", [])
    index = Index(
        nodes=nodes,
        roles=roles,
        connections=connections,
        nsgs=nsgs,
        nsg_names=nsg_names,
        asgs=frozenset(str(a) for a in asgs) if isinstance(asgs, list) else None,
    )
    return index, explicit


def _nsgs(
    data: dict[str, Any], model: NetworkModel | None, context: dict[str, Any]
) -> tuple[dict[str, NetworkSecurityGroupModel], frozenset[str]]:
    """The NSGs that pass the schema on their own, and every NSG name of the file."""
    raw = data.get("networkSecurityGroups")
    if not isinstance(raw, dict):
        return {}, frozenset()
    if model is not None:
        return dict(model.network_security_groups), frozenset(model.network_security_groups)
    nsgs: dict[str, NetworkSecurityGroupModel] = {}
    for name, value in raw.items():
        try:
            nsgs[str(name)] = NetworkSecurityGroupModel.model_validate(value, context=context)
        except ValidationError:
            continue
    return nsgs, frozenset(str(name) for name in raw)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Checked:
    problems: list[ConfigProblem]
    model: NetworkModel | None
    """The validated model, when the schema accepted the file."""
    document: dict[str, Any] | None = None
    """The mapping the file holds, as written (the document of record)."""


def check_topology(
    text: str, file: str, keys: KeySources | None = None
) -> tuple[list[ConfigProblem], NetworkModel | None]:
    """Every problem of a topology text, and its model when the schema accepted it.

    ``keys`` says where TCP-MD5 key references may point (config/keys.py): by default
    ``{file: PATH}`` starts from the current directory.
    """
    checked = _checked(text, file, keys or KeySources())
    return checked.problems, checked.model


def _checked(text: str, file: str, keys: KeySources) -> _Checked:
    with gc_paused():
        return _check(text, file, {KEY_SOURCES: keys})


def _check(text: str, file: str, context: dict[str, Any]) -> _Checked:
    source = read(text)
    if isinstance(source, YamlProblem):
        return _Checked(problems=[source.in_file(file)], model=None)
    if not isinstance(source.data, dict):
        message = "the file must hold a mapping with name, nodes and connections"
        return _Checked(
            problems=[ConfigProblem(file, "", message, "see docs/topology.md")], model=None
        )
    issues: list[Issue] = [
        Issue(
            path,
            f"{path[-1]!r} is defined twice (first on line {first})",
            "rename one: the later definition would silently replace the earlier",
            line,
        )
        for path, line, first in source.duplicate_keys()
    ]
    merged = _merge_defaults(source.data)
    issues += merged.issues
    model: NetworkModel | None = None
    try:
        model = NetworkModel.model_validate(merged.data, context=context)
    except ValidationError as exc:
        issues += schema_issues(exc, merged.data)
    index, explicit = _index(merged.data, model, context)
    issues += run_checks(index, explicit)
    problems = _problems(issues, source, merged, file)
    return _Checked(problems=problems, model=model, document=source.data)


def _problems(
    issues: list[Issue], source: Source, merged: _Defaults, file: str
) -> list[ConfigProblem]:
    seen: set[tuple[Path, str]] = set()
    problems = []
    for issue in issues:
        path = issue.path
        if len(path) >= 3 and path[0] == "nodes":
            role = merged.origin.get((str(path[1]), str(path[2])))
            if role is not None:
                path = ("defaults", role, *path[2:])
        if (path, issue.message) in seen:
            continue
        seen.add((path, issue.message))
        line = issue.line or source.line(path)
        problems.append(ConfigProblem(_where(file, line), dotted(path), issue.message, issue.hint))
    return problems


def parse_topology(text: str, file: str = "<topology>", keys: KeySources | None = None) -> Network:
    """The :class:`Network` a topology text describes, carrying the text's document as its
    model of record (:mod:`bgpemu.topology.source`); :class:`ConfigError` lists every
    problem otherwise.

    The collector stays paused until the pydantic models are gone (resolved into the
    Network): its first collection then walks the Network and the document only, not
    the models too (20,000 of them for a vWAN of 100 branches x 200 prefixes).
    """
    keys = keys or KeySources()
    with gc_paused():
        checked = _check(text, file, {KEY_SOURCES: keys})
        if checked.problems or checked.model is None or checked.document is None:
            raise ConfigError(checked.problems)
        network = resolve(checked.model)
        document = checked.document
        del checked
        return attach(network, TopologySource(document=document, keys=keys))


def _read(path: str | FsPath) -> tuple[str | None, list[ConfigProblem]]:
    text = read_file(path)
    if isinstance(text, YamlProblem):
        return None, [text.in_file(str(path))]
    return text, []


def load_topology(path: str | FsPath) -> Network:
    """Read, validate and resolve a topology file (raises :class:`ConfigError`).

    ``path`` may name a shipped reference topology (:func:`resolve_topology`).
    """
    path = resolve_topology(path)
    text, problems = _read(path)
    if text is None:
        raise ConfigError(problems)
    return parse_topology(text, str(path), KeySources(base=FsPath(path).parent))


def validate_file(path: str | FsPath) -> list[ConfigProblem]:
    """Every problem of a topology file (empty when it loads), for ``bgpemu validate``;
    ``path`` may name a shipped reference topology (:func:`resolve_topology`)."""
    try:
        path = resolve_topology(path)
    except ConfigError as exc:
        return exc.problems
    text, problems = _read(path)
    if text is None:
        return problems
    return check_topology(text, str(path), KeySources(base=FsPath(path).parent))[0]
