"""TrafficContext's lookup tables (bgpemu.azure.traffic.index, bgpemu.azure.traffic.lpm)."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from bgpemu.azure.model import Network, Subnet, VNet
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.azure.traffic.flow import address_value
from bgpemu.azure.traffic.index import TrafficContext
from bgpemu.azure.traffic.lpm import PrefixTable
from bgpemu.rib.route import RibRoute
from bgpemu.types import prefix_key
from tests.unit.azure.helpers import plan_of


def _route(prefix: str, peer: str, *, best: bool, multipath: bool = True) -> RibRoute:
    return RibRoute(
        prefix=prefix,
        family="ipv4-unicast" if ":" not in prefix else "ipv6-unicast",
        next_hop=f"192.0.2.{len(peer)}",
        peer=peer,
        best=best,
        multipath=multipath,
    )


def _context(**loc_ribs: tuple[RibRoute, ...]) -> TrafficContext:
    network = Network(
        name="lab",
        nodes=(
            VNet(
                name="v",
                address_space=("10.1.0.0/16",),
                subnets=(Subnet(name="s", address_prefix="10.1.0.0/24"),),
            ),
        ),
    )
    snapshots = {
        name: RouterSnapshot(name=name, asn=65001, router_id="10.0.0.1", loc_rib=rib)
        for name, rib in loc_ribs.items()
    }
    return TrafficContext(network, plan_of(), snapshots)


def test_forwarding_is_the_longest_prefix_of_each_speakers_own_loc_rib() -> None:
    """Two speakers holding the same prefixes (the prefix text is read once per context)
    each forward by their own paths: best first, then the rest of the multipath set by
    peer; a path neither best nor multipath is not used (decision §9.12)."""
    ctx = _context(
        a=(
            _route("172.16.0.0/16", "zeta", best=False),
            _route("172.16.0.0/16", "beta", best=True),
            _route("172.16.0.0/16", "alpha", best=False),
            _route("172.16.0.0/16", "gamma", best=False, multipath=False),
            _route("172.16.5.0/24", "delta", best=True),
            _route("2001:db8::/32", "v6", best=True),
        ),
        b=(_route("172.16.0.0/16", "omega", best=True),),
    )
    key = address_value("172.16.9.1")
    assert [r.peer for r in ctx.forwarding("a", key)] == ["beta", "alpha", "zeta"]
    assert [r.peer for r in ctx.forwarding("a", address_value("172.16.5.7"))] == ["delta"]
    assert [r.peer for r in ctx.forwarding("b", key)] == ["omega"]
    assert [r.peer for r in ctx.forwarding("b", address_value("172.16.5.7"))] == ["omega"]
    assert [r.peer for r in ctx.forwarding("a", address_value("2001:db8::1"))] == ["v6"]
    assert ctx.forwarding("b", address_value("2001:db8::1")) == ()
    assert ctx.forwarding("a", address_value("10.9.9.9")) == ()
    assert ctx.forwarding("nobody", key) == ()


def test_prefix_table_add_key_is_add_with_the_prefix_read() -> None:
    by_text: PrefixTable[str] = PrefixTable()
    by_key: PrefixTable[str] = PrefixTable()
    for prefix in ("10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "0.0.0.0/0", "::/0", "10.1.0.0/16"):
        by_text.add(prefix, prefix)
        by_key.add_key(prefix_key(prefix), prefix)
    for address in ("10.1.2.3", "10.1.3.3", "10.2.0.1", "11.0.0.1", "::1"):
        key = address_value(address)
        assert by_text.lookup(key) == by_key.lookup(key)
    assert by_key.lookup(address_value("10.1.2.3")) == (24, "10.1.2.0/24")


@given(
    st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 32)), max_size=12),
    st.lists(st.integers(0, 2**32 - 1), max_size=12),
)
def test_lookup_all_is_lookup_for_each_address(
    prefixes: list[tuple[int, int]], probes: list[int]
) -> None:
    table: PrefixTable[str] = PrefixTable()
    for address, length in prefixes:
        prefix = str(ipaddress.ip_network((address, length), strict=False))
        table.add(prefix, prefix)
    table.add("2001:db8::/32", "v6")
    keys = [4 << 128 | probe for probe in probes] + [address_value("2001:db8::9")]
    expected = [None if (hit := table.lookup(key)) is None else hit[1] for key in keys]
    assert table.lookup_all(keys) == expected
