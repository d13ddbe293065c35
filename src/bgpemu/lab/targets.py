"""Names an injection uses (topology nodes, speakers, links, prefixes), checked against the plan.

One resolver for the testing API (:mod:`bgpemu.testing`) and the lab's control commands
(:mod:`bgpemu.lab.control`, the CLI and the MQTT ``control`` topic).  Every function either
returns speaker-level names or raises :class:`~bgpemu.lab.errors.LabInputError` naming
what is wrong and what exists, before anything is done to the lab.
"""

from __future__ import annotations

import ipaddress

from bgpemu.azure.model import ExpressRouteCircuit, Network, RouteServer, VpnGateway
from bgpemu.azure.plan import Plan
from bgpemu.azure.roles import speaker_names
from bgpemu.lab.errors import LabInputError
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST, Family

__all__ = ["Names", "parse_prefix"]

_CUSTOMER_SIDE_EXCLUDED = frozenset({"expressroute_gateway", "vwan_hub"})


class Names:
    """Lookups over one compiled topology."""

    def __init__(self, network: Network, plan: Plan) -> None:
        self.network = network
        self.plan = plan
        self.neighbors: dict[str, tuple[str, ...]] = {
            spec.name: tuple(sorted(n.name for n in spec.neighbors)) for spec in plan.speakers
        }
        """Speaker -> the speakers it has a session with (both ends in the lab)."""
        for speaker, peers in self.neighbors.items():
            self.neighbors[speaker] = tuple(p for p in peers if p in self.neighbors)

    def _nodes(self) -> str:
        nodes = sorted({e.node for e in self.plan.endpoints.values() if not e.external})
        return ", ".join(nodes)

    def speakers(self, name: str) -> tuple[str, ...]:
        """The speakers of node ``name``, or ``(name,)`` for a speaker name."""
        if name in self.neighbors:
            return (name,)
        found = tuple(e.speaker for e in self.plan.of_node(name) if e.speaker in self.neighbors)
        if found:
            return found
        raise LabInputError(
            f"no node or speaker {name!r} runs in topology {self.network.name!r} "
            f"(nodes: {self._nodes()}; speakers: {', '.join(sorted(self.neighbors))})"
        )

    def sessions(self, a: str, b: str) -> tuple[tuple[str, str], ...]:
        """Every BGP session between the speakers of ``a`` and those of ``b``."""
        ends_a, ends_b = self.speakers(a), self.speakers(b)
        pairs = tuple((x, y) for x in ends_a for y in ends_b if y in self.neighbors[x])
        if not pairs:
            peers = sorted({p for x in ends_a for p in self.neighbors[x]})
            raise LabInputError(
                f"no BGP session between {a!r} and {b!r} in topology {self.network.name!r} "
                f"({a} has sessions with: {', '.join(peers) or 'nobody'})"
            )
        return pairs

    def instance(self, node: str, index: int) -> str:
        """The speaker of instance ``index`` of an active-active VPN gateway or a Route Server."""
        try:
            item = self.network.node(node)
        except KeyError:
            raise LabInputError(
                f"no node {node!r} in topology {self.network.name!r} (nodes: {self._nodes()})"
            ) from None
        if isinstance(item, VpnGateway):
            instances = speaker_names.gateway_instances(self.network, node)
        elif isinstance(item, RouteServer):
            instances = speaker_names.route_server_instances(self.network, node)
        else:
            raise LabInputError(
                f"{node!r} is not a VPN gateway or a Route Server (it is a "
                f"{type(item).__name__}): it has no instances"
            )
        if len(instances) < 2:
            raise LabInputError(f"VPN gateway {node!r} is not active-active: it has one instance")
        if not 0 <= index < len(instances):
            raise LabInputError(f"{node!r} has instances 0 and 1, not {index}")
        return instances[index]

    def private_peering(self, circuit: str) -> tuple[tuple[str, str], ...]:
        """The sessions between the MSEEs of ``circuit`` and the customer (or provider PE)."""
        try:
            item = self.network.node(circuit)
        except KeyError:
            item = None
        if not isinstance(item, ExpressRouteCircuit):
            circuits = ", ".join(c.name for c in self.network.of_type(ExpressRouteCircuit))
            what = "no node" if item is None else f"a {type(item).__name__}, not a circuit"
            raise LabInputError(
                f"{circuit!r} is {what} in topology {self.network.name!r} "
                f"(ExpressRoute circuits: {circuits or 'none'})"
            )
        pairs = []
        for msee in speaker_names.msees(circuit):
            for peer in self.neighbors.get(msee, ()):
                if self.plan.endpoints[peer].role not in _CUSTOMER_SIDE_EXCLUDED:
                    pairs.append((msee, peer))
        if not pairs:
            raise LabInputError(
                f"the private peering of {circuit!r} has no session inside the lab "
                "(its customer router is external)"
            )
        return tuple(pairs)


def parse_prefix(prefix: str) -> tuple[Family, str]:
    """(family, canonical text) of ``prefix``; LabInputError if it is not an IP prefix."""
    try:
        network = ipaddress.ip_network(str(prefix))
    except ValueError:
        raise LabInputError(
            f"{prefix!r} is not an IP prefix (address/length, host bits zero)"
        ) from None
    return (IPV4_UNICAST if network.version == 4 else IPV6_UNICAST), str(network)
