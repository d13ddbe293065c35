"""A trace of one flow, hop by hop, like connection troubleshoot (§4.4, §5 of
``shared/azure-traffic.md``).

Theory of operation (§5.1, per hop):

1. **Source**: the address must be held by an interface, NVA or firewall (or lie in an
   on-prem router's announced ranges: a host behind it, decision §9.12); its outbound NSGs
   (NSG-N then NSG-S, §2) decide first.
2. **Route lookup** in the effective routes of the subnet the packet is in (longest
   prefix; the view has chosen between sources, §1.4 [UDR]); a BGP speaker (gateway
   instance, MSEE, hub router, on-prem router) looks up its own Loc-RIB instead (§5.2,
   decision §9.12).
3. **Next hop** (§5.2): ``VnetLocal``/``VNetPeering`` deliver to the interface holding the
   destination (crossing a peering needs ``allowVirtualNetworkAccess`` on the sending side
   and, for traffic an appliance forwarded, ``allowForwardedTraffic`` on the receiving
   side [PEER-MGMT]); ``VirtualAppliance`` goes to the NIC, NVA or firewall holding the IP,
   whose inbound NSGs see the original addresses (decision §9.3), which must forward (IP
   forwarding, §5.3 [NIC-IPFWD]), whose firewall rules decide (§7), and which looks up
   onward in its own subnet's effective routes (§5.3); ``VirtualNetworkGateway`` goes to
   every gateway instance / MSEE / hub router / NVA of the route's next hops, which
   forward by their own best paths; ``None`` drops; ``Internet`` leaves Azure.
4. **ECMP** fans out: every next hop of a route and every path of a multipath set is
   followed, and the trace reports the set (decision §9.11: no hash is guessed).
5. **Return path**: the reply (source and destination swapped) is traced the same way,
   without NSG or firewall rules (both are stateful, §1.3, §7.1); a reply that crosses
   another set of stateful hops (NVAs, firewalls) than the request is ``asymmetric`` (P1).
6. **DNAT** (§7.1, decision §9.8): a firewall's DNAT rule translates the destination (and
   port); the path goes on from the firewall to the translated destination, the
   firewall's hop names the translation (``translated`` of its rule check) and the path
   keeps the translated flow (:attr:`TracePath.translated`).  Reply assumption: the
   source is not translated (SNAT is not modelled, §7.2), so the reply is traced from
   the translated destination back to the original source, and must cross the firewall
   that translated it (it holds the state to untranslate); one that does not is
   ``asymmetric`` (P1).

A hop visited twice on one path ends it with verdict ``loop``.  The pitfalls of §6 the
trace can see are attached as warnings (:mod:`.pitfalls`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bgpemu.azure.traffic.flow import Flow
from bgpemu.azure.traffic.hops import TracePath, Verdict
from bgpemu.azure.traffic.index import TrafficContext
from bgpemu.azure.traffic.pitfalls import Pitfall, pitfalls
from bgpemu.azure.traffic.walk import MAX_HOPS, UnknownAddressError, Walker

__all__ = ["MAX_HOPS", "Trace", "UnknownAddressError", "trace"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Trace:
    """The answer for one flow: its paths, its reply's paths, a verdict and warnings.

    ``verdict``: ``reachable`` when every forward path and every reply path is, and the
    reply crosses the request's stateful hops; otherwise the first failing forward path's
    verdict, else the reply's (reason prefixed ``reply:``), else ``asymmetric``.
    """

    flow: Flow
    verdict: Verdict
    reason: str
    paths: tuple[TracePath, ...]
    reply_paths: tuple[TracePath, ...]
    warnings: tuple[Pitfall, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The whole trace, camelCase."""
        flow = self.flow
        return {
            "flow": {
                "protocol": flow.protocol,
                "source": flow.source,
                "sourcePort": flow.source_port,
                "destination": flow.destination,
                "destinationPort": flow.destination_port,
            },
            "verdict": self.verdict.value,
            "reason": self.reason,
            "paths": [p.to_json() for p in self.paths],
            "replyPaths": [p.to_json() for p in self.reply_paths],
            "warnings": [w.to_json() for w in self.warnings],
        }

    def to_connectivity_check(self) -> dict[str, Any]:
        """``az network watcher test-connectivity`` (§4.4) for the forward paths.

        Hops of all paths merged into one DAG (ECMP: several ``nextHopIds``); ids are
        ``h1``, ``h2``... in first-visit order (stable, unlike Azure's GUIDs).  Status:
        ``Reachable``/``Unreachable`` as the docs print it (decision §9.5; the API's
        ``Connected``/``Disconnected`` are the aliases, documented), and the API's
        ``Unknown`` for an ``undetermined`` trace (a firewall's application rules would
        decide, §9.9), whose ``probesFailed`` is null; probes 100, all failed when
        unreachable; latencies null (an emulator answers statically).
        """
        ids: dict[tuple[str, str, str], str] = {}
        merged: dict[str, dict[str, Any]] = {}
        for path in self.paths:
            previous: str | None = None
            for hop in path.hops:
                hop_id = ids.get(hop.key)
                if hop_id is None:
                    hop_id = ids[hop.key] = f"h{len(ids) + 1}"
                    merged[hop_id] = {
                        "type": hop.type.value,
                        "id": hop_id,
                        "address": hop.address,
                        "resourceId": hop.resource_id,
                        "nextHopIds": [],
                        "issues": [],
                    }
                entry = merged[hop_id]
                for issue in hop.issues:
                    doc = issue.to_json()
                    if doc not in entry["issues"]:
                        entry["issues"].append(doc)
                if previous is not None and hop_id not in merged[previous]["nextHopIds"]:
                    merged[previous]["nextHopIds"].append(hop_id)
                previous = hop_id
        reachable = self.verdict is Verdict.REACHABLE
        status = "Reachable" if reachable else "Unreachable"
        failed: int | None = 0 if reachable else 100
        if self.verdict is Verdict.UNDETERMINED:
            status, failed = "Unknown", None
        return {
            "connectionStatus": status,
            "probesSent": 100,
            "probesFailed": failed,
            "avgLatencyInMs": None,
            "minLatencyInMs": None,
            "maxLatencyInMs": None,
            "hops": list(merged.values()),
        }


