"""Small networks of the traffic tests (azure-traffic.md §8), built in code and converged
with :func:`bgpemu.azure.converge.solve`."""

from __future__ import annotations

from dataclasses import replace

from bgpemu.azure.converge import solve
from bgpemu.azure.model import (
    Network,
    NextHopType,
    Peering,
    RouteTable,
    Subnet,
    UserRoute,
    VNet,
)
from bgpemu.azure.security import (
    Access,
    Direction,
    NetworkInterface,
    NetworkSecurityGroup,
    Protocol,
    SecurityRule,
)
from bgpemu.azure.traffic.index import TrafficContext
from tests.unit.azure.scenarios import scenario5


def context(network: Network) -> TrafficContext:
    """``network`` converged in the fabric, indexed."""
    solution = solve(network)
    return TrafficContext(solution.network, solution.plan, solution.snapshots)


def nic(name: str, vnet: str, subnet: str, address: str, **fields: object) -> NetworkInterface:
    """A virtual machine's interface."""
    return NetworkInterface(
        name=name,
        vnet=vnet,
        subnet=subnet,
        private_ip_address=address,
        **fields,  # type: ignore[arg-type]
    )


def s2(*extra_space: str) -> Network:
    """§8 S2: VM 10.0.0.4 in a VNet with default rules and routes."""
    return Network(
        name="s2",
        nodes=(
            VNet(
                name="vnet1",
                address_space=("10.0.0.0/16", *extra_space),
                subnets=(
                    Subnet(
                        name="default",
                        address_prefix="10.0.0.0/24",
                        network_interfaces=(nic("vm1", "vnet1", "default", "10.0.0.4"),),
                    ),
                ),
            ),
        ),
    )


def s5(
    *,
    udr_spoke1: bool = True,
    udr_spoke2: bool = True,
    ip_forwarding: bool = True,
    forwarded_spoke2: bool = True,
) -> Network:
    """§8 S5: spokes 10.1/16 and 10.2/16 peered with the hub 10.0/16 only; the hub's
    NVA 10.0.1.4 (a NIC with IP forwarding) and UDRs through it."""

    def spoke(name: str, index: int, other: int, udr: bool, forwarded: bool) -> VNet:
        tables = (
            (
                RouteTable(
                    name=f"rt-{name}",
                    routes=(
                        UserRoute(
                            name=f"to-spoke{other}",
                            address_prefix=f"10.{other}.0.0/16",
                            next_hop_type=NextHopType.VIRTUAL_APPLIANCE,
                            next_hop_ip_address="10.0.1.4",
                        ),
                    ),
                ),
            )
            if udr
            else ()
        )
        return VNet(
            name=name,
            address_space=(f"10.{index}.0.0/16",),
            subnets=(
                Subnet(
                    name="app",
                    address_prefix=f"10.{index}.0.0/24",
                    route_table=f"rt-{name}" if udr else None,
                    network_interfaces=(nic(f"vm{index}", name, "app", f"10.{index}.0.4"),),
                ),
            ),
            route_tables=tables,
            peerings=(Peering(remote_virtual_network="hub", allow_forwarded_traffic=forwarded),),
        )

    hub = VNet(
        name="hub",
        address_space=("10.0.0.0/16",),
        subnets=(
            Subnet(
                name="nva",
                address_prefix="10.0.1.0/24",
                network_interfaces=(
                    nic("nva1", "hub", "nva", "10.0.1.4", enable_ip_forwarding=ip_forwarding),
                ),
            ),
        ),
        peerings=(
            Peering(remote_virtual_network="spoke1", allow_forwarded_traffic=True),
            Peering(remote_virtual_network="spoke2", allow_forwarded_traffic=True),
        ),
    )
    return Network(
        name="s5",
        nodes=(
            hub,
            spoke("spoke1", 1, 2, udr_spoke1, True),
            spoke("spoke2", 2, 1, udr_spoke2, forwarded_spoke2),
        ),
    )


def er_vpn() -> Network:
    """azure-routing.md §9 scenario 5 (ER + active-active VPN to one on-prem prefix) with
    a VM in the hub (10.17.11.4) and one in the spoke (10.17.11.132)."""
    network = scenario5()
    nodes = []
    for node in network.nodes:
        if isinstance(node, VNet) and node.name == "hub":
            node = replace(
                node,
                subnets=(
                    Subnet(
                        name="workload",
                        address_prefix="10.17.11.0/26",
                        network_interfaces=(nic("hubvm", "hub", "workload", "10.17.11.4"),),
                    ),
                ),
            )
        elif isinstance(node, VNet) and node.name == "spoke":
            node = replace(
                node,
                subnets=(
                    Subnet(
                        name="app",
                        address_prefix="10.17.11.128/27",
                        network_interfaces=(nic("spokevm", "spoke", "app", "10.17.11.132"),),
                    ),
                ),
            )
        nodes.append(node)
    return replace(network, nodes=tuple(nodes))


def s6(*, internet_drop: bool = False) -> Network:
    """§8 S6 [NW-CT-CLI]: app 10.1.1.4 -> fw NVA 10.1.2.4 -> second NVA 10.1.3.4 -> DB
    10.1.4.4 by UDRs, one VNet; ``UserRule_Port80`` on the second NVA's NIC denies TCP 80
    outbound.  ``internet_drop``: a user route 13.107.21.200/32 -> None on the app
    subnet (the doc's variant)."""

    def udr(name: str, prefix: str, hop: str | None) -> UserRoute:
        return UserRoute(
            name=name,
            address_prefix=prefix,
            next_hop_type=NextHopType.NONE if hop is None else NextHopType.VIRTUAL_APPLIANCE,
            next_hop_ip_address=hop,
        )

    app_routes = [udr("to-db", "10.1.4.0/24", "10.1.2.4")]
    if internet_drop:
        app_routes.append(udr("drop-bing", "13.107.21.200/32", None))
    vnet = VNet(
        name="vnet1",
        address_space=("10.1.0.0/16",),
        subnets=(
            Subnet(
                name="app",
                address_prefix="10.1.1.0/24",
                route_table="rt-app",
                network_interfaces=(nic("appNic0", "vnet1", "app", "10.1.1.4"),),
            ),
            Subnet(
                name="fw",
                address_prefix="10.1.2.0/24",
                route_table="rt-fw",
                network_interfaces=(
                    nic("fwNic", "vnet1", "fw", "10.1.2.4", enable_ip_forwarding=True),
                ),
            ),
            Subnet(
                name="nva",
                address_prefix="10.1.3.0/24",
                network_interfaces=(
                    nic(
                        "nvaNic",
                        "vnet1",
                        "nva",
                        "10.1.3.4",
                        enable_ip_forwarding=True,
                        network_security_group="nsg-nva",
                    ),
                ),
            ),
            Subnet(
                name="db",
                address_prefix="10.1.4.0/24",
                network_interfaces=(nic("dbNic0", "vnet1", "db", "10.1.4.4"),),
            ),
        ),
        route_tables=(
            RouteTable(name="rt-app", routes=tuple(app_routes)),
            RouteTable(name="rt-fw", routes=(udr("to-db", "10.1.4.0/24", "10.1.3.4"),)),
        ),
    )
    return Network(
        name="s6",
        nodes=(vnet,),
        network_security_groups=(
            NetworkSecurityGroup(
                name="nsg-nva",
                security_rules=(
                    SecurityRule(
                        name="UserRule_Port80",
                        priority=100,
                        direction=Direction.OUTBOUND,
                        access=Access.DENY,
                        protocol=Protocol.TCP,
                        destination_port_ranges=("80",),
                    ),
                ),
            ),
        ),
    )
