"""Must show: exact convergence detection never reports converged while a message is in flight.

Random small topologies in the fabric, random injected events; after each event virtual
time passes in small steps and :func:`bgpemu.lab.convergence.decide` judges the
speakers' reports (:func:`~bgpemu.lab.convergence.report_from_sessions`, exactly what a
TCP lab worker sends).  Whenever it says converged, the fabric must agree: running it
until idle changes no Loc-RIB, Adj-RIB-In or Adj-RIB-Out.  And it does say converged
eventually (no false "still waiting" forever).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bgpemu.azure.snapshot import snapshot
from bgpemu.fabric import Fabric
from bgpemu.lab.convergence import Verdict, decide, report_from_sessions
from bgpemu.types import IPV4_UNICAST
from tests.fabric.helpers import Node, build, v4

PREFIXES = ("10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/24", "10.3.1.0/24")
FINE_STEP = 0.0003
"""A third of the fabric's latency: many checks while messages fly."""
COARSE_STEP = 0.25
LIMIT = 200.0
"""Virtual seconds an event may take to settle (hold 3 s, IdleHold 5 s, ConnectRetry 30 s)."""


@dataclass
class World:
    """The injected state, to tell decide which sessions are expected and which are down."""

    links: list[tuple[str, str]]
    stopped: set[str] = field(default_factory=set)
    cut: set[tuple[str, str]] = field(default_factory=set)
    originated: dict[str, set[str]] = field(default_factory=dict)

    def verdict(self, fabric: Fabric) -> Verdict:
        running = [n for n in fabric.nodes() if n not in self.stopped]
        reports = {
            n: report_from_sessions(
                n, fabric.sessions(n), busy=fabric.router(n).next_deadline() is not None
            )
            for n in running
        }
        sessions: set[tuple[str, str]] = set()
        down: set[tuple[str, str]] = set()
        for a, b in self.links:
            if (a, b) in self.cut:
                down.update(end for end in ((a, b), (b, a)) if end[0] not in self.stopped)
            elif a in self.stopped and b not in self.stopped:
                down.add((b, a))
            elif b in self.stopped and a not in self.stopped:
                down.add((a, b))
            elif a not in self.stopped:
                sessions.add((a, b) if a < b else (b, a))
        return decide(reports, sessions, down=down)


def _state(fabric: Fabric, running: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for name in running:
        snap = snapshot(name, fabric.router(name))
        out[name] = (snap.loc_rib, dict(snap.adj_rib_in), dict(snap.adj_rib_out))
    return out


@st.composite
def scenarios(
    draw: st.DrawFn,
) -> tuple[list[Node], list[tuple[str, str]], list[tuple[object, ...]]]:
    count = draw(st.integers(2, 5))
    names = [f"r{i}" for i in range(1, count + 1)]
    links: set[tuple[str, str]] = set()
    for i in range(1, count):
        links.add((names[draw(st.integers(0, i - 1))], names[i]))
    for a, b in draw(
        st.lists(st.tuples(st.sampled_from(names), st.sampled_from(names)), max_size=3)
    ):
        if a != b:
            links.add((min(a, b), max(a, b)))
    nodes = [
        Node(
            name=name,
            index=index + 1,
            asn=draw(st.sampled_from([65001, 65002, 65003, 65004, 65005])),
            routes=tuple(v4(p) for p in draw(st.sets(st.sampled_from(PREFIXES), max_size=2))),
        )
        for index, name in enumerate(names)
    ]
    ordered = sorted(links)
    event = st.one_of(
        st.tuples(st.just("announce"), st.sampled_from(names), st.sampled_from(PREFIXES)),
        st.tuples(st.just("withdraw"), st.sampled_from(names), st.sampled_from(PREFIXES)),
        st.tuples(st.just("cut"), st.sampled_from(ordered), st.booleans()),
        st.tuples(st.just("restore"), st.sampled_from(ordered)),
        st.tuples(st.just("stop"), st.sampled_from(names), st.booleans()),
        st.tuples(st.just("start"), st.sampled_from(names)),
    )
    return nodes, ordered, draw(st.lists(event, min_size=1, max_size=5))


def _inject(fabric: Fabric, world: World, event: tuple[object, ...]) -> bool:
    """Apply ``event`` if it makes sense in the current state; whether it was applied."""
    kind = event[0]
    if kind in ("announce", "withdraw"):
        node, prefix = str(event[1]), str(event[2])
        if node in world.stopped:
            return False
        mine = world.originated.setdefault(node, set())
        if kind == "announce":
            fabric.announce(node, v4(prefix))
            mine.add(prefix)
        elif prefix in mine:
            fabric.withdraw(node, IPV4_UNICAST, prefix)
            mine.discard(prefix)
        else:
            return False
        return True
    if kind in ("cut", "restore"):
        link = event[1]
        assert isinstance(link, tuple)
        a, b = str(link[0]), str(link[1])
        if (kind == "cut") == ((a, b) in world.cut):
            return False
        if kind == "cut":
            fabric.cut_link(a, b, silent=bool(event[2]))
            world.cut.add((a, b))
        else:
            fabric.restore_link(a, b)
            world.cut.discard((a, b))
        return True
    node = str(event[1])
    if (kind == "stop") == (node in world.stopped):
        return False
    if kind == "stop":
        fabric.stop_node(node, silent=bool(event[2]))
        world.stopped.add(node)
    else:
        fabric.start_node(node)
        world.stopped.discard(node)
        world.originated.pop(node, None)
    return True


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), seed=st.integers(0, 1000))
def test_decide_never_converged_while_a_message_is_in_flight(
    scenario: tuple[list[Node], list[tuple[str, str]], list[tuple[object, ...]]], seed: int
) -> None:
    nodes, links, events = scenario
    fabric = Fabric(build(nodes, links, hold_time=3), seed=seed)
    world = World(links=links, originated={n.name: {r.prefix for r in n.routes} for n in nodes})
    for event in [("start-up",), *events]:
        if event[0] != "start-up" and not _inject(fabric, world, event):
            continue
        began = fabric.now
        while not world.verdict(fabric).converged:
            assert fabric.now - began < LIMIT, (event, world.verdict(fabric))
            fabric.advance(FINE_STEP if fabric.now - began < 0.05 else COARSE_STEP)
        running = [n for n in fabric.nodes() if n not in world.stopped]
        before = _state(fabric, running)
        fabric.run_until_idle(max_time=LIMIT)
        assert _state(fabric, running) == before, event
