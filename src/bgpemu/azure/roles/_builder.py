"""The :class:`Builder` of role compilation: speaker drafts, naming, addressing, VNet space.

Compilation runs in two passes over the :class:`~bgpemu.azure.model.Network`.  First
every role module *declares* its speakers (name, Azure address, ASN, router id): a
:class:`Builder` holds them as mutable drafts local to one ``compile_network`` call.
Then every role module *wires* its own side of each session: the neighbour it expects
and the import/export steps, prefix limit and weight it applies.  Both ends of a
session are wired by the modules of their own roles, so each module only describes
its role's behaviour.  :meth:`Builder.plan` finally gives every speaker a lab address
(consecutive from ``lab_base`` in sorted name order, except the speakers whose address
a previous compilation fixed, see :func:`lab_addresses`) and freezes everything into
:class:`~bgpemu.router.spec.SpeakerSpec` values.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

from bgpemu.azure.model import Network, VNet
from bgpemu.azure.plan import CompileError, Endpoint, Plan
from bgpemu.policy import Chain, MaxPrefix, Policy
from bgpemu.rib.decision import DecisionConfig
from bgpemu.router.config import OriginatedRoute, RouterConfig
from bgpemu.router.neighbor import NeighborPolicy
from bgpemu.router.spec import NeighborSpec, SpeakerSpec
from bgpemu.session import SessionConfig
from bgpemu.types import IPV4_UNICAST, TcpMd5Key, prefix_version

__all__ = [
    "Builder",
    "External",
    "NeighborDraft",
    "SpeakerDraft",
    "ipv4_only",
    "lab_addresses",
    "no_restart",
    "usable_address",
    "vnet_of",
    "vnet_space",
]


@dataclass(slots=True)
class NeighborDraft:
    """One side of a session while it is being wired (import/export steps run in order)."""

    remote: str
    imports: list[Policy] = field(default_factory=list)
    exports: list[Policy] = field(default_factory=list)
    max_prefix: MaxPrefix | None = None
    passive: bool = False
    tcp_md5_key: TcpMd5Key | None = None
    """RFC 2385: set on both ends of a session by :meth:`Builder.sign`."""


@dataclass(slots=True)
class SpeakerDraft:
    """One speaker while it is being compiled."""

    name: str
    node: str
    role: str
    instance: int
    azure_address: str
    asn: int
    router_id: str
    next_hop: str
    decision: DecisionConfig = field(default_factory=DecisionConfig)
    routes: list[OriginatedRoute] = field(default_factory=list)
    neighbors: dict[str, NeighborDraft] = field(default_factory=dict)
    announced: set[str] = field(default_factory=set, init=False, repr=False, compare=False)
    """The prefixes of ``routes`` (:meth:`originate` looks a prefix up here instead of
    scanning the list: a vWAN hub originates tens of thousands)."""

    @classmethod
    def azure(
        cls,
        *,
        name: str,
        node: str,
        role: str,
        instance: int,
        address: str,
        asn: int,
        decision: DecisionConfig | None = None,
    ) -> SpeakerDraft:
        """A speaker of an Azure role: ``address`` is its Azure address, its router id
        and the next hop it advertises (docs/azure-behaviours.md: "Router id = Azure
        address, except on-prem routers and NVAs")."""
        return cls(
            name=name,
            node=node,
            role=role,
            instance=instance,
            azure_address=address,
            asn=asn,
            router_id=address,
            next_hop=address,
            decision=DecisionConfig() if decision is None else decision,
        )

    def originate(
        self,
        prefix: str,
        *,
        med: int | None = None,
        communities: tuple[int, ...] = (),
        large_communities: tuple[tuple[int, int, int], ...] = (),
        prepend: int = 0,
    ) -> None:
        """Announce ``prefix`` (once; IPv4 only, see :func:`ipv4_only`)."""
        if prefix in self.announced or not ipv4_only(prefix):
            return
        self.announced.add(prefix)
        self.routes.append(
            OriginatedRoute(
                prefix=prefix,
                family=IPV4_UNICAST,
                med=med,
                communities=communities,
                large_communities=large_communities,
                as_path_prepend=prepend,
            )
        )

    def neighbor(self, remote: str) -> NeighborDraft:
        """The draft of neighbour ``remote`` (created on first use)."""
        draft = self.neighbors.get(remote)
        if draft is None:
            draft = self.neighbors[remote] = NeighborDraft(remote=remote)
        return draft


@dataclass(frozen=True, slots=True, kw_only=True)
class External:
    """An on-prem router outside bgpemu: an endpoint, no speaker."""

    name: str
    address: str
    port: int
    asn: int


class Builder:
    """The speakers of one compilation, by name."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.drafts: dict[str, SpeakerDraft] = {}
        self.externals: dict[str, External] = {}

    def add(self, draft: SpeakerDraft) -> SpeakerDraft:
        """Register a speaker; names must be unique."""
        if draft.name in self.drafts or draft.name in self.externals:
            raise CompileError(f"two speakers are called {draft.name!r}")
        self.drafts[draft.name] = draft
        return draft

    def add_external(self, external: External) -> None:
        """Register an external router (no speaker)."""
        if external.name in self.drafts or external.name in self.externals:
            raise CompileError(f"two speakers are called {external.name!r}")
        self.externals[external.name] = external

    def sign(self, a: str, b: str, key: TcpMd5Key | None) -> None:
        """Give the session between speakers ``a`` and ``b`` the TCP-MD5 key ``key``
        (RFC 2385), on each end that is a speaker (an external router is configured by
        its user); None leaves the session unsigned."""
        if key is None:
            return
        for local, remote in ((a, b), (b, a)):
            draft = self.speaker(local)
            if draft is not None:
                draft.neighbor(remote).tcp_md5_key = key

    def speaker(self, name: str) -> SpeakerDraft | None:
        """The draft called ``name``; None for an external router."""
        if name in self.externals:
            return None
        return self.drafts[name]

    def plan(
        self,
        *,
        lab_base: str,
        port: int,
        hold: int,
        addresses: Mapping[str, str] | None = None,
    ) -> Plan:
        """Lab addresses (see :func:`lab_addresses`), endpoints and frozen speaker specs."""
        lab = lab_addresses(sorted(self.drafts), lab_base, addresses)
        endpoints: dict[str, Endpoint] = {}
        for name, ext in self.externals.items():
            endpoints[name] = Endpoint(
                speaker=name,
                node=name,
                role="onprem",
                azure_address=ext.address,
                lab_address=ext.address,
                asn=ext.asn,
                external=True,
            )
        speakers = []
        for name in sorted(self.drafts):
            draft = self.drafts[name]
            endpoints[name] = Endpoint(
                speaker=name,
                node=draft.node,
                role=draft.role,
                instance=draft.instance,
                azure_address=draft.azure_address,
                lab_address=lab[name],
                asn=draft.asn,
            )
            speakers.append(self._spec(draft, lab, port, hold))
        return Plan(speakers=tuple(speakers), endpoints=endpoints)

    def _remote(self, name: str, lab: dict[str, str], port: int) -> tuple[str, int, int]:
        """(address, port, ASN) of speaker ``name`` as its neighbours reach it."""
        ext = self.externals.get(name)
        if ext is not None:
            return ext.address, ext.port, ext.asn
        return lab[name], port, self.drafts[name].asn

    def _spec(self, draft: SpeakerDraft, lab: dict[str, str], port: int, hold: int) -> SpeakerSpec:
        policies = []
        neighbors = []
        for remote in sorted(draft.neighbors):
            n = draft.neighbors[remote]
            address, remote_port, remote_asn = self._remote(remote, lab, port)
            policies.append(
                NeighborPolicy(
                    name=remote,
                    import_policy=_combine(n.imports),
                    export_policy=_combine(n.exports),
                    max_prefix=n.max_prefix,
                )
            )
            session = SessionConfig(
                local_as=draft.asn,
                peer_as=remote_asn,
                bgp_identifier=draft.router_id,
                hold_time=hold,
                passive=n.passive,
                peer_name=remote,
            )
            neighbors.append(
                NeighborSpec(
                    name=remote,
                    address=address,
                    port=remote_port,
                    session=session,
                    tcp_md5_key=n.tcp_md5_key,
                )
            )
        router = RouterConfig(
            asn=draft.asn,
            router_id=draft.router_id,
            next_hop_v4=draft.next_hop,
            routes=tuple(draft.routes),
            decision=draft.decision,
            neighbors=tuple(policies),
        )
        return SpeakerSpec(
            name=draft.name,
            local_address=lab[draft.name],
            port=port,
            router=router,
            neighbors=tuple(neighbors),
        )


def lab_addresses(
    names: list[str], lab_base: str, fixed: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The lab address of every speaker of ``names`` (sorted).

    Without ``fixed``: consecutive from ``lab_base``.  With it (a running lab being
    changed, :func:`bgpemu.azure.replan.replan`): a speaker named in ``fixed`` keeps
    that address, and every other one takes the lowest address from ``lab_base`` up
    that is neither fixed nor already given, in name order.
    """
    base = ipaddress.IPv4Address(lab_base)
    if fixed is None:
        return {name: str(base + i) for i, name in enumerate(names)}
    lab = {name: fixed[name] for name in names if name in fixed}
    used = set(fixed.values())
    candidate = base
    for name in names:
        if name in lab:
            continue
        while str(candidate) in used:
            candidate += 1
        lab[name] = str(candidate)
        used.add(lab[name])
    return lab


def _combine(steps: list[Policy]) -> Policy | None:
    if not steps:
        return None
    if len(steps) == 1:
        return steps[0]
    return Chain(*steps)


def no_restart(limit: int) -> MaxPrefix:
    """A prefix limit whose trip keeps the session down (decision: no restart timer).

    Azure restores the session once the peer is back under the limit [VPN-FAQ][ER-FAQ];
    bgpemu leaves it down, since a restart timer would never let the fabric go idle.
    """
    return MaxPrefix(limit, restart_after=None)


def usable_address(prefix: str, index: int) -> str:
    """The ``index``-th usable address (1-based) of ``prefix`` (§4.1: /30 links)."""
    network = ipaddress.ip_network(prefix, strict=False)
    return str(network.network_address + index)


def ipv4_only(prefix: str) -> bool:
    """Only IPv4 unicast is compiled (decision: Azure speakers get no IPv6 BGP address).

    ``ipaddress.ip_network(prefix, strict=False)``'s version, read by
    :func:`prefix_version` (a dotted prefix without ``ipaddress``)."""
    return prefix_version(prefix) == 4


def vnet_of(network: Network, name: str) -> VNet:
    """The VNet called ``name``."""
    node = network.node(name)
    if not isinstance(node, VNet):
        raise TypeError(f"{name} is not a VNet")
    return node


def vnet_space(network: Network, vnet: str) -> tuple[str, ...]:
    """The VNet's address space plus the spaces of VNets using its gateways.

    §2 [ER-FAQ][VPN-FAQ], §6.3 [ARS-FAQ]: a gateway or Route Server advertises its own
    VNet ranges and those of peered VNets whose peering to it sets useRemoteGateways.
    """
    space = list(vnet_of(network, vnet).address_space)
    for other in network.of_type(VNet):
        if other.name == vnet:
            continue
        for peering in other.peerings:
            if peering.remote_virtual_network == vnet and peering.use_remote_gateways:
                space.extend(other.address_space)
    return tuple(dict.fromkeys(space))
