"""The web view's timeline, trace and injection panels in a real browser (issue 16):
Debian's chromium against a real lab and a real mosquitto (tests/web/conftest.py), driven
through the forms a user fills in (docs/web.md, "Timeline, traffic, injections")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.observe.conftest import Mosquitto
from tests.web.conftest import LAB_VPN_SITE, WebLab, poll, web_lab

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.integration

CUT = "session:HubGW|SiteB"


@pytest.fixture(scope="module")
def vpn_site(broker: Mosquitto, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebLab]:
    with web_lab(broker, LAB_VPN_SITE, tmp_path_factory.mktemp("vpn-site-actions")) as lab:
        yield lab


def _edge_state(page: Page) -> str | None:
    state: str | None = page.evaluate(
        f"() => window.bgpemu.cy.getElementById('{CUT}').data('state')"
    )
    return state


def _inject(page: Page, op: str) -> str:
    """Submit the injection form as it is filled in; the result's event once answered."""
    page.select_option("#inject-form select[name=op]", op)
    page.click("#inject-form button[type=submit]")
    page.wait_for_function(
        "() => ['converged', 'rejected'].includes("
        "document.querySelector('#inject-result').dataset.event)"
    )
    event: str = page.eval_on_selector("#inject-result", "e => e.dataset.event")
    return event


def test_a_trace_and_an_injection_from_the_forms(page: Page, vpn_site: WebLab) -> None:
    page.goto(vpn_site.url)
    page.wait_for_function("() => window.bgpemu && window.bgpemu.cy.nodes().length > 0")
    page.wait_for_selector("#timeline-entries li[data-event='lab_converged']")
    page.wait_for_function(
        f"() => window.bgpemu.cy.getElementById('{CUT}').data('state') === 'Established'"
    )

    # The topology's VNet is drawn (the server reads the topology document in a thread).
    page.wait_for_function("() => window.bgpemu.cy.getElementById('vnet:Hub').nonempty()")
    page.fill("#trace-form input[name=source]", "VM1")
    page.fill("#trace-form input[name=destination]", "10.2.0.10")
    page.click("#trace-form button[type=submit]")
    page.wait_for_selector("#trace-result[data-verdict='reachable']")
    traced = set(page.evaluate("() => window.bgpemu.cy.$('.traced').map(e => e.id())"))
    assert {"vnet:Hub", "HubGW", "SiteB", CUT} <= traced
    hops = page.eval_on_selector_all(
        "#trace-hops li[data-direction='forward'][data-node]", "lis => lis.map(l => l.dataset.node)"
    )
    assert hops == ["vnet:Hub", "HubGW", "SiteB"]
    assert "HubGW Loc-RIB" in page.inner_text("#trace-hops")

    # A click on the session edge names its two speakers in the form.
    page.evaluate(f"() => {{ window.bgpemu.cy.getElementById('{CUT}').emit('tap'); }}")
    ends = page.eval_on_selector_all(
        "#inject-form input[name=a], #inject-form input[name=b]", "es => es.map(e => e.value)"
    )
    assert sorted(ends) == ["HubGW", "SiteB"]
    try:
        assert _inject(page, "fail_link") == "converged"
        poll(lambda: _edge_state(page) not in (None, "Established") or None, 30, "the edge down")
        page.wait_for_selector("#timeline-entries li[data-event='converged'][data-op='fail_link']")
        # The trace shown follows the lab, and the flows that changed are listed.
        page.wait_for_selector("#trace-result[data-verdict='dropped_none_route']")
        page.wait_for_selector(
            "#flows-changed li[data-source='Hub/Workload'][data-destination='SiteB:10.2.0.0/16']"
        )
        pair = "[data-source='Hub/Workload'][data-destination='SiteB:10.2.0.0/16']"
        page.wait_for_selector(f"#reachability-grid td{pair}[data-verdict='dropped_none_route']")
    finally:
        restored = _inject(page, "restore_link")
    assert restored == "converged"
    poll(lambda: _edge_state(page) == "Established" or None, 30, "the edge up again")
    page.wait_for_selector("#trace-result[data-verdict='reachable']")


def test_a_refused_injection_names_the_field(page: Page, vpn_site: WebLab) -> None:
    page.goto(vpn_site.url)
    page.wait_for_function("() => window.bgpemu && window.bgpemu.cy.nodes().length > 0")
    page.fill("#inject-form input[name=a]", "HubGW")
    page.fill("#inject-form input[name=b]", "Nowhere")
    assert _inject(page, "fail_link") == "rejected"
    assert page.inner_text("#inject-result").startswith("b: no node or speaker 'Nowhere'")
    assert _edge_state(page) == "Established"
