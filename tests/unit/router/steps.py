"""Random histories of a real Router (shared by the feed and best-path properties):
UPDATEs, withdrawals, sessions going down and up, originations."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from bgpemu.router.config import OriginatedRoute
from bgpemu.router.core import Router
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST
from bgpemu.wire.messages import Update
from tests.unit.router.test_core import BOTH, PEERS, announce

PREFIXES = ("10.1.0.0/24", "10.1.0.0/16", "10.10.0.0/24", "10.2.0.0/24", "0.0.0.0/0")

steps = st.one_of(
    st.tuples(
        st.just("announce"),
        st.sampled_from(sorted(PEERS)),
        st.lists(st.integers(65010, 65012), max_size=2),
        st.none() | st.integers(0, 2),
        st.lists(st.sampled_from(PREFIXES), min_size=1, max_size=4, unique=True),
    ),
    st.tuples(
        st.just("withdraw"),
        st.sampled_from(sorted(PEERS)),
        st.lists(st.sampled_from(PREFIXES), min_size=1, max_size=3, unique=True),
    ),
    st.tuples(st.just("down"), st.sampled_from(sorted(PEERS))),
    st.tuples(st.just("up"), st.sampled_from(sorted(PEERS))),
    st.tuples(st.just("originate"), st.sampled_from(["10.99.0.0/24", "2001:db8:9::/48"])),
)


def apply_step(router: Router, step: tuple[Any, ...], now: float) -> None:
    kind, *args = step
    if kind == "announce":
        peer, tail, med, prefixes = args
        if peer in router.peers():
            info = PEERS[peer]
            asns = tuple(tail) if info.ibgp else (info.asn, *tail)
            router.update_received(peer, announce(*asns, med=med, prefixes=tuple(prefixes)), now)
    elif kind == "withdraw":
        peer, prefixes = args
        if peer in router.peers():
            router.update_received(peer, Update(withdrawn=tuple(prefixes)), now)
    elif kind == "down":
        if args[0] in router.peers():
            router.peer_down(args[0], now)
    elif kind == "up":
        if args[0] not in router.peers():
            router.peer_up(PEERS[args[0]], BOTH, now)
    else:
        family = IPV6_UNICAST if ":" in args[0] else IPV4_UNICAST
        router.originate(OriginatedRoute(prefix=args[0], family=family), now)
