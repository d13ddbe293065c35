"""Router-side settings of one neighbour (session settings stay in ``SessionConfig``)."""

from __future__ import annotations

from dataclasses import dataclass

from bgpemu.policy.base import NO_PREFIXES, Policy, sensitive_prefixes
from bgpemu.policy.max_prefix import MaxPrefix
from bgpemu.rib.path import PeerInfo
from bgpemu.session import Negotiated

__all__ = ["NeighborPolicy", "export_scope", "peer_info"]


def peer_info(name: str, address: str, negotiated: Negotiated) -> PeerInfo:
    """The router's view of an Established neighbour, from what the OPENs agreed."""
    return PeerInfo(
        name=name,
        asn=negotiated.peer_as,
        router_id=negotiated.peer_bgp_identifier,
        address=address,
        local_asn=negotiated.local_open.asn,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class NeighborPolicy:
    """How the router imports from and exports to the neighbour called ``name``.

    Route reflection (RFC 4456) is not modelled: iBGP-learned paths are never sent to
    iBGP peers (RFC 4271 §9.2 split horizon), and ORIGINATOR_ID / CLUSTER_LIST are
    never sent to eBGP peers.
    """

    name: str
    import_policy: Policy | None = None
    """Applied to every received path after loop prevention; None accepts everything."""
    export_policy: Policy | None = None
    """Applied to every path sent, after the standard eBGP/iBGP rewriting; None = accept."""
    next_hop_self: bool | None = None
    """None: our next hop toward eBGP, unchanged toward iBGP (RFC 4271 §5.1.3).
    True: always ours ("next-hop-self"); False: always unchanged ("next-hop-unchanged")."""
    allowas_in: int = 0
    """Accept paths whose AS_PATH holds our ASN up to this many times (vendor knob)."""
    max_prefix: MaxPrefix | None = None
    """Cease subcode 1 (RFC 4486 §4) once more paths of one family are accepted."""
    mrai: float = 0.0
    """MinRouteAdvertisementInterval in seconds (RFC 4271 §9.2.1.1); 0 sends at once."""

    def __post_init__(self) -> None:
        if self.allowas_in < 0:
            raise ValueError("allowas_in must not be negative")
        if self.mrai < 0:
            raise ValueError("mrai must not be negative")


def export_scope(policy: NeighborPolicy) -> frozenset[str] | None:
    """The prefixes whose export toward this neighbour must be computed on their own.

    Export without a policy, or with one whose outcome does not depend on the prefix
    (:func:`~bgpemu.policy.base.sensitive_prefixes`), gives the same attributes to
    every prefix of an attribute set: empty, every result may be shared.  A set
    lists the prefixes the policy treats apart; None: no result may be shared.
    """
    export = policy.export_policy
    return NO_PREFIXES if export is None else sensitive_prefixes(export)
