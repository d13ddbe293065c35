"""One text rendering of a trace (bgpemu.azure.traffic.trace_text): the CLI's `-o table`,
the running lab's answer and the testing API's assertion messages print alike."""

from __future__ import annotations

from bgpemu.azure.traffic.flow import Flow
from bgpemu.azure.traffic.trace import trace
from bgpemu.azure.traffic.trace_text import render_trace
from bgpemu.cli import _traffic_render
from bgpemu.testing.traffic import explain
from tests.unit.azure.traffic.networks import context, s5
from tests.unit.azure.traffic.test_trace import firewalled, with_dnat


def test_the_cli_and_the_testing_api_share_one_renderer() -> None:
    answer = trace(context(s5()), Flow.parse("tcp", "10.1.0.4", 50000, "10.2.0.4", 443))
    text = render_trace(answer.to_json())
    assert "path 1: reachable" in text
    assert "reply path 1: reachable" in text
    assert (
        text.splitlines()[-1] == "Tcp 10.1.0.4:50000 -> 10.2.0.4:443: reachable: delivered to vm2"
    )
    assert explain(answer) == text
    assert not hasattr(_traffic_render, "render_trace")


def test_a_dnat_translation_is_printed_on_its_hop() -> None:
    answer = trace(
        context(with_dnat(firewalled())), Flow.parse("tcp", "10.1.0.4", 50000, "10.0.3.4", 8443)
    )
    (fw,) = [line for line in render_trace(answer.to_json()).splitlines() if " fw " in line][:1]
    assert "dnat-group/publish/vm2-https (fw) translated 10.0.3.4:8443 -> 10.2.0.4:443" in fw
