"""What the semantic checks see: the nodes and connections that passed the schema.

A node or connection that failed its schema is absent from :class:`Index`, but its
name (and role, when readable) is still known, so references to it are not reported
a second time as "does not exist".
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from bgpemu.topology._yaml import Path
from bgpemu.topology.connections import ConnectionModel
from bgpemu.topology.nodes import NodeModel, VNetModel
from bgpemu.topology.security import NetworkSecurityGroupModel

__all__ = ["Index", "Issue", "Network4or6", "network"]

Network4or6 = ipaddress.IPv4Network | ipaddress.IPv6Network
_M = TypeVar("_M")


@dataclass(frozen=True, slots=True)
class Issue:
    """One semantic problem: dotted path (as parts), reason and hint."""

    path: Path
    message: str
    hint: str = ""
    line: int | None = None
    """The line, when the path alone cannot find it (a repeated key)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Index:
    """Validated nodes by name, raw roles of every node, validated connections by index."""

    nodes: dict[str, NodeModel]
    roles: dict[str, str | None]
    """Every node name of the file -> its role (None if unreadable), valid or not."""
    connections: list[tuple[int, ConnectionModel]] = field(default_factory=list)
    nsgs: dict[str, NetworkSecurityGroupModel] = field(default_factory=dict)
    """The NSGs that passed the schema, by name."""
    nsg_names: frozenset[str] = frozenset()
    """Every NSG name of the file, valid or not."""
    asgs: frozenset[str] | None = frozenset()
    """Every application security group name of the file (None when the list is not
    readable: references to it are then not checked)."""
    _names_of: dict[tuple[str, ...], list[str]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def of(self, kind: type[_M]) -> Iterator[tuple[str, _M]]:
        """(name, node) for every valid node of model class ``kind``, in file order."""
        for name, node in self.nodes.items():
            if isinstance(node, kind):
                yield name, node

    def conns(self, kind: type[_M]) -> Iterator[tuple[int, _M]]:
        """(index, connection) for every valid connection of class ``kind``."""
        for index, connection in self.connections:
            if isinstance(connection, kind):
                yield index, connection

    def names_of(self, roles: tuple[str, ...]) -> list[str]:
        """The sorted names of every node with one of ``roles`` (computed once per roles)."""
        names = self._names_of.get(roles)
        if names is None:
            names = sorted(n for n, r in self.roles.items() if r in roles)
            self._names_of[roles] = names
        return names

    def vnet(self, name: str) -> VNetModel | None:
        """The valid VNet called ``name``, if any."""
        node = self.nodes.get(name)
        return node if isinstance(node, VNetModel) else None

    def subnet(self, vnet: str, subnet: str) -> Network4or6 | None:
        """The prefix of subnet ``subnet`` of VNet ``vnet``, if both exist."""
        model = self.vnet(vnet)
        if model is None:
            return None
        for item in model.subnets:
            if item.name == subnet:
                return network(item.address_prefix)
        return None


def network(prefix: str) -> Network4or6:
    """A normalised prefix string as an ipaddress network."""
    return ipaddress.ip_network(prefix)
