"""The node (:mod:`bgpemu.router.node`): the glue of sessions and router for both engines."""

from __future__ import annotations

import random
from collections.abc import Sequence

from bgpemu.router import Router, RouterConfig, RouterOutput
from bgpemu.router.node import (
    Accepted,
    Collision,
    Decided,
    Drop,
    Fault,
    Io,
    Node,
    NodeEffect,
    Promote,
    Rearm,
)
from bgpemu.session import ManualStart, Send, Session, SessionConfig, SessionState, TcpCrAcked
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


def test_an_error_while_serving_a_neighbor_is_reported_and_resets_it_alone() -> None:
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


def _sent(effects: Sequence[object]) -> bytes:
    return b"".join(e.data for e in effects if isinstance(e, Send))


def _collision(local_id: str, remote_id: str) -> tuple[Node, list[NodeEffect]]:
    """We connect to the peer (connection 1) and, while our OPEN is out, the peer
    connects to us (connection 2) and sends its OPEN there."""
    local = SessionConfig(local_as=65001, peer_as=65002, bgp_identifier=local_id)
    remote = SessionConfig(local_as=65002, peer_as=65001, bgp_identifier=remote_id)
    node = Node(Router(RouterConfig(asn=65001, router_id=local_id)))
    node.attach("p", Session(local, random.Random(1)), "192.0.2.2", random.Random(2))
    node.handle("p", ManualStart(), 0.0)
    first = node.connected("p", 1, inbound=False, now=0.0)
    assert first[0] == Accepted("p", 1, primary=True)
    assert node.sessions["p"].state is SessionState.OPEN_SENT
    second = node.connected("p", 2, inbound=True, now=0.0)
    assert second[0] == Accepted("p", 2, primary=False)  # a candidate (RFC 4271 §6.8)
    peer = Session(remote, random.Random(3))
    peer.handle(ManualStart(), 0.0)
    peer_open = _sent(peer.handle(TcpCrAcked(), 0.0))
    return node, node.received("p", 2, peer_open, 0.0)


def test_a_collision_keeps_the_connection_of_the_higher_bgp_identifier() -> None:
    """RFC 4271 §6.8: the peer's identifier is higher, so the connection it opened (the
    candidate, inbound for us) survives; ours is closed and the candidate promoted."""
    node, out = _collision("192.0.2.1", "192.0.2.2")
    assert Collision("p", inbound=False) in out
    assert Drop("p", 1) in out
    assert Promote("p", 2) in out
    assert out.index(Drop("p", 1)) < out.index(Promote("p", 2))
    assert node.sessions["p"].state is SessionState.OPEN_CONFIRM  # the candidate's


def test_a_collision_closes_the_candidate_when_our_bgp_identifier_is_higher() -> None:
    """RFC 4271 §6.8: our identifier is higher, so our connection survives and the
    peer's (the candidate) is closed with Cease / Connection Collision Resolution."""
    node, out = _collision("192.0.2.9", "192.0.2.2")
    assert Collision("p", inbound=True) in out
    assert Drop("p", 2) in out
    assert not any(isinstance(e, Promote) for e in out)
    cease = _sent([e.effect for e in out if isinstance(e, Io) and e.conn == 2])
    # Its last message: a NOTIFICATION (type 3) Cease (6) / Connection Collision
    # Resolution (7), RFC 4486 §4, with no data (21 octets).
    assert cease[-21:-19] == b"\xff\xff"
    assert cease[-3:] == bytes([3, 6, 7])
    assert node.sessions["p"].state is SessionState.OPEN_SENT  # ours, untouched
