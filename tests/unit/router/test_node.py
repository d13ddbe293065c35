"""The node (:mod:`bgpemu.router.node`): the glue of sessions and router for both engines."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from bgpemu.router import Router, RouterConfig, RouterOutput
from bgpemu.router.config import OriginatedRoute
from bgpemu.router.neighbor import NeighborPolicy
from bgpemu.router.node import Node
from bgpemu.router.node_effects import (
    Accepted,
    Collision,
    Decided,
    Drop,
    Fault,
    Io,
    NodeEffect,
    Promote,
    Rearm,
)
from bgpemu.session import (
    CloseTcp,
    ConnectTcp,
    ManualStart,
    Send,
    Session,
    SessionConfig,
    SessionDown,
    SessionState,
    TcpCrAcked,
)
from bgpemu.session.effects import Effect, StateChanged, UpdateReceived
from bgpemu.types import IPV4_UNICAST
from bgpemu.wire.constants import CeaseSubcode, ErrorCode
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


def _collision(
    local_id: str, remote_id: str, *, passive: bool = False
) -> tuple[Node, list[NodeEffect]]:
    """We connect to the peer (connection 1) and, while our OPEN is out, the peer
    connects to us (connection 2) and sends its OPEN there."""
    local = SessionConfig(local_as=65001, peer_as=65002, bgp_identifier=local_id, passive=passive)
    remote = SessionConfig(local_as=65002, peer_as=65001, bgp_identifier=remote_id)
    node = Node(Router(RouterConfig(asn=65001, router_id=local_id)))
    node.attach("p", Session(local, random.Random(1)), "192.0.2.2", random.Random(2))
    node.start_peer("p", 0.0)
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


def _ios(out: Sequence[NodeEffect]) -> list[Effect]:
    return [e.effect for e in out if isinstance(e, Io)]


def _state(node: Node, peer: str) -> SessionState:
    """``peer``'s session state, unnarrowed (mypy narrows a property across calls)."""
    return node.sessions[peer].state


def _run_timers(node: Node, peer: str, start: float, end: float) -> list[Effect]:
    """Fire ``peer``'s timers at every deadline from ``start`` to ``end``; the effects."""
    effects: list[Effect] = []
    now = start
    while (deadline := node.next_deadline(peer)) is not None and deadline <= end:
        now = max(now, deadline)
        effects += _ios(node.on_timers(peer, now))
    return effects


@pytest.mark.parametrize("passive", [False, True])
def test_a_promoted_candidate_restarts_as_the_session_it_replaced(passive: bool) -> None:
    """RFC 4271 §6.8 keeps the candidate's connection; the session on it is the
    neighbour's from then on and, after its next fall to Idle, starts again as the
    configuration says (§8.1.1 PassiveTcpEstablishment): an active peering dials.
    The candidate used to stay passive for life: it waited in Active for the peer,
    and two ends that had both promoted a candidate waited for each other forever."""
    node, out = _collision("192.0.2.1", "192.0.2.2", passive=passive)
    assert Promote("p", 2) in out
    node.closed("p", 2, 1.0)  # the connection is lost
    assert node.sessions["p"].state is SessionState.IDLE
    effects = _run_timers(node, "p", 1.0, 200.0)  # IdleHoldTimer, then ConnectRetryTimer
    if passive:
        assert _state(node, "p") is SessionState.ACTIVE
        assert not any(isinstance(e, ConnectTcp) for e in effects)
    else:
        assert any(isinstance(e, ConnectTcp) for e in effects)


def _wire(
    ends: dict[str, tuple[Node, str]], queue: list[tuple[str, NodeEffect]]
) -> dict[str, list[NodeEffect]]:
    """Carry out the node effects of two nodes over numbered connections, as TCP would:
    bytes go to the other end of the connection they were written to, and a
    connection one end closes (or drops) is closed at the other end after them.
    Returns every effect each node gave."""
    given: dict[str, list[NodeEffect]] = {label: [] for label in ends}
    primary: dict[str, int | None] = dict.fromkeys(ends)
    while queue:
        label, effect = queue.pop(0)
        given[label].append(effect)
        other = next(k for k in ends if k != label)
        node, peer = ends[other]
        conn: int | None = None
        closing = False
        match effect:
            case Accepted(conn=c, primary=True) | Promote(conn=c):
                primary[label] = c
            case Drop(conn=c):
                conn, closing = c, True
            case Io(effect=Send(data=data), conn=c):
                conn = primary[label] if c is None else c
                if conn is not None:
                    queue += [(other, e) for e in node.received(peer, conn, data, 0.0)]
                continue
            case Io(effect=CloseTcp(), conn=c):
                conn, closing = (primary[label] if c is None else c), True
            case _:
                continue
        if closing and conn is not None:
            if primary[label] == conn:
                primary[label] = None
            queue += [(other, e) for e in node.closed(peer, conn, 0.0)]
    return given


