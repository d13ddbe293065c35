"""The §9 reference networks shared by the role tests, the plan tests and the view tests.

Each is the network of one scenario of the design notes (§9), built once: the role tests
converge it in the fabric, ``test_views_e2e`` renders the Azure views over it.
"""

from __future__ import annotations

from bgpemu.azure.model import (
    ExpressRouteCircuit,
    ExpressRouteConnection,
    ExpressRouteGateway,
    HubVnetConnection,
    HubVpnConnection,
    Network,
    Nva,
    P2sConfig,
    Peering,
    RouteServer,
    RouteServerPeer,
    SessionPolicy,
    SiteToSite,
    VNet,
    VpnGateway,
    VWan,
    VWanType,
)
from tests.unit.azure.helpers import nva, site, vnet, vwan_hub


def scenario1(*site_prefixes: str) -> Network:
    """§9 scenario 1 [VPN-BGP-HOWTO]: TestVNet1, VNet1GW (65010), Site5 (65050)."""
    return Network(
        name="s1",
        nodes=(
            VNet(name="TestVNet1", address_space=("10.11.0.0/16", "10.12.0.0/16")),
            VpnGateway(
                name="VNet1GW", vnet="TestVNet1", asn=65010, bgp_peering_addresses=("10.12.255.30",)
            ),
            site("Site5", 65050, "10.51.255.254", *site_prefixes),
        ),
        connections=(SiteToSite(name="VNet1toSite5", gateway="VNet1GW", site="Site5"),),
    )


def scenario2() -> Network:
    """§9 scenario 2 [VPN-FAQ][VPN-BGP]: SiteA/SiteB BGP transit, SiteC static LNG."""
    return Network(
        name="s2",
        nodes=(
            vnet("Hub", "10.0.0.0/16"),
            VpnGateway(name="gw", vnet="Hub", bgp_peering_addresses=("10.0.255.4",)),
            site("SiteA", 65001, "10.1.255.1", "10.1.0.0/16", "0.0.0.0/0"),
            site("SiteB", 65002, "10.2.255.1", "10.2.0.0/16"),
            site("SiteC", 65003, "10.3.255.1"),
        ),
        connections=(
            SiteToSite(name="a", gateway="gw", site="SiteA"),
            SiteToSite(name="b", gateway="gw", site="SiteB"),
            SiteToSite(
                name="c",
                gateway="gw",
                site="SiteC",
                enable_bgp=False,
                local_address_prefixes=("10.3.0.0/16",),
            ),
        ),
    )


def scenario5() -> Network:
    """§9 scenario 5 [ER-S2S]: ER + active-active VPN, same on-prem prefix both ways."""
    return Network(
        name="s5",
        nodes=(
            VNet(
                name="hub",
                address_space=("10.17.11.0/25",),
                peerings=(Peering(remote_virtual_network="spoke", allow_gateway_transit=True),),
            ),
            VNet(
                name="spoke",
                address_space=("10.17.11.128/26",),
                peerings=(Peering(remote_virtual_network="hub", use_remote_gateways=True),),
            ),
            ExpressRouteGateway(name="ergw", vnet="hub", bgp_peering_address="10.17.11.70"),
            VpnGateway(
                name="vpngw",
                vnet="hub",
                active_active=True,
                bgp_peering_addresses=("10.17.11.76", "10.17.11.77"),
            ),
            site("ce", 65020, "192.168.11.17", "10.1.11.0/25"),
            site("fw", 65020, "192.168.11.88", "10.1.11.0/25"),
            ExpressRouteCircuit(
                name="er",
                peer="ce",
                primary_peer_address_prefix="192.168.11.16/30",
                secondary_peer_address_prefix="192.168.11.20/30",
                peer_policy=SessionPolicy(local_pref=150),
            ),
        ),
        connections=(
            ExpressRouteConnection(name="erc", gateway="ergw", circuit="er"),
            SiteToSite(name="s2s", gateway="vpngw", site="fw"),
        ),
    )


def scenario7(
    *,
    branch_to_branch: bool = True,
    wan_type: VWanType = VWanType.STANDARD,
    internet_security: bool = False,
) -> Network:
    """§9 scenario 7 [VWAN-S-ANY][VWAN-HRP][VWAN-DEEP]: two hubs, two VNets and a branch each."""
    return Network(
        name="s7",
        nodes=(
            VWan(name="wan", type=wan_type, allow_branch_to_branch_traffic=branch_to_branch),
            vwan_hub("hub1", 1, p2s=(P2sConfig(name="users", address_pools=("172.20.0.0/24",)),)),
            vwan_hub("hub2", 2),
            VNet(name="vnet1", address_space=("10.1.0.0/24",)),
            VNet(name="vnet2", address_space=("10.2.0.0/24",)),
            VNet(name="vnet3", address_space=("10.3.0.0/24",)),
            VNet(name="vnet4", address_space=("10.4.0.0/24",)),
            site("branch1", 65001, "10.100.255.1", "10.100.0.0/16", "0.0.0.0/0"),
            site("branch2", 65002, "10.200.255.1", "10.200.0.0/16"),
            site("branch3", 65003, "10.150.255.1", "10.150.0.0/16"),
        ),
        connections=(
            HubVnetConnection(name="c1", hub="hub1", vnet="vnet1"),
            HubVnetConnection(name="c2", hub="hub1", vnet="vnet2"),
            HubVnetConnection(name="c3", hub="hub2", vnet="vnet3"),
            HubVnetConnection(name="c4", hub="hub2", vnet="vnet4"),
            HubVpnConnection(name="b1", hub="hub1", site="branch1"),
            HubVpnConnection(name="b2", hub="hub2", site="branch2"),
            HubVpnConnection(
                name="b3", hub="hub1", site="branch3", enable_internet_security=internet_security
            ),
        ),
    )


def scenario9(branch_to_branch: bool, *extra: Nva) -> Network:
    """§9 scenario 9 [ARS-OV][ARS-FAQ][ARS-ERVPN][AAC-SDWAN]."""
    nvas = (
        nva("sdwan", "10.1.1.4", 65001, "10.250.0.0/16"),
        nva("firewall", "10.1.2.4", 65002, "0.0.0.0/0"),
        *extra,
    )
    return Network(
        name="s9",
        nodes=(
            vnet(
                "hub",
                "10.1.0.0/16",
                Peering(remote_virtual_network="spoke", allow_gateway_transit=True),
            ),
            vnet(
                "spoke",
                "10.5.0.0/16",
                Peering(remote_virtual_network="hub", use_remote_gateways=True),
            ),
            RouteServer(
                name="ars",
                vnet="hub",
                virtual_router_ips=("10.1.255.4", "10.1.255.5"),
                allow_branch_to_branch_traffic=branch_to_branch,
            ),
            ExpressRouteGateway(name="ergw", vnet="hub", bgp_peering_address="10.1.254.4"),
            site("onprem2", 65020, "192.168.2.17", "10.2.0.0/16"),
            ExpressRouteCircuit(
                name="er",
                peer="onprem2",
                primary_peer_address_prefix="192.168.2.16/30",
                secondary_peer_address_prefix="192.168.2.20/30",
            ),
            *nvas,
        ),
        connections=(
            ExpressRouteConnection(name="erc", gateway="ergw", circuit="er"),
            *(RouteServerPeer(name=f"p-{n.name}", route_server="ars", nva=n.name) for n in nvas),
        ),
    )
