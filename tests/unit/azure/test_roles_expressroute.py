"""Roles expressroute / expressroute_gateway: MSEEs, PE, ER gateway; §9 scenario 5."""

from __future__ import annotations

from bgpemu.azure.model import (
    Announcement,
    Connectivity,
    ExpressRouteCircuit,
    ExpressRouteConnection,
    ExpressRouteGateway,
    Network,
    OnPrem,
    Sku,
    VNet,
)
from bgpemu.azure.roles import compile_network
from bgpemu.policy import Direction
from tests.unit.azure.helpers import (
    apply,
    best,
    converge,
    from_peer,
    multipath,
    neighbor_names,
    received,
    route,
    sent,
    site,
    spec,
)
from tests.unit.azure.scenarios import scenario5


def circuit(name: str, peer: str, third: int, **kw: object) -> ExpressRouteCircuit:
    return ExpressRouteCircuit(
        name=name,
        peer=peer,
        primary_peer_address_prefix=f"192.168.{third}.16/30",
        secondary_peer_address_prefix=f"192.168.{third}.20/30",
        **kw,  # type: ignore[arg-type]
    )


def test_msee_addresses_and_asn() -> None:
    plan = compile_network(scenario5())
    primary, secondary = plan.endpoints["er.primary"], plan.endpoints["er.secondary"]
    assert (primary.azure_address, secondary.azure_address) == ("192.168.11.18", "192.168.11.22")
    assert primary.asn == secondary.asn == 12076
    assert (primary.instance, secondary.instance) == (0, 1)
    assert neighbor_names(plan, "er.primary") == ["ce", "ergw"]
    assert neighbor_names(plan, "ergw") == ["er.primary", "er.secondary", "vpngw.0", "vpngw.1"]


def test_scenario5_on_prem_sees_12076_and_gateway_weights() -> None:
    _plan, _fabric, t = converge(scenario5())
    ce = t["ce"]
    for prefix in ("10.17.11.0/25", "10.17.11.128/26"):
        r = best(ce, prefix)
        assert r is not None
        assert r.as_path == (12076,)
        assert r.local_pref == 150
        assert len(multipath(ce, prefix)) == 2  # both MSEEs
    vpn = t["vpngw.0"]
    via_er = received(vpn, "ergw")["10.1.11.0/25"]
    assert via_er.as_path == (12076, 65020)
    assert via_er.weight == 32769
    via_vpn = received(vpn, "fw")["10.1.11.0/25"]
    assert via_vpn.as_path == (65020,)
    assert via_vpn.weight == 32768
    chosen = best(vpn, "10.1.11.0/25")
    assert chosen is not None
    assert chosen.peer == "ergw"  # ER preferred for the same prefix (§4.5)
    to_fw = sent(vpn, "fw")
    assert set(to_fw) == {"10.17.11.0/25", "10.17.11.128/26"}
    assert to_fw["10.17.11.0/25"].as_path == (65515,)


def test_scenario5_gateway_prefers_er_copy() -> None:
    _plan, _fabric, t = converge(scenario5())
    r = best(t["ergw"], "10.1.11.0/25")
    assert r is not None
    assert r.peer in {"er.primary", "er.secondary"}
    assert r.as_path == (12076, 65020)
    assert r.weight == 32769


def test_no_vpn_to_er_transit_without_route_server() -> None:
    plan = compile_network(scenario5())
    vpn_peer = from_peer(plan, "ergw", "vpngw.0")
    path = route("10.99.0.0/16", 65099, source=vpn_peer)
    assert apply(plan, "ergw", "er.primary", Direction.EXPORT, path) is None
    er_peer = from_peer(plan, "vpngw.0", "ergw")
    er_path = route("10.98.0.0/16", 12076, 65098, source=er_peer)
    assert apply(plan, "vpngw.0", "fw", Direction.EXPORT, er_path) is None


def two_circuits(weight1: int, weight2: int, prepend2: int = 0) -> Network:
    return Network(
        name="w",
        nodes=(
            VNet(name="v", address_space=("10.0.0.0/16",)),
            ExpressRouteGateway(name="ergw", vnet="v", bgp_peering_address="10.0.255.4"),
            OnPrem(
                name="dc1",
                asn=65001,
                bgp_peering_address="192.168.1.17",
                router_id="192.168.1.17",
                prefixes=(Announcement(prefix="172.16.0.0/16", as_path_prepend=3),),
            ),
            OnPrem(
                name="dc2",
                asn=65002,
                bgp_peering_address="192.168.2.17",
                router_id="192.168.2.17",
                prefixes=(Announcement(prefix="172.16.0.0/16", as_path_prepend=prepend2),),
            ),
            circuit("er1", "dc1", 1),
            circuit("er2", "dc2", 2),
        ),
        connections=(
            ExpressRouteConnection(
                name="c1", gateway="ergw", circuit="er1", routing_weight=weight1
            ),
            ExpressRouteConnection(
                name="c2", gateway="ergw", circuit="er2", routing_weight=weight2
            ),
        ),
    )


