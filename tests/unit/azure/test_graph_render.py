"""azure.graph_render: labels are escaped, ids generated, tiers ordered, groups nested."""

from __future__ import annotations

import subprocess

from bgpemu.azure.graph import EdgeKind, Graph, GraphEdge, GraphGroup, GraphNode, Tier
from bgpemu.azure.graph_render import render_dot, render_mermaid
from tests.integration._daemon_base import require_binary

HOSTILE = 'a "quoted" \\ name\n<b>&</b> | end'

GRAPH = Graph(
    name=HOSTILE,
    groups=(
        GraphGroup(id="vnet:V", label=HOSTILE, kind="vnet"),
        GraphGroup(id="node:gw", label="gw", kind="vpn_gateway", parent="vnet:V"),
    ),
    nodes=(
        GraphNode(id='x"y', label=HOSTILE, role="onprem", tier=Tier.ONPREM),
        GraphNode(id="vnet:V", label="V", role="vnet", tier=Tier.VNET, group="vnet:V"),
        GraphNode(id="gw.0", label="gw.0", role="vpn_gateway", tier=Tier.EDGE, group="node:gw"),
    ),
    edges=(
        GraphEdge(a='x"y', b="gw.0", kind=EdgeKind.SESSION, label=HOSTILE),
        GraphEdge(a="gw.0", b="vnet:V", kind=EdgeKind.CONNECTION, label="c"),
    ),
)


def test_dot_escapes_labels_and_graphviz_reads_them_back() -> None:
    text = render_dot(GRAPH)
    assert 'x"y' not in text  # ids are generated, never a topology's name
    assert r'label="a \"quoted\" \\ name\n<b>&</b> | end"' in text
    done = subprocess.run(
        [require_binary("dot"), "-Tcanon"], input=text.encode(), capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr == b""


def test_dot_nests_groups_and_orders_tiers_top_down() -> None:
    lines = render_dot(GRAPH).splitlines()
    outer = lines.index("  subgraph cluster_g0 {")
    inner = lines.index("    subgraph cluster_g1 {")
    assert outer < inner
    assert "  t0 -- t1 -- t3 [style=invis];" in lines
    assert "  { rank=same; t1 n2 }  // tier edge" in lines
    assert lines[-3].startswith("  n0 -- n2 [label=")
    assert lines[-2] == '  n2 -- n1 [label="c", style=dashed];'


def test_mermaid_escapes_labels_into_one_line_each() -> None:
    text = render_mermaid(GRAPH)
    label = '"a #quot;quoted#quot; \\ name<br/>#lt;b#gt;#amp;#lt;/b#gt; #124; end"'
    assert f"  n0[{label}]" in text
    assert f"  n0 ---|{label}| n2" in text
    assert "  subgraph g0[" in text
    assert "    subgraph g1[" in text
    assert text.count("end\n") == 2  # one per subgraph
