"""``-o table`` of the traffic commands (:mod:`.traffic`): readable rules, routes and
verdicts, in the columns :func:`bgpemu.azure.views.render.format_table` draws.  A trace's
text is :func:`bgpemu.azure.traffic.trace_text.render_trace`, shared with the testing
API's assertion messages."""

from __future__ import annotations

from typing import Any

from bgpemu.azure.learn import see
from bgpemu.azure.views.render import format_table

__all__ = [
    "render_effective_nsg",
    "render_ip_flow",
    "render_matrix",
    "render_next_hop",
    "render_verify",
]


def render_next_hop(answer: dict[str, Any]) -> str:
    """One row: type, IP address(es), route table."""
    hops = answer.get("nextHopIpAddresses") or answer.get("nextHopIpAddress")
    return format_table(
        ["NextHopType", "NextHopIpAddress", "RouteTableId"],
        [[answer["nextHopType"], hops, answer["routeTableId"]]],
    )


def render_ip_flow(answer: dict[str, Any]) -> str:
    """One row: access and the deciding rule."""
    return format_table(["Access", "RuleName"], [[answer["access"], answer["ruleName"]]])


def render_effective_nsg(answer: dict[str, Any]) -> str:
    """One row per rule of every associated NSG, in evaluation order; a sentence when no
    NSG is associated (Azure's answer is then an empty list)."""
    if not answer["value"]:
        return f"no NSG on the interface or its subnet: every flow is allowed ({see('NSG-HOW')})"
    rows = []
    for entry in answer["value"]:
        nsg = entry["networkSecurityGroup"]["id"].rpartition("/")[2]
        association = next(iter(entry["association"]))
        for rule in entry["effectiveSecurityRules"]:
            rows.append(
                [
                    nsg,
                    association,
                    rule["name"],
                    rule["priority"],
                    rule["direction"],
                    rule["access"],
                    rule["protocol"],
                    rule["sourceAddressPrefixes"],
                    rule["sourcePortRanges"],
                    rule["destinationAddressPrefixes"],
                    rule["destinationPortRanges"],
                ]
            )
    headers = ["Nsg", "Association", "Name", "Priority", "Direction", "Access", "Protocol"]
    headers += ["Source", "SourcePorts", "Destination", "DestinationPorts"]
    return format_table(headers, rows)


def render_matrix(matrix: dict[str, Any]) -> str:
    """The counts per verdict, then every non-reachable pair with its reason, then the
    subnets skipped."""
    head = (
        f"{matrix['protocol']} port {matrix['port']}: {len(matrix['endpoints'])} endpoints, "
        f"{matrix['pairs']} pairs"
    )
    parts = [head, format_table(["Verdict", "Pairs"], list(matrix["summary"].items()))]
    if matrix["unreachable"]:
        parts.append(
            format_table(
                ["Source", "Destination", "Verdict", "Weight", "Reason"],
                [
                    [p["source"], p["destination"], p["verdict"], p["weight"], p["reason"]]
                    for p in matrix["unreachable"]
                ],
            )
        )
    if matrix["skipped"]:
        parts.append(
            format_table(
                ["Skipped", "Reason"], [[s["name"], s["reason"]] for s in matrix["skipped"]]
            )
        )
    return "\n\n".join(part.rstrip("\n") for part in parts)


def render_verify(results: list[dict[str, Any]]) -> str:
    """One row per intent: expected, actual, ok, and the path."""
    return format_table(
        ["Name", "Source", "Destination", "Protocol", "Port", "Expect", "Actual", "Ok", "Path"],
        [
            [
                r["name"],
                r["source"],
                r["destination"],
                r["protocol"],
                r["port"],
                r["expect"],
                r["actual"],
                "yes" if r["ok"] else "NO",
                r["path"],
            ]
            for r in results
        ],
    )