def test_two_ends_that_both_promoted_a_candidate_still_find_each_other() -> None:
    """The lab's HubGW-SiteB hang (Active/Active for over 60 s after SiteB was frozen):
    both ends took the connection the lower identifier opened (1) as their session's
    and the other one (2) as a candidate; RFC 4271 §6.8 keeps connection 2, so both
    promoted their candidate.  Once that connection is lost (hold timers, §6.5), at
    least one end must dial again (§8.1.1: neither peering is passive)."""
    a = _node(65001, _A_ID, {"b": (65002, _B_ID)})
    b = _node(65002, _B_ID, {"a": (65001, _A_ID)})
    a.attach("b", a.sessions["b"], _B_ID, random.Random(7))  # over TCP: collisions
    b.attach("a", b.sessions["a"], _A_ID, random.Random(8))
    ends = {"a": (a, "b"), "b": (b, "a")}
    queue: list[tuple[str, NodeEffect]] = [("a", e) for e in a.start(0.0)]
    queue += [("b", e) for e in b.start(0.0)]
    queue += [("a", e) for e in a.connected("b", 1, inbound=False, now=0.0)]
    queue += [("b", e) for e in b.connected("a", 1, inbound=True, now=0.0)]
    queue += [("a", e) for e in a.connected("b", 2, inbound=True, now=0.0)]
    queue += [("b", e) for e in b.connected("a", 2, inbound=False, now=0.0)]
    given = _wire(ends, queue)
    assert Promote("b", 2) in given["a"]
    assert Promote("a", 2) in given["b"]
    assert a.sessions["b"].state is SessionState.ESTABLISHED
    assert b.sessions["a"].state is SessionState.ESTABLISHED
    # The connection is lost at both ends (say both hold timers expired).
    a.closed("b", 2, 1.0)
    b.closed("a", 2, 1.0)
    dialled = [
        label
        for label, (node, peer) in ends.items()
        if any(isinstance(e, ConnectTcp) for e in _run_timers(node, peer, 1.0, 120.0))
    ]
    assert dialled == ["a", "b"]


# -- operator commands: both engines only call the node and carry out its effects --------

_A_ID, _B_ID = "192.0.2.1", "192.0.2.2"
_ROUTE = OriginatedRoute(prefix="10.9.0.0/24", family=IPV4_UNICAST)


def _node(asn: int, router_id: str, peers: dict[str, tuple[int, str]]) -> Node:
    """A node whose neighbours (name: (ASN, address)) are attached, not started."""
    node = Node(Router(RouterConfig(asn=asn, router_id=router_id, next_hop_v4=router_id)))
    for seed, (name, (peer_as, address)) in enumerate(sorted(peers.items())):
        config = SessionConfig(local_as=asn, peer_as=peer_as, bgp_identifier=router_id)
        node.attach(name, Session(config, random.Random(seed)), address)
    return node


def _pump(ends: dict[str, tuple[Node, str]], out: dict[str, list[NodeEffect]]) -> None:
    """Deliver every Send between the two nodes (connection 1) until nothing is left.

    ``ends``: node label -> (node, the name it gives the other one)."""
    while any(out.values()):
        for label, effects in list(out.items()):
            out[label] = []
            other = next(k for k in ends if k != label)
            node, peer = ends[other]
            for effect in effects:
                if isinstance(effect, Io) and isinstance(effect.effect, Send):
                    out[other] += node.received(peer, 1, effect.effect.data, 0.0)


def _established() -> tuple[Node, Node, dict[str, tuple[Node, str]]]:
    """Nodes a (AS 65001) and b (AS 65002) with an Established session."""
    a = _node(65001, _A_ID, {"b": (65002, _B_ID)})
    b = _node(65002, _B_ID, {"a": (65001, _A_ID)})
    ends = {"a": (a, "b"), "b": (b, "a")}
    a.start(0.0)
    b.start_peer("a", 0.0)
    out = {
        "a": a.connected("b", 1, inbound=False, now=0.0),
        "b": b.connected("a", 1, inbound=True, now=0.0),
    }
    _pump(ends, out)
    assert a.sessions["b"].state is SessionState.ESTABLISHED
    assert b.sessions["a"].state is SessionState.ESTABLISHED
    return a, b, ends


def _prefixes(node: Node) -> list[str]:
    return [row["prefix"] for row in node.router.table()]


def test_start_starts_every_session_in_name_order() -> None:
    """Node.start is ManualStart (RFC 4271 §8.1.2 event 1) for every neighbour, by name."""
    node = _node(65001, _A_ID, {"z": (65003, "192.0.2.3"), "b": (65002, _B_ID)})
    out = node.start(0.0)
    connects = [e.peer for e in out if isinstance(e, Io) and isinstance(e.effect, ConnectTcp)]
    assert connects == ["b", "z"]
    assert {s.state for s in node.sessions.values()} == {SessionState.CONNECT}


