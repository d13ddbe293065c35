"""The web view in a real browser (issue 16, "Must show"): Debian's chromium, headless,
against a real lab on a real mosquitto, each as its own process (tests/web/conftest.py).

- the page shows every node and every session of a reference topology, as the running
  lab reports them (``bgpemu inspect``), each session Established and green;
- cutting a link from the command line (``bgpemu fail link``) turns its edge to the down
  state and colour and removes the routes from the node's open table; restoring it brings
  both back;
- a trace of a flow of the reachability scenarios is drawn on the graph hop by hop;
- an injection from the page reaches the lab (``bgpemu sessions`` sees it) and the
  timeline, the trace shown, the flows changed and the reachability grid follow it; a
  refused one names the field (docs/web.md, "Timeline, traffic, injections").

The page is read through what it exposes for this (docs/web.md): ``window.bgpemu.cy`` (the
cytoscape graph: ``data.state`` of each session edge) and the DOM hooks ``#graph``,
``#table``, ``#table-filter``, ``#trace-form``, ``#trace-hops``, ``#inject-form``,
``#inject-result``, ``#timeline-entries``, ``#flows-changed``, ``#reachability-grid``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from tests.observe.conftest import Mosquitto
from tests.web.conftest import (
    ER_VPN_FAILOVER,
    LAB_VPN_SITE,
    PAGE_TIMEOUT_MS,
    WebLab,
    artifacts_dir,
    poll,
    web_lab,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.integration

GREEN = "rgb(46,125,50)"
"""#2e7d32: an Established session (docs/web.md)."""
RED = "rgb(198,40,40)"
"""#c62828: a session in any other state."""
ROLES = {"onprem", "vpn_gateway", "gateway_instance", "er_gateway", "circuit", "msee", "hub"}
"""The speakers' roles among those of docs/web.md (a VNet is no speaker)."""
CUT = "session:HubGW|SiteB"
"""The session edge of lab-vpn-site's one session (id: sorted speaker names)."""


@pytest.fixture(scope="module")
def vpn_site(broker: Mosquitto, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebLab]:
    with web_lab(broker, LAB_VPN_SITE, tmp_path_factory.mktemp("vpn-site")) as lab:
        yield lab


@pytest.fixture(scope="module")
def failover(broker: Mosquitto, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebLab]:
    with web_lab(broker, ER_VPN_FAILOVER, tmp_path_factory.mktemp("failover")) as lab:
        yield lab


def session_id(a: str, b: str) -> str:
    """A session edge's element id (docs/web.md)."""
    return "session:" + "|".join(sorted((a, b)))


def open_view(page: Page, lab: WebLab) -> None:
    """Open the lab's page and wait until its graph holds elements."""
    page.goto(lab.url)
    page.wait_for_function(
        "() => window.bgpemu && window.bgpemu.cy && window.bgpemu.cy.nodes().length > 0"
    )


def elements(page: Page) -> list[dict[str, Any]]:
    """The ``data`` of every graph element, as the page holds it."""
    found: list[dict[str, Any]] = page.evaluate(
        "() => window.bgpemu.cy.elements().map(e => e.data())"
    )
    return found


def wait_edges(page: Page, ids: list[str], state: str, colour: str | None) -> None:
    """Wait until each edge of ``ids`` exists in ``state`` (``!Established``: any other
    state), drawn in ``colour`` when given."""
    page.wait_for_function(
        """([ids, state, colour]) => ids.every(id => {
            const e = window.bgpemu.cy.getElementById(id);
            if (e.empty()) return false;
            const s = e.data('state');
            const ok = state === '!Established' ? s !== 'Established' : s === state;
            const drawn = e.style('line-color').replace(/ /g, '');
            return ok && (colour === null || drawn === colour);
        })""",
        arg=[ids, state, colour],
    )


