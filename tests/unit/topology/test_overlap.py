"""The overlap index of the address checks gives what comparing every pair gives."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgpemu.topology.checks._index import Network4or6
from bgpemu.topology.checks._overlap import Overlaps


@st.composite
def prefixes(draw: st.DrawFn) -> Network4or6:
    if draw(st.booleans()):
        length = draw(st.integers(0, 32))
        address = draw(st.integers(0, 2**32 - 1)) & ~((1 << (32 - length)) - 1) & (2**32 - 1)
        # Few distinct high bits, so that prefixes nest and repeat often.
        address = (address & 0x0300FFFF) | 0x0A000000 if length >= 8 else address
        return ipaddress.ip_network((address, length), strict=False)
    length = draw(st.integers(0, 128))
    return ipaddress.ip_network((draw(st.integers(0, 7)) << 125, length), strict=False)


@settings(max_examples=300, deadline=None)
@given(st.lists(prefixes(), max_size=80), prefixes())
def test_first_and_first_before_match_the_pairwise_answer(
    nets: list[Network4or6], probe: Network4or6
) -> None:
    index = Overlaps(nets)

    def pairwise(net: Network4or6, below: int) -> int | None:
        return next(
            (
                i
                for i, other in enumerate(nets[:below])
                if other.version == net.version and other.overlaps(net)
            ),
            None,
        )

    def holding(net: Network4or6) -> int | None:
        return next(
            (
                i
                for i, other in enumerate(nets)
                if other.version == net.version and net.subnet_of(other)  # type: ignore[arg-type]
            ),
            None,
        )

    assert index.first(probe) == pairwise(probe, len(nets))
    assert index.container(probe) == holding(probe)
    for position, net in enumerate(nets):
        assert index.first_before(net, position) == pairwise(net, position)


def test_a_window_longer_than_the_scan_uses_the_sparse_table() -> None:
    nets = [ipaddress.ip_network(f"10.0.{i}.0/24") for i in range(200)]
    nets.append(ipaddress.ip_network("10.0.0.0/16"))
    nets.insert(150, ipaddress.ip_network("10.0.77.0/25"))
    index = Overlaps(nets)
    assert index.first(ipaddress.ip_network("10.0.64.0/18")) == 64
    assert index.first(ipaddress.ip_network("10.0.77.128/25")) == 77
    assert index.first_before(nets[-1], len(nets) - 1) == 0
    assert index.first(ipaddress.ip_network("10.1.0.0/16")) is None


def test_the_address_checks_do_not_compare_every_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    """1,000 VNets, each with a subnet, an on-prem router and a circuit: the checks used
    to call ``overlaps`` for every pair of ranges (about 500,000 calls; 20,000 VNets
    took minutes)."""
    from bgpemu.topology import parse_topology

    calls = 0
    original = ipaddress.IPv4Network.overlaps

    def counted(self: ipaddress.IPv4Network, other: ipaddress.IPv4Network) -> bool:
        nonlocal calls
        calls += 1
        return original(self, other)

    monkeypatch.setattr(ipaddress.IPv4Network, "overlaps", counted)
    nodes = "".join(
        f"  v{i}: {{role: vnet, addressSpace: [10.{i // 256}.{i % 256}.0/24], "
        f"subnets: [{{name: a, addressPrefix: 10.{i // 256}.{i % 256}.0/25}}]}}\n"
        for i in range(1_000)
    )
    nodes += "  site: {role: onprem, asn: 65001, bgpPeeringAddress: 192.168.0.1}\n"
    network = parse_topology(f"name: many\nnodes:\n{nodes}", "many.yaml")
    assert len(network.nodes) == 1_001
    assert calls < 1_000
