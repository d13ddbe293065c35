"""Text renderings of a :class:`~bgpemu.azure.graph.Graph`: Graphviz dot and Mermaid.

Pure functions of the graph; ``bgpemu graph`` prints them (and pipes dot through
Graphviz for SVG/PNG).  Node and group identifiers are generated (``n0``, ``g0``...) so a
topology's names never need escaping as identifiers; labels are escaped for each
language.  Dot: a cluster per group, ``rank=same`` per tier with ``newrank`` so tiers
hold across clusters, and an invisible chain of one anchor per tier that orders them.
Mermaid: ``flowchart TB`` with a subgraph per group.
"""

from __future__ import annotations

from collections.abc import Iterator

from bgpemu.azure.graph import EdgeKind, Graph, GraphGroup

__all__ = ["render_dot", "render_mermaid"]

_DOT_EDGE_STYLE = {
    EdgeKind.SESSION: "",
    EdgeKind.CONNECTION: ", style=dashed",
    EdgeKind.PEERING: ", style=dotted, dir=both",
}
_MERMAID_EDGE = {EdgeKind.SESSION: "---", EdgeKind.CONNECTION: "-.-", EdgeKind.PEERING: "==="}
_DOT_SHAPES = {"vnet": "box", "azure_firewall": "hexagon", "onprem": "house"}


def _ids(graph: Graph) -> tuple[dict[str, str], dict[str, str]]:
    nodes = {node.id: f"n{index}" for index, node in enumerate(graph.nodes)}
    groups = {group.id: f"g{index}" for index, group in enumerate(graph.groups)}
    return nodes, groups


def _dot_text(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _children(graph: Graph, parent: str | None) -> list[GraphGroup]:
    return [group for group in graph.groups if group.parent == parent]


def render_dot(graph: Graph) -> str:
    """The graph in Graphviz's dot language, top to bottom by tier."""
    node_ids, group_ids = _ids(graph)
    lines = [
        f"graph {_dot_text(graph.name)} {{",
        "  rankdir=TB; newrank=true; compound=true;",
        f"  label={_dot_text(graph.name)}; labelloc=t; fontname=Helvetica;",
        "  node [fontname=Helvetica, fontsize=10, shape=ellipse];",
        "  edge [fontname=Helvetica, fontsize=8];",
    ]

    def nodes_of(group: str | None, indent: str) -> Iterator[str]:
        for node in graph.nodes:
            if node.group == group:
                shape = _DOT_SHAPES.get(node.role, "ellipse")
                yield (
                    f"{indent}{node_ids[node.id]} [label={_dot_text(node.label)}, "
                    f"shape={shape}, class={_dot_text(node.role)}];"
                )

    def cluster(group: GraphGroup, indent: str) -> Iterator[str]:
        yield f"{indent}subgraph cluster_{group_ids[group.id]} {{"
        yield f"{indent}  label={_dot_text(group.label)}; style=rounded;"
        yield from nodes_of(group.id, indent + "  ")
        for child in _children(graph, group.id):
            yield from cluster(child, indent + "  ")
        yield f"{indent}}}"

    lines.extend(nodes_of(None, "  "))
    for group in _children(graph, None):
        lines.extend(cluster(group, "  "))
    tiers = sorted({node.tier for node in graph.nodes})
    # An invisible chain of one anchor per tier keeps the tiers in order, top down.
    anchors = " ".join(f"t{tier.value}" for tier in tiers)
    lines.append(f'  {{ node [style=invis, shape=point, label=""]; {anchors} }}')
    if len(tiers) > 1:
        lines.append(f"  {' -- '.join(f't{tier.value}' for tier in tiers)} [style=invis];")
    for tier in tiers:
        members = " ".join(node_ids[n.id] for n in graph.nodes if n.tier == tier)
        lines.append(f"  {{ rank=same; t{tier.value} {members} }}  // tier {tier.name.lower()}")
    for edge in graph.edges:
        lines.append(
            f"  {node_ids[edge.a]} -- {node_ids[edge.b]} "
            f"[label={_dot_text(edge.label)}{_DOT_EDGE_STYLE[edge.kind]}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    """A quoted Mermaid label: line breaks as ``<br/>``; quotes, markup and ``|`` (which
    ends an edge label) as entities."""
    escaped = (
        text.replace("&", "#amp;")
        .replace('"', "#quot;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
        .replace("|", "#124;")
        .replace("\n", "<br/>")
    )
    return f'"{escaped}"'


def render_mermaid(graph: Graph) -> str:
    """The graph as a Mermaid ``flowchart TB`` (GitHub renders it in Markdown)."""
    node_ids, group_ids = _ids(graph)
    lines = ["flowchart TB"]

    def nodes_of(group: str | None, indent: str) -> Iterator[str]:
        for node in graph.nodes:
            if node.group == group:
                yield f"{indent}{node_ids[node.id]}[{_mermaid_text(node.label)}]"

    def subgraph(group: GraphGroup, indent: str) -> Iterator[str]:
        yield f"{indent}subgraph {group_ids[group.id]}[{_mermaid_text(group.label)}]"
        yield from nodes_of(group.id, indent + "  ")
        for child in _children(graph, group.id):
            yield from subgraph(child, indent + "  ")
        yield f"{indent}end"

    lines.extend(nodes_of(None, "  "))
    for group in _children(graph, None):
        lines.extend(subgraph(group, "  "))
    for edge in graph.edges:
        arrow = _MERMAID_EDGE[edge.kind]
        lines.append(
            f"  {node_ids[edge.a]} {arrow}|{_mermaid_text(edge.label)}| {node_ids[edge.b]}"
        )
    return "\n".join(lines) + "\n"