def click_node(page: Page, node: str) -> None:
    """A real mouse click on ``node`` where cytoscape drew it."""
    x, y = page.evaluate(
        """(id) => {
            const n = window.bgpemu.cy.getElementById(id);
            const p = n.renderedPosition();
            const r = window.bgpemu.cy.container().getBoundingClientRect();
            return [r.left + p.x, r.top + p.y];
        }""",
        node,
    )
    page.mouse.click(x, y)


def shot(page: Page, name: str) -> None:
    """Save the page as ``<name>.png`` among the test artefacts."""
    page.screenshot(path=str(artifacts_dir() / f"{name}.png"))


def table_text(page: Page) -> str:
    return page.inner_text("#table")


def test_the_page_shows_every_node_and_session(page: Page, failover: WebLab) -> None:
    inspect = failover.cli_json("inspect")
    speakers = {s["speaker"]: s for s in inspect}
    sessions = sorted({session_id(s["speaker"], p["peer"]) for s in inspect for p in s["sessions"]})
    assert len(speakers) == 7
    assert len(sessions) == 9
    page.set_viewport_size({"width": 1440, "height": 960})  # room for the picture
    open_view(page, failover)
    wait_edges(page, sessions, "Established", GREEN)

    data = elements(page)
    nodes = {d["id"]: d for d in data if "source" not in d}
    edges = {d["id"]: d for d in data if "source" in d}
    for name in speakers:
        assert name in nodes, f"speaker {name} not drawn: {sorted(nodes)}"
        assert nodes[name]["speaker"] == name
        assert nodes[name]["role"] in ROLES, nodes[name]
    for edge in sessions:
        assert edges[edge]["kind"] == "session"
        assert {edges[edge]["source"], edges[edge]["target"]} == set(
            edge.removeprefix("session:").split("|")
        )
    assert {e for e, d in edges.items() if d["kind"] == "session"} == set(sessions)
    # ... and shown: each node inside the graph's box, its centre on the graph's canvas in
    # the window (not scrolled away, not under another panel)
    page.wait_for_function(
        """() => {
            const cy = window.bgpemu.cy;
            const graph = cy.container();
            const box = graph.getBoundingClientRect();
            return cy.nodes().every(n => {
                const b = n.renderedBoundingBox({includeLabels: false});
                const inside = b.x1 >= 0 && b.y1 >= 0 && b.x2 <= box.width && b.y2 <= box.height;
                const p = n.renderedPosition();
                const top = document.elementFromPoint(box.left + p.x, box.top + p.y);
                return inside && top !== null && graph.contains(top);
            });
        }"""
    )
    # every node of the file is drawn: its speakers, or a node of its own (a VNet,
    # labelled with its name)
    topology = yaml.safe_load(Path(failover.topology).read_text())
    named = {d["label"].split("\n")[0] for d in nodes.values() if d["role"] == "vnet"}
    drawn = named | {s["node"] for s in inspect}
    assert set(topology["nodes"]) == drawn, sorted(set(topology["nodes"]) ^ drawn)
    peerings = {
        frozenset((d["source"], d["target"])) for d in edges.values() if d["kind"] == "peering"
    }
    assert len(peerings) == 1, edges  # Hub <-> Spoke
    # the VNet's group holds what Azure puts in a VNet: the hub's gateways, the instances
    # of the active-active one in a group of their own
    for gateway in ("ErGW", "VpnGW.0", "VpnGW.1"):
        groups = page.evaluate(
            "(id) => window.bgpemu.cy.getElementById(id).ancestors().map(a => a.data('label'))",
            gateway,
        )
        assert "VNet Hub" in groups, f"{gateway} is not drawn in VNet Hub: {groups}"

    # The picture of the README (docs/web.png): a table open and a trace drawn.  App-vm
    # reaches on-prem over ExpressRoute, both MSEEs (ECMP), not over the VPN backup: ER is
    # preferred for an identical prefix (azure-routing.md §9 scenario 5).
    click_node(page, "ErGW")
    page.wait_for_function("() => document.querySelector('#table').innerText.includes('/')")
    traced = trace(page, "App-vm", "10.1.11.10", 443)
    assert page.get_attribute("#trace-result", "data-verdict") == "reachable"
    assert {"ErGW", "Circuit.primary", "Circuit.secondary", "CE"} <= traced, traced
    assert not {"VpnGW.0", "VpnGW.1", "Firewall"} & traced, traced
    shot(page, "er-vpn-failover")