def trace(ctx: TrafficContext, flow: Flow, *, with_warnings: bool = True) -> Trace:
    """Trace ``flow`` through the converged network of ``ctx`` (§5), then its reply.

    ``with_warnings=False``: the pitfalls of §6 are not looked for (``warnings`` stays
    empty; the verdict, reason and paths are the same): the reachability matrix, which
    shows verdicts only, traces so.  UnknownAddressError naming the source when nothing
    holds it (no interface, appliance, firewall, gateway, or on-prem announced range).
    """
    paths = Walker(ctx, flow, reply=False).start()
    reply_paths: list[TracePath] = []
    if all(p.verdict is Verdict.REACHABLE for p in paths):
        # A path a DNAT rule translated is answered by its translated destination
        # (decision §9.8); the firewall that translated it must see that reply (stateful).
        delivered = dict.fromkeys(p.translated or flow for p in paths)
        for answered in delivered:
            if _has_reply(ctx, answered):
                reply_paths.extend(Walker(ctx, answered.reply(), reply=True).start())
    verdict, reason = _verdict(paths, reply_paths)
    warnings = pitfalls(ctx, flow, paths, reply_paths, verdict) if with_warnings else []
    return Trace(
        flow=flow,
        verdict=verdict,
        reason=reason,
        paths=tuple(paths),
        reply_paths=tuple(reply_paths),
        warnings=tuple(warnings),
    )


def _has_reply(ctx: TrafficContext, flow: Flow) -> bool:
    """Replies are traced from a destination bgpemu holds (not from the Internet)."""
    key = flow.destination_key
    return ctx.owner(key) is not None or ctx.host_router(key) is not None


def _verdict(paths: list[TracePath], reply_paths: list[TracePath]) -> tuple[Verdict, str]:
    if not paths:  # every branch ends a path; this guards the answer, not a known case
        return Verdict.NO_ROUTE, "no path was found"
    for path in paths:
        if path.verdict is not Verdict.REACHABLE:
            return path.verdict, path.reason
    for path in reply_paths:
        if path.verdict is not Verdict.REACHABLE:
            return path.verdict, f"reply: {path.reason}"
    if reply_paths:
        forward = {name for p in paths for name in p.stateful}
        backward = {name for p in reply_paths for name in p.stateful}
        if forward != backward:
            only_forward = ", ".join(sorted(forward - backward)) or "none"
            only_reply = ", ".join(sorted(backward - forward)) or "none"
            return (
                Verdict.ASYMMETRIC,
                f"the reply does not cross the request's stateful hops (request only: "
                f"{only_forward}; reply only: {only_reply}): replies are dropped (P1)",
            )
    return paths[0].verdict, paths[0].reason
