"""Compile an Azure :class:`~bgpemu.azure.model.Network` into speakers (a :class:`Plan`).

Every BGP endpoint becomes one :class:`~bgpemu.router.spec.SpeakerSpec` whose import
and export policies carry Azure's routing rules; docs/azure-behaviours.md lists each
rule with its source, the function that implements it and the test that proves it.
One module per role family: :mod:`.customer` (onprem, nva), :mod:`.vpn`,
:mod:`.expressroute` (MSEEs, provider PE, ER gateway), :mod:`.route_server`,
:mod:`.vwan`; :mod:`.names` holds the speaker naming of multi-speaker nodes.
"""

from __future__ import annotations

from collections.abc import Mapping

from bgpemu.azure.model import Network
from bgpemu.azure.plan import CompileError, Plan
from bgpemu.azure.roles._builder import Builder
from bgpemu.azure.roles.customer import declare_customers, wire_customers
from bgpemu.azure.roles.expressroute import declare_expressroute, wire_expressroute
from bgpemu.azure.roles.route_server import declare_route_servers, wire_route_servers
from bgpemu.azure.roles.vpn import declare_vpn_gateways, wire_vpn_gateways
from bgpemu.azure.roles.vwan import declare_hubs, wire_hubs

__all__ = ["CompileError", "compile_network"]


def compile_network(
    network: Network,
    *,
    lab_base: str = "127.0.10.1",
    port: int = 179,
    keepalive: int = 60,
    hold: int = 180,
    addresses: Mapping[str, str] | None = None,
) -> Plan:
    """The speakers and endpoints of ``network``.

    Lab addresses are consecutive from ``lab_base`` in sorted speaker-name order;
    ``addresses`` (speaker name -> lab address, e.g. those of a running lab) fixes
    some: those speakers keep theirs, the others take the lowest free addresses from
    ``lab_base`` up (:func:`~bgpemu.azure.roles._builder.lab_addresses`);
    every speaker listens on ``port`` and reaches its neighbours there (an external
    on-prem router at its ``external_port``).  Sessions propose ``hold`` seconds;
    the keepalive interval is what the session derives from the negotiated hold time
    (one third, RFC 4271 §10), so ``keepalive`` must equal ``hold // 3`` (Azure:
    60/180, §8 [VPN-FAQ][ARS-FAQ]).  A network that cannot be compiled raises
    :class:`~bgpemu.azure.plan.CompileError` naming the object.
    """
    if hold != 0 and keepalive * 3 != hold:
        raise CompileError(
            f"keepalive {keepalive} must be a third of hold {hold}: "
            "sessions derive the keepalive interval from the hold time"
        )
    builder = Builder(network)
    declare_customers(builder)
    declare_vpn_gateways(builder)
    declare_expressroute(builder)
    declare_route_servers(builder)
    declare_hubs(builder)
    wire_customers(builder)
    wire_vpn_gateways(builder)
    wire_expressroute(builder)
    wire_route_servers(builder)
    wire_hubs(builder)
    return builder.plan(lab_base=lab_base, port=port, hold=hold, addresses=addresses)
