"""The in-memory fabric contains a session's faults too (issue 12 item 1, decision 12).

Same outcomes as ``tests/runtime/test_fault_domain.py`` over TCP: an UPDATE too long
for a peer without Extended Message is withdrawn there (RFC 8654 §4), and an internal
error resets only its session with Cease / Out of Resources (RFC 4486 §4).
"""

from __future__ import annotations

from dataclasses import replace

from bgpemu.azure.snapshot import peer_status
from bgpemu.fabric import Fabric
from bgpemu.observe.payloads import session_doc
from bgpemu.policy import AddCommunities, RoutePolicy, Statement
from bgpemu.policy.base import PolicyContext
from bgpemu.policy.route_policy import Result
from bgpemu.rib.path import Path
from bgpemu.router.neighbor import NeighborPolicy
from bgpemu.router.spec import SpeakerSpec
from bgpemu.session import SessionState
from bgpemu.types import IPV4_UNICAST
from bgpemu.wire.constants import CeaseSubcode, ErrorCode
from bgpemu.wire.messages import Notification

from .helpers import Node, best, build, v4

MANY_COMMUNITIES = tuple(range(1, 1200))
"""About 4,800 octets of COMMUNITIES: only an Extended Message session carries them."""


def _extended(specs: list[SpeakerSpec], a: str, b: str) -> list[SpeakerSpec]:
    """``specs`` with the Extended Message capability (RFC 8654) on the a-b link."""
    out = []
    for spec in specs:
        other = {a: b, b: a}.get(spec.name)
        neighbors = tuple(
            replace(n, session=replace(n.session, extended_message=True)) if n.name == other else n
            for n in spec.neighbors
        )
        out.append(replace(spec, neighbors=neighbors))
    return out


def _fabric() -> Fabric:
    nodes = [
        Node("a", 1, 65001, routes=(v4("10.1.0.0/24"),)),
        Node("b", 2, 65002),
        Node("c", 3, 65003),
    ]
    return Fabric(_extended(build(nodes, [("a", "b"), ("b", "c")]), "a", "b"))


def test_update_too_long_for_a_peer_without_extended_messages_is_withdrawn_there() -> None:
    fabric = _fabric()
    fabric.run_until_idle()
    assert best(fabric.router("c").table(), "10.1.0.0/24") is not None
    long_communities = RoutePolicy(
        statements=(Statement(actions=(AddCommunities(MANY_COMMUNITIES),)),),
        default=Result.ACCEPT,
    )
    fabric.set_neighbor_policy("a", NeighborPolicy(name="b", export_policy=long_communities))
    fabric.announce("a", v4("10.9.0.0/24"))
    fabric.run_until_idle()
    # b holds the long path (it came over an Extended Message session) ...
    entry = best(fabric.router("b").table(), "10.1.0.0/24")
    assert entry is not None
    # ... and c, whose session with b is a plain one, had it withdrawn (RFC 8654 §4),
    # never got the new prefix, and its session never dropped.
    assert best(fabric.router("c").table(), "10.1.0.0/24") is None
    assert best(fabric.router("c").table(), "10.9.0.0/24") is None
    assert best(fabric.router("b").table(), "10.9.0.0/24") is not None
    rib_out = fabric.router("b").adj_rib_out("c")  # what b says it sent c (MQTT rib/out/c)
    assert rib_out is not None
    assert rib_out.sent(IPV4_UNICAST, "10.1.0.0/24") is None
    assert rib_out.sent(IPV4_UNICAST, "10.9.0.0/24") is None
    session = fabric.sessions("c")["b"]
    assert session.state is SessionState.ESTABLISHED
    assert session.counters.established_transitions == 1
    logged = [text for _, node, text in fabric.events if "RFC 8654" in text]
    assert len(logged) == 1, logged
    assert logged[0].startswith("c: ")
    assert [node for _, node, text in fabric.events if "RFC 8654" in text] == ["b"]


class _FailsOnce:
    """An export policy with a bug: its first call raises."""

    sensitive_prefixes = None

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, path: Path, context: PolicyContext, /) -> Path | None:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("injected fault")
        return path


def test_internal_error_resets_only_that_session() -> None:
    nodes = [
        Node("a", 1, 65001, routes=(v4("10.1.0.0/24"),), policies={"b": NeighborPolicy(name="b")}),
        Node("b", 2, 65002),
        Node("c", 3, 65003, routes=(v4("10.3.0.0/24"),)),
    ]
    specs = build(nodes, [("a", "b"), ("a", "c")])
    fabric = Fabric(specs)
    flaky = _FailsOnce()
    fabric.set_neighbor_policy("a", NeighborPolicy(name="b", export_policy=flaky))
    fabric.run_until_idle()
    assert flaky.calls > 1
    a_to_b = fabric.sessions("a")["b"]
    assert a_to_b.counters.internal_errors == 1
    assert fabric.sessions("b")["a"].counters.last_notification_received == Notification(
        code=ErrorCode.CEASE, subcode=CeaseSubcode.OUT_OF_RESOURCES
    )
    # The session came back by itself (IdleHoldTimer) and the routes went through.
    assert a_to_b.state is SessionState.ESTABLISHED
    assert best(fabric.router("b").table(), "10.3.0.0/24") is not None
    # The bystander never dropped.
    assert fabric.sessions("a")["c"].counters.established_transitions == 1
    assert fabric.sessions("a")["c"].counters.internal_errors == 0
    errors = [text for _, _, text in fabric.events if "internal error, resetting" in text]
    assert len(errors) == 1
    assert "Traceback" in errors[0]
    assert "injected fault" in errors[0]
    # The count reaches the MQTT sessions document (schema urn:bgpemu:mqtt:v1:session).
    document = session_doc(peer_status("b", a_to_b, fabric.router("a")))
    assert document["internal_errors"] == 1
    assert (
        session_doc(peer_status("c", fabric.sessions("a")["c"], fabric.router("a")))[
            "internal_errors"
        ]
        == 0
    )


def test_policy_change_that_raises_resets_that_session_only() -> None:
    nodes = [
        Node("a", 1, 65001, routes=(v4("10.1.0.0/24"),)),
        Node("b", 2, 65002),
        Node("c", 3, 65003, routes=(v4("10.3.0.0/24"),)),
    ]
    fabric = Fabric(build(nodes, [("a", "b"), ("a", "c")]))
    fabric.run_until_idle()
    flaky = _FailsOnce()
    fabric.set_neighbor_policy("a", NeighborPolicy(name="b", export_policy=flaky))  # no raise
    fabric.run_until_idle()
    a_to_b = fabric.sessions("a")["b"]
    assert a_to_b.counters.internal_errors == 1
    assert a_to_b.state is SessionState.ESTABLISHED
    assert best(fabric.router("b").table(), "10.3.0.0/24") is not None
    assert fabric.sessions("a")["c"].counters.established_transitions == 1