def test_a_cut_link_turns_red_and_its_routes_leave_the_open_table(
    page: Page, vpn_site: WebLab
) -> None:
    open_view(page, vpn_site)
    wait_edges(page, [CUT], "Established", GREEN)
    click_node(page, "HubGW")
    page.wait_for_function(
        "() => document.querySelector('#table')?.innerText.includes('10.2.0.0/16')",
        timeout=PAGE_TIMEOUT_MS,
    )
    page.fill("#table-filter", "10.2.")
    page.wait_for_function(
        "() => !document.querySelector('#table').innerText.includes('10.0.0.0/16')"
    )
    assert "10.2.0.0/16" in table_text(page)

    vpn_site.cli("fail", "link", "HubGW", "SiteB")
    try:
        wait_edges(page, [CUT], "!Established", RED)
        page.wait_for_function(
            "() => !document.querySelector('#table').innerText.includes('10.2.0.0/16')"
        )
        shot(page, "lab-vpn-site-cut")
    finally:
        vpn_site.cli("restore", "link", "HubGW", "SiteB")
    wait_edges(page, [CUT], "Established", GREEN)
    page.wait_for_function(
        "() => document.querySelector('#table').innerText.includes('10.2.0.0/16')"
    )


def trace(page: Page, source: str, destination: str, port: int) -> set[str]:
    """Trace a TCP flow from #trace-form; the ids of the graph elements it drew (class
    ``traced``) once the page shows a verdict."""
    form = page.locator("#trace-form")
    form.locator("input[name=source]").fill(source)
    form.locator("input[name=destination]").fill(destination)
    form.locator("select[name=protocol]").select_option("tcp")
    form.locator("input[name=port]").fill(str(port))
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#trace-result[data-verdict]:not([data-verdict=''])")
    return set(page.evaluate("() => window.bgpemu.cy.elements('.traced').map(e => e.id())"))


def edge_state(page: Page, edge: str) -> str | None:
    """The ``data.state`` the page holds for the session edge ``edge`` (None: none)."""
    state: str | None = page.evaluate(
        "(id) => window.bgpemu.cy.getElementById(id).data('state')", edge
    )
    return state


def test_a_trace_is_drawn_hop_by_hop(page: Page, vpn_site: WebLab) -> None:
    """VM1 -> 10.2.0.10 TCP 443, a flow of the reachability scenario of lab-vpn-site.yaml:
    reachable from the VNet through HubGW to SiteB, asked in #trace-form, drawn on the
    graph and listed hop by hop with each hop's table and route."""
    open_view(page, vpn_site)
    wait_edges(page, [CUT], "Established", GREEN)
    # The topology's VNet is drawn (the server reads the topology document in a thread).
    page.wait_for_function("() => window.bgpemu.cy.getElementById('vnet:Hub').nonempty()")
    traced = trace(page, "VM1", "10.2.0.10", 443)
    assert page.get_attribute("#trace-result", "data-verdict") == "reachable"
    assert {"vnet:Hub", "HubGW", "SiteB", CUT} <= traced, traced

    listed: list[list[str]] = page.eval_on_selector_all(
        "#trace-hops li[data-node]",
        "items => items.map(i => [i.dataset.direction || '', i.dataset.node])",
    )
    forward = [node for direction, node in listed if direction == "forward"]
    assert forward == ["vnet:Hub", "HubGW", "SiteB"], listed
    hops = [node for _, node in listed if node]
    assert hops.index("HubGW") < hops.index("SiteB"), hops
    listing = page.inner_text("#trace-hops")
    assert "HubGW Loc-RIB" in listing, listing  # each hop's table ...
    assert "10.2.0.0/16" in listing, listing  # ... and route
    shot(page, "lab-vpn-site-trace")


