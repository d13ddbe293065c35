"""The model of record: the topology document a :class:`~bgpemu.azure.model.Network` was
compiled from (issue 13, item 3).

The loader attaches a :class:`TopologySource` to every Network it compiles
(``Network.source``): the document exactly as the file holds it (the mapping YAML
gives, ``defaults`` and TCP-MD5 key *references* as written, never a resolved
secret) and where its key references may point.  Runtime edits
(:mod:`bgpemu.topology.edit`) change that document and compile it again through the
loader, so no mapping runs from a Network back to a document.  A Network built in
code has no source: it can be run and replaced whole, and an edit of it is refused
(:func:`source_of`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_args

from bgpemu.azure.model import Network
from bgpemu.config.keys import KeySources, Md5Key, read_key
from bgpemu.errors import ConfigError, ConfigProblem
from bgpemu.topology.connections import CONNECTION_MODELS
from bgpemu.topology.nodes import ROLE_MODELS

__all__ = [
    "REDACTED_KEY",
    "Document",
    "TopologySource",
    "attach",
    "inline_keys",
    "redacted_document",
    "source_of",
]

Document = dict[str, Any]
"""A topology document: the mapping a topology file holds (its camelCase keys)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TopologySource:
    """A Network's document of record and the key sources its references resolve with."""

    document: Document
    """As written (never changed in place: edits make a new document)."""
    keys: KeySources
    """Where ``{file: PATH}`` / ``{env: NAME}`` references may point (config/keys.py)."""


def attach(network: Network, source: TopologySource) -> Network:
    """``network``, just compiled by the loader from ``source``, marked as compiled from it.

    ``Network.source`` is not an ``__init__`` field (so that ``dataclasses.replace``
    never carries a document that no longer describes the copy); the loader sets it
    once, here, before the network is shared.
    """
    object.__setattr__(network, "source", source)
    return network


def source_of(network: Network, label: str) -> TopologySource:
    """The document ``network`` was compiled from; ConfigError (labelled ``label``) for a
    network built in code, which has none to edit."""
    if isinstance(network.source, TopologySource):
        return network.source
    raise ConfigError(
        [
            ConfigProblem(
                label,
                "",
                f"network {network.name!r} was built in code, not loaded from a topology "
                "document, so it has no document to edit",
                "load it from a topology file (load_topology/parse_topology), or replace "
                "it whole (Lab.apply_topology)",
            )
        ]
    )


def _key_fields(models: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Role or connection type -> the file keys of its TCP-MD5 key fields (config.keys.Md5Key)."""
    found: dict[str, tuple[str, ...]] = {}
    for kind, model in models.items():
        keys = tuple(
            info.alias or name
            for name, info in model.model_fields.items()
            if info.annotation == Md5Key or Md5Key in get_args(info.annotation)
        )
        if keys:
            found[kind] = keys
    return found


_NODE_KEYS = _key_fields(ROLE_MODELS)
_CONNECTION_KEYS = _key_fields(CONNECTION_MODELS)


KeyVisitor = Callable[[dict[str, Any], str, str], None]
"""Called with (the mapping that holds a key field, the field's file key, its dotted path)."""


def _each_key(document: Document, visit: KeyVisitor) -> None:
    """Call ``visit`` for every TCP-MD5 key field set in ``document`` (its defaults, nodes
    and connections), where the roles and connection types of config/keys.py have one."""

    def fields(item: Any, kind: Any, keys: dict[str, tuple[str, ...]], where: str) -> None:
        if not isinstance(item, dict):
            return
        for key in keys.get(str(kind), ()):
            if item.get(key) is not None:
                visit(item, key, f"{where}.{key}")

    defaults = document.get("defaults")
    for role, values in (defaults if isinstance(defaults, dict) else {}).items():
        fields(values, role, _NODE_KEYS, f"defaults.{role}")
    nodes = document.get("nodes")
    for name, node in (nodes if isinstance(nodes, dict) else {}).items():
        fields(
            node, node.get("role") if isinstance(node, dict) else None, _NODE_KEYS, f"nodes.{name}"
        )
    connections = document.get("connections")
    for index, item in enumerate(connections if isinstance(connections, list) else []):
        kind = item.get("type") if isinstance(item, dict) else None
        fields(item, kind, _CONNECTION_KEYS, f"connections[{index}]")


def inline_keys(network: Network, file: str = "<topology>") -> Document:
    """``network``'s document with every TCP-MD5 key reference replaced by its key (as
    text), for a receiver that reads no references (a running lab, config/keys.py).

    Only the key fields change; ConfigError names a reference that no longer resolves
    (in ``file``; a reference in ``defaults`` that no node takes is resolved too).
    The result holds secrets: it is sent, never printed or stored.
    """
    source = source_of(network, file)
    document = copy.deepcopy(source.document)
    problems: list[ConfigProblem] = []

    def resolve(item: dict[str, Any], key: str, where: str) -> None:
        try:
            item[key] = read_key(item[key], source.keys).secret.decode("utf-8")
        except ValueError as exc:
            problems.append(ConfigProblem(file, where, str(exc), ""))

    _each_key(document, resolve)
    if problems:
        raise ConfigError(problems)
    return document


REDACTED_KEY = "redacted"
"""What :func:`redacted_document` writes in place of every TCP-MD5 key (a valid inline key,
so the document still loads)."""


def redacted_document(network: Network) -> Document | None:
    """``network``'s document with every TCP-MD5 key (inline text or a reference) replaced
    by :data:`REDACTED_KEY`: what a lab may publish for observers to draw (the retained
    ``topology`` topic, docs/mqtt.md) without giving its secrets or its file names away.
    None for a network built in code (it has no document)."""
    if not isinstance(network.source, TopologySource):
        return None
    document = copy.deepcopy(network.source.document)

    def redact(item: dict[str, Any], key: str, _where: str) -> None:
        item[key] = REDACTED_KEY

    _each_key(document, redact)
    return document
