"""The node (:mod:`bgpemu.router.node`): the glue of sessions and router for both engines."""

from __future__ import annotations

import random
from collections.abc import Sequence

from bgpemu.router import Router, RouterConfig, RouterOutput
from bgpemu.router.node import Decided, Fault, Io, Node, Rearm
from bgpemu.session import Session, SessionConfig, SessionState
from bgpemu.session.effects import Effect, StateChanged, UpdateReceived
from bgpemu.wire.messages import Update


class _Recorder(Router):
    """A router that records how UPDATEs reach it."""

    def __init__(self) -> None:
        super().__init__(RouterConfig(asn=65001, router_id="192.0.2.1"))
        self.calls: list[tuple[str, list[Update]]] = []

    def updates_received(self, name: str, updates: Sequence[Update], now: float) -> RouterOutput:
        self.calls.append((name, list(updates)))
        return RouterOutput()


def test_consecutive_updates_reach_the_router_together_and_in_order() -> None:
    """Both engines: one router call per run of UPDATEs, in the order received
    (RFC 4271 §9); another effect between them ends the run."""
    router = _Recorder()
    node = Node(router)
    config = SessionConfig(local_as=65001, peer_as=65002, bgp_identifier="192.0.2.1")
    node.attach("n1", Session(config, random.Random(1)), "192.0.2.2")
    u1, u2, u3 = (Update(withdrawn=(f"10.0.{i}.0/24",)) for i in range(3))
    changed = StateChanged(old=SessionState.ESTABLISHED, new=SessionState.ESTABLISHED)
    effects: list[Effect] = [
        UpdateReceived(update=u1),
        UpdateReceived(update=u2),
        changed,
        UpdateReceived(update=u3),
    ]
    out = node.session_effects("n1", effects, 0.0)
    assert router.calls == [("n1", [u1, u2]), ("n1", [u3])]
    assert sum(type(e) is Decided for e in out) == 2
    assert Io("n1", changed) in out  # what the driver must log comes back, in order
    assert out.index(Io("n1", changed)) < len(out) - 2


class _Faulty(Router):
    """A router whose handling of UPDATEs fails (a bug)."""

    def __init__(self) -> None:
        super().__init__(RouterConfig(asn=65001, router_id="192.0.2.1"))

    def updates_received(self, name: str, updates: Sequence[Update], now: float) -> RouterOutput:
        raise RuntimeError("injected fault")


def test_an_error_while_serving_a_neighbour_is_reported_and_resets_it_alone() -> None:
    """Decision 12: nothing escapes the node; the neighbour's session counts the error."""
    node = Node(_Faulty())
    config = SessionConfig(local_as=65001, peer_as=65002, bgp_identifier="192.0.2.1")
    session = Session(config, random.Random(1))
    other = Session(config, random.Random(2))
    node.attach("n1", session, "192.0.2.2")
    node.attach("n2", other, "192.0.2.3")
    update = Update(withdrawn=("10.0.0.0/24",))
    out = node.session_effects("n1", [UpdateReceived(update=update)], 0.0)
    (fault,) = [e for e in out if isinstance(e, Fault)]
    assert fault.peer == "n1"
    assert isinstance(fault.error, RuntimeError)
    assert not fault.resetting
    assert out[-1] == Rearm("n1")
    assert session.counters.internal_errors == 1
    assert other.counters.internal_errors == 0