def test_stop_ends_every_session_with_the_cease_subcode_given() -> None:
    """Node.stop: Cease with the subcode given (RFC 4486 §4) to every established peer,
    the sessions stay Idle and the peer's routes are gone from the router."""
    a, b, ends = _established()
    _pump(ends, {"a": a.originate(_ROUTE, 0.0), "b": []})
    assert _prefixes(b) == ["10.9.0.0/24"]
    out = b.stop(0.0, CeaseSubcode.PEER_DECONFIGURED)
    (down,) = [e.effect for e in out if isinstance(e, Io) and isinstance(e.effect, SessionDown)]
    assert down.sent is not None
    assert (down.sent.code, down.sent.subcode) == (ErrorCode.CEASE, CeaseSubcode.PEER_DECONFIGURED)
    assert b.sessions["a"].state is SessionState.IDLE
    assert b.next_deadline("a") is None  # stopped for good: no IdleHoldTimer
    assert _prefixes(b) == []


def test_stop_peer_says_why_in_the_session_down() -> None:
    a, _, _ = _established()
    out = a.stop_peer("b", 0.0, CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, "link cut")
    (down,) = [e.effect for e in out if isinstance(e, Io) and isinstance(e.effect, SessionDown)]
    assert down.reason == "link cut"
    assert down.sent is not None
    assert down.sent.subcode == CeaseSubcode.ADMINISTRATIVE_SHUTDOWN


def test_originate_and_withdraw_reach_the_established_peer() -> None:
    a, b, ends = _established()
    _pump(ends, {"a": a.originate(_ROUTE, 0.0), "b": []})
    assert _prefixes(b) == ["10.9.0.0/24"]
    _pump(ends, {"a": a.withdraw(IPV4_UNICAST, "10.9.0.0/24", 0.0), "b": []})
    assert _prefixes(b) == []


def test_connect_failed_drops_a_connecting_session_to_idle_and_retries() -> None:
    """RFC 4271 §8.2.2, Connect: TcpConnectionFails without a DelayOpenTimer goes to
    Idle; the IdleHoldTimer (§8.1.1) starts it again, so the driver must re-arm."""
    node = _node(65001, _A_ID, {"b": (65002, _B_ID)})
    node.start(0.0)
    session = node.sessions["b"]
    assert session.state is SessionState.CONNECT
    out = node.connect_failed("b", 0.0)
    assert node.sessions["b"].state is SessionState.IDLE
    assert node.next_deadline("b") is not None
    assert out[-1] == Rearm("b")


def test_request_route_refresh_sends_a_route_refresh() -> None:
    """RFC 2918 §3: a ROUTE-REFRESH (type 5) for the family, to a peer that supports it."""
    a, _, _ = _established()
    out = a.request_route_refresh("b", IPV4_UNICAST, 0.0)
    (sent,) = [e.effect.data for e in out if isinstance(e, Io) and isinstance(e.effect, Send)]
    assert sent[18] == 5


def test_add_neighbor_gives_the_router_its_settings_before_the_session_starts() -> None:
    node = _node(65001, _A_ID, {})
    config = SessionConfig(local_as=65001, peer_as=65002, bgp_identifier=_A_ID)
    session = Session(config, random.Random(1))
    policy = NeighborPolicy(name="b", allowas_in=2)
    node.add_neighbor(policy, session, _B_ID, 0.0)
    assert node.sessions["b"] is session
    assert session.state is SessionState.IDLE  # not started: start_peer does
    assert node.router.config.neighbor("b") == policy
    with pytest.raises(ValueError, match="already a neighbour: b"):
        node.add_neighbor(policy, Session(config, random.Random(2)), _B_ID, 0.0)


def test_remove_neighbor_withdraws_its_paths_and_forgets_it() -> None:
    """De-configured (RFC 4486 §4 subcode 3, sent by stop_peer): the session is
    forgotten, the paths learned from it withdrawn (RFC 4271 §9.1), settings dropped."""
    a, b, ends = _established()
    b.router.set_neighbor_policy(NeighborPolicy(name="a", allowas_in=1), 0.0)
    _pump(ends, {"a": a.originate(_ROUTE, 0.0), "b": []})
    b.remove_neighbor("a", 0.0)
    assert "a" not in b.sessions
    assert _prefixes(b) == []
    assert b.router.config.neighbor("a") == NeighborPolicy(name="a")


def test_received_paths_are_the_adj_rib_in_before_import_policy() -> None:
    """What each neighbour sent, as received (RFC 4271 §3.2 Adj-RIBs-In), also when the
    import policy rejects it; the JSON form names the neighbour."""
    a, b, ends = _established()
    b.set_neighbor_policy(NeighborPolicy(name="a", import_policy=lambda path, ctx: None), 0.0)
    _pump(ends, {"a": a.originate(_ROUTE, 0.0), "b": []})
    assert _prefixes(b) == []  # rejected on import
    (path,) = b.received_paths()
    assert (path.source.name, path.prefix) == ("a", "10.9.0.0/24")
    (route,) = b.received_routes()
    assert (route["peer"], route["prefix"], route["family"]) == ("a", "10.9.0.0/24", "ipv4-unicast")
