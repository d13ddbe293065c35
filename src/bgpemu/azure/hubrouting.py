"""vWAN hub routing shared by role compilation and the hub views (§5.3 of azure-routing.md).

A hub router learns routes from many *connections* (VNet, VPN site, ExpressRoute
circuit, NVA BGP peering, P2S configuration).  Which route tables a route lands in
depends on the propagation settings of the connection it came from, also in remote
hubs (labels cross hubs, table names do not).  The hub router therefore tags every
route it learns or originates with the connection's **tag**, a large community
``65515:1:<n>`` (RFC 8092; ``n`` = 1-based position of the connection in the
topology), and keeps the tag across the inter-hub iBGP mesh.  Tags are internal:
they are stripped toward branches and NVAs.
"""

from __future__ import annotations

from bgpemu.azure.model import (
    AZURE_ASN,
    Connection,
    HubBgpConnection,
    HubExpressRouteConnection,
    HubRouting,
    HubVnetConnection,
    HubVpnConnection,
    Network,
    VWanHub,
)

__all__ = [
    "DEFAULT_TABLE",
    "NONE_TABLE",
    "TAG_FUNCTION",
    "HubConnection",
    "connection_of_tag",
    "connection_tag",
    "connection_tags",
    "hub_connections",
    "propagates_to",
    "route_tables",
]

DEFAULT_TABLE = "defaultRouteTable"
"""Every hub's Default route table (label ``default``)."""
NONE_TABLE = "noneRouteTable"
"""Propagating to None propagates nothing."""
TAG_FUNCTION = 1
"""Second field of a connection tag: marks the large community as a bgpemu hub tag."""

HubConnection = HubVnetConnection | HubVpnConnection | HubExpressRouteConnection | HubBgpConnection


def connection_tag(network: Network, name: str) -> tuple[int, int, int]:
    """The large community that marks routes learned over connection ``name`` (the
    position of its first definition in the file, from 1)."""
    return connection_tags(network)[name]


def connection_tags(network: Network) -> dict[str, tuple[int, int, int]]:
    """:func:`connection_tag` of every connection, by name (one pass over the file's
    connections, for a caller that needs the tags of many)."""
    tags: dict[str, tuple[int, int, int]] = {}
    for index, connection in enumerate(network.connections, start=1):
        tags.setdefault(connection.name, (AZURE_ASN, TAG_FUNCTION, index))
    return tags


def connection_of_tag(
    network: Network, large_communities: tuple[tuple[int, int, int], ...]
) -> Connection | None:
    """The connection a route's tag names, or None when it carries no tag."""
    for high, function, index in large_communities:
        if (
            high == AZURE_ASN
            and function == TAG_FUNCTION
            and 1 <= index <= len(network.connections)
        ):
            return network.connections[index - 1]
    return None


def hub_connections(network: Network, hub: str) -> list[HubConnection]:
    """Every connection of ``hub``, in file order."""
    found: list[HubConnection] = []
    for connection in network.connections:
        if (
            isinstance(
                connection,
                HubVnetConnection | HubVpnConnection | HubExpressRouteConnection | HubBgpConnection,
            )
            and connection.hub == hub
        ):
            found.append(connection)
    return found


def route_tables(hub: VWanHub) -> dict[str, tuple[str, ...]]:
    """Table name -> labels, with Default (label ``default``) and None always present."""
    tables: dict[str, tuple[str, ...]] = {DEFAULT_TABLE: ("default",), NONE_TABLE: ()}
    for table in hub.route_tables:
        labels = table.labels
        if table.name == DEFAULT_TABLE:
            labels = tuple(dict.fromkeys(("default", *labels)))
        tables[table.name] = labels
    return tables


def _routing(connection: Connection) -> HubRouting:
    if isinstance(connection, HubBgpConnection):
        # §5.6: the VNet connection hosting the NVA associates and propagates to Default.
        return HubRouting()
    if isinstance(connection, HubVnetConnection | HubVpnConnection | HubExpressRouteConnection):
        return connection.routing_configuration
    raise TypeError(f"{connection.name} is not a hub connection")


def propagates_to(network: Network, connection: Connection, hub: VWanHub, table: str) -> bool:
    """Do routes of ``connection`` land in ``table`` of ``hub`` (§5.3)?

    By table name only within the connection's own hub; by label in any hub of the
    WAN (VNet connections without labels propagate to ``default``, i.e. the Default
    table of every hub).
    """
    routing = _routing(connection)
    tables = route_tables(hub)
    if table not in tables or table == NONE_TABLE:
        return False
    own_hub = getattr(connection, "hub", None) == hub.name
    if own_hub and table in routing.propagated_route_tables:
        return True
    return any(label in tables[table] for label in routing.labels)
