"""YAML reading for the topology loader: syntax errors, limits, duplicate keys, and lines.

The file is composed once into a node tree by the bounded reader
(:func:`bgpemu.config.safe_yaml.parse`: size, depth, aliases, nodes and numbers are
checked as it is composed) and its data built from that tree; a dotted path such as
``nodes.hub.peerings[0].useRemoteGateways`` is mapped back to the line of the deepest
YAML node it reaches, so every problem can point at its line.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from bgpemu.config.safe_yaml import YamlProblem, parse

__all__ = ["Path", "Source", "YamlProblem", "read"]

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """Parsed YAML text: the plain data and the node tree it came from."""

    data: Any
    root: yaml.Node | None
    _keys: dict[int, dict[str, tuple[int, yaml.Node]]] = field(
        default_factory=dict, repr=False, compare=False
    )
    """id of a mapping node -> its keys (first occurrence): line and value node. Built on
    first use, so that the line of each of thousands of problems is found at once."""

    def _key(self, node: yaml.MappingNode, part: str) -> tuple[int, yaml.Node] | None:
        keys = self._keys.get(id(node))
        if keys is None:
            keys = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    keys.setdefault(key.value, (key.start_mark.line + 1, value))
            self._keys[id(node)] = keys
        return keys.get(part)

    def line(self, path: Sequence[str | int]) -> int | None:
        """1-based line of the deepest node ``path`` reaches (None if not even the first)."""
        node = self.root
        line: int | None = None
        for part in path:
            if isinstance(node, yaml.MappingNode) and isinstance(part, str):
                found = self._key(node, part)
                if found is None:
                    break
                line, node = found
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if not 0 <= part < len(node.value):
                    break
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                break
        return line

    def duplicate_keys(self) -> Iterator[tuple[Path, int, int]]:
        """(path of the repeated key, its line, line of the first occurrence) per repeat."""
        yield from _duplicates(self.root, ())


def _duplicates(node: yaml.Node | None, path: Path) -> Iterator[tuple[Path, int, int]]:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                line = key.start_mark.line + 1
                if key.value in seen:
                    yield (*path, key.value), line, seen[key.value]
                else:
                    seen[key.value] = line
                yield from _duplicates(value, (*path, str(key.value)))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicates(item, (*path, index))


def read(text: str) -> Source | YamlProblem:
    """Parse ``text`` within :data:`~bgpemu.config.safe_yaml.LIMITS`; a syntax error or a
    passed limit comes back as a :class:`YamlProblem`."""
    parsed = parse(text)
    if isinstance(parsed, YamlProblem):
        return parsed
    return Source(data=parsed.data, root=parsed.root)
