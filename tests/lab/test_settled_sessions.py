"""Convergence of a TCP lab with sessions held down on purpose and sessions to external
routers (issue 12, item 5): a max-prefix trip without restart (RFC 4486 §4) does not keep
a lab from converging, and an external router's session is waited for, or named."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bgpemu.lab.supervisor import TcpLab
from bgpemu.topology import load_topology
from tests.helpers import free_port
from tests.runtime.rawpeer import connect_raw_peer

VPN_MAX_PREFIXES = 4000  # Azure's VPN gateway limit (azure-routing.md; bgpemu.azure.roles.vpn)
EXTERNAL = "127.0.77.254"


def _topology(tmp_path: Path, *, prefixes: list[str], external: int | None = None) -> Path:
    site: dict[str, object] = {
        "role": "onprem",
        "asn": 65050,
        "bgpPeeringAddress": EXTERNAL if external else "10.51.255.254",
        "prefixes": prefixes,
    }
    if external is not None:
        site["external"] = {"port": external}
    doc = {
        "name": "settled",
        "nodes": {
            "Hub": {
                "role": "vnet",
                "addressSpace": ["10.11.0.0/16", "10.12.0.0/16"],
                "subnets": [
                    {"name": "App", "addressPrefix": "10.11.0.0/24"},
                    {"name": "GatewaySubnet", "addressPrefix": "10.12.255.0/27"},
                ],
            },
            "GW": {
                "role": "vpn_gateway",
                "vnet": "Hub",
                "asn": 65010,
                "bgpPeeringAddresses": ["10.12.255.30"],
            },
            "Site": site,
        },
        "connections": [
            {
                "type": "site_to_site",
                "name": "c",
                "gateway": "GW",
                "site": "Site",
                "enableBgp": True,
            }
        ],
    }
    path = tmp_path / "settled.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


async def test_a_max_prefix_trip_holds_the_session_down_and_the_lab_converges(
    tmp_path: Path,
) -> None:
    """Site announces one prefix over the VPN gateway's 4,000: the gateway stops the
    session with Cease / Maximum Number of Prefixes Reached and keeps it down.  The lab
    converged only at its timeout before; now it converges and names the session."""
    prefixes = [f"10.{100 + i // 250}.{i % 250}.0/24" for i in range(VPN_MAX_PREFIXES + 1)]
    network = load_topology(_topology(tmp_path, prefixes=prefixes))
    async with TcpLab(network, processes=2, port=free_port("127.0.10.1")) as lab:
        verdict = await lab.converged(timeout=30)
    assert verdict.expected == 0
    (held,) = verdict.held
    assert held.startswith("GW-Site: held down by GW")
    assert "Maximum Prefixes Reached" in held


async def test_an_external_router_is_waited_for_then_counted(tmp_path: Path) -> None:
    """With an external on-prem router, the lab is not converged (it was, with
    "sessions": 0) until the router has connected; the verdict names it meanwhile."""
    port = free_port(EXTERNAL)
    network = load_topology(_topology(tmp_path, prefixes=["10.51.0.0/16"], external=port))
    lab_port = free_port("127.0.10.1")
    async with TcpLab(network, processes=1, port=lab_port) as lab:
        with pytest.raises(TimeoutError, match="waiting for external peer Site"):
            await lab.converged(timeout=2)
        verdict = lab.verdict()
        assert (verdict.established, verdict.expected) == (0, 1)
        assert verdict.external_waiting == ("Site (from GW)",)
        gateway = lab.plan.endpoints["GW"]
        router = await connect_raw_peer(
            gateway.lab_address, lab_port, local=EXTERNAL, asn=65050, router_id="10.51.0.1"
        )
        try:
            verdict = await lab.converged(timeout=20)
            assert (verdict.established, verdict.expected) == (1, 1)
            assert verdict.external_waiting == ()
        finally:
            await router.close()


async def test_without_waiting_the_external_router_is_named_not_connected(tmp_path: Path) -> None:
    port = free_port(EXTERNAL)
    network = load_topology(_topology(tmp_path, prefixes=["10.51.0.0/16"], external=port))
    async with TcpLab(
        network, processes=1, port=free_port("127.0.10.1"), wait_external=False
    ) as lab:
        verdict = await lab.converged(timeout=20)
    assert (verdict.established, verdict.expected) == (0, 0)
    assert verdict.not_connected == ("Site (from GW)",)