@dataclass(frozen=True, slots=True)
class InjectAnswer:
    """What #inject-result shows once the lab answered: ``data-event`` and the text."""

    event: str
    text: str


def inject(page: Page, op: str, **fields: str) -> InjectAnswer:
    """Send ``op`` from #inject-form with ``fields`` filled in (any other field as the form
    holds it); the page's answer once it has one (not ``pending``)."""
    form = page.locator("#inject-form")
    form.locator("select[name=op]").select_option(op)
    for name, value in fields.items():
        form.locator(f"input[name={name}]").fill(value)
    form.locator("button[type=submit]").click()
    page.wait_for_selector('#inject-result[data-event]:not([data-event="pending"])')
    event = page.get_attribute("#inject-result", "data-event")
    return InjectAnswer(event or "", page.inner_text("#inject-result"))


def test_an_injection_from_the_page_reaches_the_lab(page: Page, vpn_site: WebLab) -> None:
    """A refused injection names the field and changes nothing; a tap on the session edge
    fills in #inject-form, whose fail_link reaches the lab (``bgpemu sessions``), turns the
    edge red, enters the timeline, has the trace shown traced again and lists the flows and
    grid cells that changed; restore_link brings it all back."""
    open_view(page, vpn_site)
    wait_edges(page, [CUT], "Established", GREEN)
    page.wait_for_selector("#timeline-entries li[data-event='lab_converged']")
    pair = frozenset(("HubGW", "SiteB"))
    assert vpn_site.session_states()[pair] == {"Established"}

    refused = inject(page, "fail_link", a="HubGW", b="NoSuchNode")
    assert refused.event == "rejected", refused
    assert refused.text.startswith("b: no node or speaker 'NoSuchNode'"), refused
    assert edge_state(page, CUT) == "Established"

    trace(page, "VM1", "10.2.0.10", 443)  # the trace shown, to follow the lab
    assert page.get_attribute("#trace-result", "data-verdict") == "reachable"
    # A tap on the session edge names its two speakers in the form (over the refused b).
    page.evaluate("(id) => { window.bgpemu.cy.getElementById(id).emit('tap'); }", CUT)
    ends = page.eval_on_selector_all(
        "#inject-form input[name=a], #inject-form input[name=b]", "es => es.map(e => e.value)"
    )
    assert sorted(ends) == ["HubGW", "SiteB"]
    try:
        failed = inject(page, "fail_link")  # a and b as the tap filled them in
        assert failed.event == "converged", failed
        poll(
            lambda: True if "Established" not in vpn_site.session_states()[pair] else None,
            30,
            "the lab's session HubGW-SiteB leaving Established after the page's fail_link",
        )
        wait_edges(page, [CUT], "!Established", RED)
        assert edge_state(page, CUT) is not None
        page.wait_for_selector("#timeline-entries li[data-event='converged'][data-op='fail_link']")
        # The trace shown follows the lab, and the flows that changed are listed.
        page.wait_for_selector("#trace-result[data-verdict='dropped_none_route']")
        flow = "[data-source='Hub/Workload'][data-destination='SiteB:10.2.0.0/16']"
        page.wait_for_selector(f"#flows-changed li{flow}")
        page.wait_for_selector(f"#reachability-grid td{flow}[data-verdict='dropped_none_route']")
    finally:
        restored = inject(page, "restore_link", a="HubGW", b="SiteB")
    assert restored.event == "converged", restored
    poll(
        lambda: True if vpn_site.session_states()[pair] == {"Established"} else None,
        30,
        "HubGW-SiteB Established again after the page's restore_link",
    )
    wait_edges(page, [CUT], "Established", GREEN)
    page.wait_for_selector("#trace-result[data-verdict='reachable']")
