"""The export side of the router: the attributes a best path is sent to a peer with.

RFC 4271 §9.1.3 and §9.2: a path is not sent back to the peer it was learned from,
an iBGP-learned path not to an iBGP peer, RFC 1997 well-known communities are
honoured, and the standard rewriting (:mod:`bgpemu.router.rewrite`) runs around the
peer's export policy.  :class:`Exporter` computes it once per attributes object and
batch where the result cannot depend on the prefix (:attr:`Exporter.memo`), so the
Adj-RIB-Out packs by identity; the import side and the decision are
:mod:`bgpemu.router.core`'s.
"""

from __future__ import annotations

from bgpemu.policy.communities import well_known_filter
from bgpemu.rib.path import LOCAL, Path, PeerInfo
from bgpemu.router.candidates import Key
from bgpemu.router.config import OriginatedRoute, RouterConfig
from bgpemu.router.established import EstablishedPeer
from bgpemu.router.rewrite import after_policy, before_policy
from bgpemu.types import IPV4_UNICAST, Family
from bgpemu.wire.messages import PathAttributes

__all__ = ["Exporter"]


class Exporter:
    """The export attributes of one router (see the module docstring)."""

    def __init__(self, config: RouterConfig, originated: dict[Key, OriginatedRoute]) -> None:
        self._asn = config.asn
        self._next_hop_v4 = config.next_hop_v4
        self._next_hop_v6 = config.next_hop_v6
        self._default_local_pref = config.decision.default_local_pref
        self._originated = originated
        """The router's originated routes (its own dict: read for the prepend count)."""
        self.memo: dict[
            tuple[int, str, Family, int], tuple[PathAttributes, PeerInfo, PathAttributes | None]
        ] = {}
        """Export results of the current batch (see :meth:`attributes`); the router
        empties it after each batch (:meth:`clear`)."""

    def clear(self) -> None:
        """End of a batch: forget the shared results."""
        self.memo.clear()

    def next_hop(self, family: Family) -> str | None:
        """Our own next hop for ``family`` (RFC 4271 §5.1.3; RFC 2545 §3 for IPv6)."""
        return self._next_hop_v4 if family == IPV4_UNICAST else self._next_hop_v6

    def attributes(
        self, peer: EstablishedPeer, family: Family, prefix: str, best: Path | None
    ) -> PathAttributes | None:
        """The attributes ``best`` is sent to ``peer`` with, or None to send nothing.

        RFC 4271 §9.1.3 / §9.2: not back to the peer it was learned from; an
        iBGP-learned path not to an iBGP peer; RFC 1997 well-known communities;
        then :func:`~bgpemu.router.rewrite.before_policy`, the export policy and
        :func:`~bgpemu.router.rewrite.after_policy`.

        Without an export policy, or with one that does not look at the prefix
        (:func:`~bgpemu.router.neighbor.export_scope`: outside the few prefixes it
        treats apart), the result depends only on the attributes object, its source,
        the peer, the family and the prepend count, so it is computed once per batch
        (:attr:`memo`) and shared: the Adj-RIB-Out then packs by identity.
        """
        if best is None:
            return None
        info = peer.info
        source = best.source
        local = source is LOCAL  # the router builds every local path with LOCAL itself
        if not local and (source.name == info.name or (source.ibgp and info.ibgp)):
            return None
        extra = 0
        if local:
            route = self._originated.get((family, prefix))
            extra = route.as_path_prepend if route is not None else 0
        received = best.attributes
        scope = peer.export_scope
        shared = scope is not None and (not scope or prefix not in scope)
        key = (id(received), info.name, family, extra)
        if shared:
            hit = self.memo.get(key)
            if hit is not None and hit[0] is received and hit[1] is source:
                return hit[2]
        result = self.uncached(peer, family, best, local, extra)
        if shared:
            self.memo[key] = (received, source, result)
        return result

    def uncached(
        self, peer: EstablishedPeer, family: Family, best: Path, local: bool, extra: int
    ) -> PathAttributes | None:
        """:meth:`attributes` computed afresh (``local``: ``best`` is ours; ``extra``:
        the prepend count of its originated route)."""
        context = peer.export_context
        path = well_known_filter(best, context)
        if path is None:
            return None
        ebgp = not peer.info.ibgp
        next_hop_self = peer.policy.next_hop_self
        if local or (ebgp if next_hop_self is None else next_hop_self):
            next_hop = self.next_hop(family)
        else:
            next_hop = path.attributes.next_hop
        if next_hop is None:
            return None
        attributes = before_policy(
            path.attributes,
            ebgp=ebgp,
            next_hop=next_hop,
            keep_med=local,
            default_local_pref=self._default_local_pref,
        )
        policy = peer.policy.export_policy
        if policy is not None:
            exported = policy(path.but(attributes=attributes), context)
            if exported is None:
                return None
            attributes = exported.attributes
        return after_policy(attributes, ebgp=ebgp, asn=self._asn, prepend_count=1 + extra)
