"""The foundation router: originate configured routes, keep every peer's Adj-RIB-In.

Theory of operation: the shell tells the router when a session comes up or goes down
and hands it every decoded UPDATE and ROUTE-REFRESH; the router answers with
:class:`~bgpemu.router.exports.Export` values that the shell packs and sends.  The
router never touches a socket, a clock or a codec.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from bgpemu.router.config import OriginatedRoute, RouterConfig
from bgpemu.router.exports import Announce, EndOfRib, Export
from bgpemu.types import IPV4_UNICAST, Family
from bgpemu.wire.messages import AsPathSegment, Origin, PathAttributes, SegmentType, Update

__all__ = ["ReceivedRoute", "Router"]

RouteKey = tuple[str, int]
"""(prefix, path id); the path id is 0 without ADD-PATH (RFC 7911 §3)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceivedRoute:
    """A route in a peer's Adj-RIB-In; ``attributes.next_hop`` holds the next hop of any family."""

    peer: str
    family: Family
    prefix: str
    path_id: int
    attributes: PathAttributes

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready view (field names after GoBGP/bgpkit, see ``shared/peers.md`` §3.3)."""
        attrs = self.attributes
        return {
            "peer": self.peer,
            "prefix": self.prefix,
            "family": str(self.family),
            "path_id": self.path_id,
            "next_hop": attrs.next_hop,
            "as_path": list(attrs.as_path_asns()),
            "origin": attrs.origin.name.lower() if attrs.origin is not None else None,
            "med": attrs.med,
            "local_pref": attrs.local_pref,
            "communities": [f"{c >> 16}:{c & 0xFFFF}" for c in attrs.communities],
            "large_communities": [f"{a}:{b}:{c}" for a, b, c in attrs.large_communities],
        }


class Router:
    """Originates ``config.routes`` to every established peer and stores what peers send."""

    def __init__(self, config: RouterConfig) -> None:
        self.config = config
        self._peer_as: dict[str, int] = {}
        self._adj_rib_in: dict[str, dict[Family, dict[RouteKey, ReceivedRoute]]] = {}

    def session_up(self, peer: str, peer_as: int, families: Iterable[Family]) -> list[Export]:
        """The initial table for a newly established peer, then End-of-RIB per family."""
        self._peer_as[peer] = peer_as
        self._adj_rib_in[peer] = defaultdict(dict)
        exports: list[Export] = []
        for family in sorted(families):
            exports.extend(self._table_for(peer, family))
            exports.append(EndOfRib(family=family))
        return exports

    def session_down(self, peer: str) -> int:
        """Forget everything learned from ``peer`` (RFC 4271 §9.1: its routes are withdrawn)."""
        self._peer_as.pop(peer, None)
        table = self._adj_rib_in.pop(peer, {})
        return sum(len(routes) for routes in table.values())

    def route_refresh(self, peer: str, family: Family) -> list[Export]:
        """Re-send the Adj-RIB-Out of ``family`` to ``peer`` (RFC 2918 §4).

        No End-of-RIB follows: RFC 4724's marker ends the initial table only; a
        re-advertisement is demarcated by the session (RFC 7313 BoRR/EoRR) when the
        peer supports Enhanced Route Refresh.
        """
        if peer not in self._peer_as:
            return []
        return self._table_for(peer, family)

    def update_received(self, peer: str, update: Update) -> int:
        """Apply one UPDATE to ``peer``'s Adj-RIB-In; returns the number of routes changed."""
        tables = self._adj_rib_in.get(peer)
        if tables is None:
            return 0
        changed = 0
        v4 = tables[IPV4_UNICAST]
        changed += _withdraw(v4, update.withdrawn, update.withdrawn_path_ids)
        if update.mp_unreach is not None:
            unreach = update.mp_unreach
            changed += _withdraw(tables[unreach.family], unreach.withdrawn, unreach.path_ids)
        if update.nlri:
            changed += _announce(
                v4, peer, IPV4_UNICAST, update.attributes, update.nlri, update.nlri_path_ids
            )
        if update.mp_reach is not None:
            reach = update.mp_reach
            attributes = replace(update.attributes, next_hop=reach.next_hop)
            changed += _announce(
                tables[reach.family], peer, reach.family, attributes, reach.nlri, reach.path_ids
            )
        return changed

    def received_routes(self) -> list[ReceivedRoute]:
        """Every route in every Adj-RIB-In, sorted by peer, family and prefix."""
        return [
            route
            for peer in sorted(self._adj_rib_in)
            for family in sorted(self._adj_rib_in[peer])
            for _, route in sorted(self._adj_rib_in[peer][family].items())
        ]

    def _table_for(self, peer: str, family: Family) -> list[Export]:
        groups: dict[PathAttributes, list[str]] = {}
        for route in self.config.routes:
            if route.family != family:
                continue
            attributes = self._export_attributes(peer, route)
            if attributes is not None:
                groups.setdefault(attributes, []).append(route.prefix)
        return [
            Announce(family=family, attributes=attrs, prefixes=tuple(prefixes))
            for attrs, prefixes in groups.items()
        ]

    def _export_attributes(self, peer: str, route: OriginatedRoute) -> PathAttributes | None:
        """Attributes of a locally originated route toward ``peer`` (RFC 4271 §5.1)."""
        next_hop = (
            self.config.next_hop_v4 if route.family == IPV4_UNICAST else self.config.next_hop_v6
        )
        if next_hop is None:
            return None
        ebgp = self._peer_as[peer] != self.config.asn
        as_path = (
            (
                AsPathSegment(
                    SegmentType.AS_SEQUENCE, (self.config.asn,) * (1 + route.as_path_prepend)
                ),
            )
            if ebgp
            else ()
        )
        return PathAttributes(
            origin=Origin.IGP,
            as_path=as_path,
            next_hop=next_hop,
            med=route.med,
            local_pref=None if ebgp else 100,
            communities=route.communities,
            large_communities=route.large_communities,
        )


def _withdraw(
    table: dict[RouteKey, ReceivedRoute],
    prefixes: tuple[str, ...],
    path_ids: tuple[int, ...] | None,
) -> int:
    ids = path_ids if path_ids is not None else (0,) * len(prefixes)
    return sum(table.pop(key, None) is not None for key in zip(prefixes, ids, strict=True))


def _announce(
    table: dict[RouteKey, ReceivedRoute],
    peer: str,
    family: Family,
    attributes: PathAttributes,
    prefixes: tuple[str, ...],
    path_ids: tuple[int, ...] | None,
) -> int:
    ids = path_ids if path_ids is not None else (0,) * len(prefixes)
    for prefix, path_id in zip(prefixes, ids, strict=True):
        table[(prefix, path_id)] = ReceivedRoute(
            peer=peer, family=family, prefix=prefix, path_id=path_id, attributes=attributes
        )
    return len(prefixes)
