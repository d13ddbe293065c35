"""The one text rendering of a trace: each path hop by hop (route used, rules, issues),
the reply paths, the verdict and the warnings.

Pure, from the trace's JSON (:meth:`Trace.to_json
<bgpemu.azure.traffic.trace.Trace.to_json>`), so that a topology file's trace
(``bgpemu trace -o table``), a running lab's answer (which arrives as that JSON over
MQTT) and the testing API's assertion messages (:func:`bgpemu.testing.traffic.explain`)
print alike.  Tables are drawn by :func:`bgpemu.azure.views.render.format_table`, as the
other views' ``-o table``.
"""

from __future__ import annotations

from typing import Any

from bgpemu.azure.views.render import format_table

__all__ = ["render_trace"]

_HEADERS = ["Type", "Name", "Address", "Route", "Rules", "Issues"]


def render_trace(answer: dict[str, Any]) -> str:
    """One table per path and reply path (titled with its verdict and reason), then the
    flow with the trace's verdict and reason, then one line per warning (§6 pitfall).  A
    firewall rule that translated the destination (DNAT, §7.1) shows ``translated A ->
    B`` after its name."""
    parts: list[str] = []
    for title, paths in (("path", answer["paths"]), ("reply path", answer["replyPaths"])):
        for number, path in enumerate(paths, start=1):
            rows = [_row(hop) for hop in path["hops"]]
            parts.append(
                f"{title} {number}: {path['verdict']}: {path['reason']}\n"
                + format_table(_HEADERS, rows)
            )
    flow = answer["flow"]
    parts.append(
        f"{flow['protocol']} {flow['source']}:{flow['sourcePort']} -> "
        f"{flow['destination']}:{flow['destinationPort']}: {answer['verdict']}: "
        f"{answer['reason']}"
    )
    parts.extend(f"warning {w['id']}: {w['message']}" for w in answer["warnings"])
    return "\n\n".join(part.rstrip("\n") for part in parts)


def _row(hop: dict[str, Any]) -> list[str]:
    route = hop["route"]
    rules = "; ".join(
        f"{c['access']} {c['ruleName']} ({c['resource']})"
        + (f" translated {c['translated']}" if c.get("translated") else "")
        for c in hop["rules"]
    )
    return [
        hop["type"],
        hop["name"],
        hop["address"],
        ""
        if route is None
        else f"{route['addressPrefix']} {route['nextHopType']} ({route['source']})",
        rules,
        ", ".join(i["type"] for i in hop["issues"]),
    ]