def test_routing_weight_beats_as_path() -> None:
    _plan, _fabric, t = converge(two_circuits(100, 0))
    r = best(t["ergw"], "172.16.0.0/16")
    assert r is not None
    assert r.peer is not None
    assert r.peer.startswith("er1.")  # longer AS path, higher connection weight
    assert r.weight == 32769 + 100


def test_equal_weight_shortest_as_path_then_ecmp() -> None:
    _plan, _fabric, t = converge(two_circuits(0, 0))
    r = best(t["ergw"], "172.16.0.0/16")
    assert r is not None
    assert r.peer is not None
    assert r.peer.startswith("er2.")
    assert len(multipath(t["ergw"], "172.16.0.0/16")) == 2  # both MSEEs of er2


def test_no_er_to_er_transit_and_remote_vnet_traffic_off() -> None:
    _plan, _fabric, t = converge(two_circuits(0, 0))
    # er2's route reaches er1's MSEE only with 12076 in its path: a loop, dropped (§4.1).
    assert "172.16.0.0/16" not in received(t["er1.primary"], "ergw")
    assert "172.16.0.0/16" not in sent(t["er1.primary"], "dc1")
    dc1 = best(t["dc1"], "10.0.0.0/16")
    assert dc1 is not None
    assert dc1.as_path == (12076,)


def test_remote_vnet_traffic_through_shared_circuit() -> None:
    def net(allow: bool) -> Network:
        return Network(
            name="r",
            nodes=(
                VNet(name="v1", address_space=("10.1.0.0/16",)),
                VNet(name="v2", address_space=("10.2.0.0/16",)),
                ExpressRouteGateway(
                    name="g1",
                    vnet="v1",
                    bgp_peering_address="10.1.255.4",
                    allow_remote_vnet_traffic=allow,
                ),
                ExpressRouteGateway(
                    name="g2",
                    vnet="v2",
                    bgp_peering_address="10.2.255.4",
                    allow_remote_vnet_traffic=allow,
                ),
                OnPrem(
                    name="dc",
                    asn=65020,
                    bgp_peering_address="192.168.1.17",
                    router_id="192.168.1.17",
                ),
                circuit("er", "dc", 1),
            ),
            connections=(
                ExpressRouteConnection(name="c1", gateway="g1", circuit="er"),
                ExpressRouteConnection(name="c2", gateway="g2", circuit="er"),
            ),
        )

    _plan, _fabric, off = converge(net(False))
    assert best(off["g1"], "10.2.0.0/16") is None
    _plan, _fabric, on = converge(net(True))
    r = best(on["g1"], "10.2.0.0/16")
    assert r is not None
    assert r.as_path == (12076, 12076)  # OBS "65515-12076-12076" after the ARS hop


def test_ipvpn_provider_asn_in_path() -> None:
    network = Network(
        name="ipvpn",
        nodes=(
            VNet(name="v", address_space=("10.0.0.0/16",)),
            ExpressRouteGateway(name="ergw", vnet="v", bgp_peering_address="10.0.255.4"),
            site("branch", 65030, "172.31.0.1", "10.30.0.0/16"),
            circuit("er", "branch", 3, connectivity=Connectivity.IPVPN, provider_asn=7018),
        ),
        connections=(ExpressRouteConnection(name="c", gateway="ergw", circuit="er"),),
    )
    plan, _fabric, t = converge(network)
    assert neighbor_names(plan, "branch") == ["er.provider"]
    assert plan.endpoints["er.provider"].azure_address == "192.168.3.17"
    r = best(t["branch"], "10.0.0.0/16")
    assert r is not None
    assert r.as_path == (7018, 12076)
    g = best(t["ergw"], "10.30.0.0/16")
    assert g is not None
    assert g.as_path == (12076, 7018, 65030)


def test_prefix_limits_by_sku() -> None:
    network = two_circuits(0, 0)
    nodes = tuple(
        circuit("er2", "dc2", 2, sku=Sku.PREMIUM) if n.name == "er2" else n for n in network.nodes
    )
    plan = compile_network(Network(name="p", nodes=nodes, connections=network.connections))
    std = spec(plan, "er1.primary").router.neighbor("dc1").max_prefix
    prem = spec(plan, "er2.primary").router.neighbor("dc2").max_prefix
    to_gw = spec(plan, "er1.primary").router.neighbor("ergw").max_prefix
    assert std is not None
    assert prem is not None
    assert to_gw is not None
    assert (std.limit, prem.limit, to_gw.limit) == (4000, 10000, 1000)
    assert std.restart_after is None
