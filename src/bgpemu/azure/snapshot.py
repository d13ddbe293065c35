"""A speaker's converged RIBs and sessions as plain, JSON-ready values.

The Azure views (:mod:`bgpemu.azure.views`) are pure functions of a
:class:`~bgpemu.azure.model.Network`, its :class:`~bgpemu.azure.plan.Plan` and one
:class:`RouterSnapshot` per speaker.  A snapshot does not hold Router objects, so it
can be taken in whatever process runs the speaker (fabric, TCP lab worker), sent as
JSON (:meth:`RouterSnapshot.to_json` / :meth:`RouterSnapshot.from_json`) and fed to the
same views anywhere.  Its routes are the one route record of bgpemu,
:class:`~bgpemu.rib.route.RibRoute` (import it from there), encoded by
:func:`~bgpemu.rib.route.route_doc`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from bgpemu.rib.decision import Step
from bgpemu.rib.path import Path
from bgpemu.rib.route import (
    AttributeValues,
    RibRoute,
    attribute_values,
    route_doc,
    route_from_doc,
    route_of,
    route_record,
)
from bgpemu.router.core import Router
from bgpemu.session import Session, SessionState
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST, Family, PrefixKeys
from bgpemu.wire.messages import PathAttributes

__all__ = ["AdjRibsOut", "PeerStatus", "RouterSnapshot", "peer_status", "snapshot"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerStatus:
    """One neighbour's session, as ``list-bgp-peer-status`` reports it."""

    peer: str
    state: str
    """RFC 4271 state name (Idle ... Established)."""
    established_at: float | None = None
    routes_received: int = 0
    routes_accepted: int = 0
    routes_sent: int = 0
    messages_sent: int = 0
    messages_received: int = 0
    internal_errors: int = 0
    """Unexpected errors of bgpemu that reset this session (architecture decision 12)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RouterSnapshot:
    """Everything the Azure views read from one speaker."""

    name: str
    asn: int
    router_id: str
    loc_rib: tuple[RibRoute, ...] = ()
    """Best paths and the rest of their multipath sets, sorted by family and prefix."""
    adj_rib_in: Mapping[str, tuple[RibRoute, ...]] = field(default_factory=dict)
    """Per neighbour: the paths import policy accepted (as modified by it)."""
    adj_rib_out: Mapping[str, tuple[RibRoute, ...]] = field(default_factory=dict)
    """Per neighbour: what it holds from us (from :func:`snapshot`: an
    :class:`AdjRibsOut`, each neighbour's routes made when first read)."""
    peers: tuple[PeerStatus, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_json` reads it back.

        Built field by field (not :func:`dataclasses.asdict`, which deep-copies every
        value): a hub's snapshot holds hundreds of thousands of routes.
        """

        def routes(items: tuple[RibRoute, ...]) -> list[dict[str, Any]]:
            return [route_doc(r) for r in items]

        return {
            "name": self.name,
            "asn": self.asn,
            "router_id": self.router_id,
            "loc_rib": routes(self.loc_rib),
            "adj_rib_in": {peer: routes(items) for peer, items in self.adj_rib_in.items()},
            "adj_rib_out": {peer: routes(items) for peer, items in self.adj_rib_out.items()},
            "peers": [{name: getattr(p, name) for name in _PEER_FIELDS} for p in self.peers],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RouterSnapshot:
        """The inverse of :meth:`to_json`."""

        def routes(items: Any) -> tuple[RibRoute, ...]:
            return tuple(route_from_doc(item) for item in items)

        return cls(
            name=data["name"],
            asn=data["asn"],
            router_id=data["router_id"],
            loc_rib=routes(data["loc_rib"]),
            adj_rib_in={k: routes(v) for k, v in data["adj_rib_in"].items()},
            adj_rib_out={k: routes(v) for k, v in data["adj_rib_out"].items()},
            peers=tuple(PeerStatus(**p) for p in data["peers"]),
        )


_PEER_FIELDS = tuple(f.name for f in fields(PeerStatus))


class AdjRibsOut(Mapping[str, tuple[RibRoute, ...]]):
    """Neighbour -> the routes it holds from us, each neighbour's made when first read.

    A vWAN hub's Adj-RIBs-Out toward its branches are most of its snapshot (250,000
    routes per hub on vWAN 2 x 25 x 200) and none of its views reads them.  What is
    kept are copies of the Adj-RIBs-Out's prefix -> attributes maps taken with the
    snapshot (attributes are immutable), so the routes are those of snapshot time
    whenever they are read; they equal what an eager conversion gives.
    """

    __slots__ = ("_held", "_routes")

    def __init__(self, held: Mapping[str, tuple[tuple[Family, dict[str, PathAttributes]], ...]]):
        self._held = dict(held)
        self._routes: dict[str, tuple[RibRoute, ...]] = {}

    def __getitem__(self, peer: str) -> tuple[RibRoute, ...]:
        routes = self._routes.get(peer)
        if routes is None:
            convert = _Converter()
            routes = self._routes[peer] = convert.sorted(
                convert.route(family, prefix, attributes, peer=peer)
                for family, table in self._held[peer]
                for prefix, attributes in table.items()
            )
            self._held[peer] = ()  # made: the copies are no longer needed
        return routes

    def __iter__(self) -> Iterator[str]:
        return iter(self._held)

    def __len__(self) -> int:
        return len(self._held)

    def __repr__(self) -> str:
        return repr(dict(self))


class _Converter:
    """Routes of one snapshot: attribute-derived fields computed once per attributes
    object (the router shares one among the prefixes of an UPDATE), sort keys once per
    prefix, each record built by :func:`~bgpemu.rib.route.route_record`.  A hub's
    snapshot holds hundreds of thousands of routes."""

    def __init__(self) -> None:
        self._fields: dict[int, tuple[PathAttributes, AttributeValues]] = {}
        self._keys = PrefixKeys()
        self._families: dict[Family, str] = {}

    def route(
        self,
        family: Family,
        prefix: str,
        attributes: PathAttributes,
        peer: str | None,
        weight: int = 0,
        best: bool = False,
        multipath: bool = False,
        reason: str | None = None,
    ) -> RibRoute:
        hit = self._fields.get(id(attributes))
        if hit is None or hit[0] is not attributes:
            route = route_of(family, prefix, attributes, peer=None)
            hit = self._fields[id(attributes)] = (attributes, attribute_values(route))
        text = self._families.get(family)
        if text is None:
            text = self._families[family] = str(family)
        return route_record(prefix, text, hit[1], peer, weight, best, multipath, reason)

    def path(
        self, path: Path, best: bool = False, multipath: bool = False, reason: str | None = None
    ) -> RibRoute:
        peer = None if path.local else path.source.name
        return self.route(
            path.family, path.prefix, path.attributes, peer, path.weight, best, multipath, reason
        )

    def sorted(self, routes: Iterable[RibRoute]) -> tuple[RibRoute, ...]:
        """Routes in a deterministic order: family, then prefix by address and length."""
        keys = self._keys

        def key(route: RibRoute) -> tuple[str, int, int, int]:
            return (route.family, *keys[route.prefix])

        return tuple(sorted(routes, key=key))


def snapshot(
    name: str,
    router: Router,
    sessions: Mapping[str, Session] | None = None,
    *,
    adj_rib_out: bool = True,
) -> RouterSnapshot:
    """Take a snapshot of ``router`` (and of its ``sessions``, by neighbour name);
    ``adj_rib_out=False`` leaves the Adj-RIBs-Out out (for readers that never look)."""
    convert = _Converter()
    loc: list[RibRoute] = []
    only_path = Step.ONLY_PATH.value
    for _family, _prefix, entry in router.loc_rib.stored_entries():
        if isinstance(entry, Path):  # a sole path: its ONLY_PATH Decision is not built
            loc.append(convert.path(entry, best=True, multipath=True, reason=only_path))
            continue
        decision = entry
        best = decision.best
        if best is None:
            continue
        loc.append(convert.path(best, best=True, multipath=True, reason=decision.reason.value))
        loc.extend(convert.path(p, multipath=True) for p in decision.multipath if p is not best)
    adj_in: dict[str, tuple[RibRoute, ...]] = {}
    adj_out: dict[str, tuple[tuple[Family, dict[str, PathAttributes]], ...]] = {}
    for peer in sorted(router.peers()):
        rib_in = router.adj_rib_in(peer)
        if rib_in is not None:
            adj_in[peer] = convert.sorted(
                convert.path(p) for f in rib_in.families() for p in rib_in.paths_post(f)
            )
        rib_out = router.adj_rib_out(peer)
        if rib_out is not None and adj_rib_out:
            adj_out[peer] = tuple(
                (f, dict(rib_out.advertised_map(f))) for f in (IPV4_UNICAST, IPV6_UNICAST)
            )
    peers = tuple(
        peer_status(peer, session, router) for peer, session in sorted((sessions or {}).items())
    )
    config = router.config
    return RouterSnapshot(
        name=name,
        asn=config.asn,
        router_id=config.router_id,
        loc_rib=tuple(loc),
        adj_rib_in=adj_in,
        adj_rib_out=AdjRibsOut(adj_out),
        peers=peers,
    )


def peer_status(peer: str, session: Session, router: Router) -> PeerStatus:
    counters = session.counters
    rib_in = router.adj_rib_in(peer)
    rib_out = router.adj_rib_out(peer)
    established = session.state is SessionState.ESTABLISHED
    return PeerStatus(
        peer=peer,
        state=session.state.value,
        established_at=counters.established_at if established else None,
        routes_received=0 if rib_in is None else rib_in.count(),
        routes_accepted=0 if rib_in is None else rib_in.count(post=True),
        routes_sent=0 if rib_out is None else rib_out.count(),
        messages_sent=sum(counters.messages_sent.values()),
        messages_received=sum(counters.messages_received.values()),
        internal_errors=counters.internal_errors,
    )
