"""Hypothesis strategies for router snapshots (shared by the observe tests)."""

from __future__ import annotations

from hypothesis import strategies as st

from bgpemu.azure.snapshot import PeerStatus, RouterSnapshot
from bgpemu.rib.route import RibRoute

PREFIXES = (
    ("ipv4-unicast", "0.0.0.0/0"),
    ("ipv4-unicast", "10.0.0.0/24"),
    ("ipv4-unicast", "10.0.1.0/24"),
    ("ipv4-unicast", "10.10.0.0/16"),
    ("ipv4-unicast", "10.2.0.0/16"),
    ("ipv6-unicast", "2001:db8::/32"),
    ("ipv6-unicast", "2001:db8:1::/48"),
)
PEERS = ("a", "b", "c")
STATES = ("Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established")


@st.composite
def routes(draw: st.DrawFn) -> RibRoute:
    family, prefix = draw(st.sampled_from(PREFIXES))
    return RibRoute(
        prefix=prefix,
        family=family,
        next_hop=draw(st.sampled_from(["192.0.2.1", "192.0.2.2", "2001:db8::1", None])),
        as_path=tuple(draw(st.lists(st.sampled_from([65001, 65515, 4200000002]), max_size=3))),
        origin=draw(st.sampled_from(["igp", "egp", "incomplete", None])),
        local_pref=draw(st.sampled_from([None, 100, 200])),
        med=draw(st.sampled_from([None, 0, 50])),
        communities=tuple(draw(st.lists(st.sampled_from(["65515:1", "12076:51004"]), max_size=2))),
        large_communities=tuple(draw(st.lists(st.just("65001:1:2"), max_size=1))),
        weight=draw(st.sampled_from([0, 32768])),
        peer=draw(st.sampled_from([*PEERS, None])),
        best=draw(st.booleans()),
        multipath=draw(st.booleans()),
        reason=draw(st.sampled_from([None, "as_path_length", "router_id"])),
    )


@st.composite
def peer_statuses(draw: st.DrawFn, peer: str) -> PeerStatus:
    state = draw(st.sampled_from(STATES))
    counts = st.integers(min_value=0, max_value=5)
    return PeerStatus(
        peer=peer,
        state=state,
        established_at=draw(st.sampled_from([1.0, 2.5])) if state == "Established" else None,
        routes_received=draw(counts),
        routes_accepted=draw(counts),
        routes_sent=draw(counts),
        messages_sent=draw(counts),
        messages_received=draw(counts),
        internal_errors=draw(counts),
    )


def _adj() -> st.SearchStrategy[dict[str, tuple[RibRoute, ...]]]:
    return st.dictionaries(
        st.sampled_from(PEERS), st.lists(routes(), max_size=5).map(tuple), max_size=3
    )


@st.composite
def snapshots(draw: st.DrawFn, name: str = "r1") -> RouterSnapshot:
    peers = draw(st.lists(st.sampled_from(PEERS), unique=True, max_size=3))
    return RouterSnapshot(
        name=name,
        asn=65001,
        router_id="10.0.0.1",
        loc_rib=tuple(draw(st.lists(routes(), max_size=8))),
        adj_rib_in=draw(_adj()),
        adj_rib_out=draw(_adj()),
        peers=tuple(draw(peer_statuses(p)) for p in sorted(peers)),
    )
