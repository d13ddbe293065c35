"""Hypothesis properties of the Fabric: deterministic, order-independent, reversible."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bgpemu.fabric import Fabric
from bgpemu.policy import Prepend, RoutePolicy, Statement
from bgpemu.policy.route_policy import Result
from bgpemu.rib.decision import DecisionConfig
from bgpemu.router.neighbor import NeighborPolicy
from bgpemu.router.spec import SpeakerSpec
from bgpemu.types import IPV4_UNICAST

from .helpers import Node, build, v4

PREFIXES = ("10.1.0.0/24", "10.2.0.0/24", "10.3.0.0/24", "10.4.0.0/24")


def _specs() -> list[SpeakerSpec]:
    """Five ASes: a ring plus a chord, ECMP at e, a prepended export at b, an iBGP pair."""
    prepend = RoutePolicy(
        statements=(Statement(actions=(Prepend(count=1),)),), default=Result.ACCEPT
    )
    nodes = [
        Node("a", 1, 65001, routes=(v4(PREFIXES[0]), v4(PREFIXES[1], med=10))),
        Node("b", 2, 65002, policies={"c": NeighborPolicy(name="", export_policy=prepend)}),
        Node("c", 3, 65003, routes=(v4(PREFIXES[2]),)),
        Node("d", 4, 65003),
        Node(
            "e",
            5,
            65005,
            routes=(v4(PREFIXES[1]),),
            decision=DecisionConfig(max_paths=4, multipath_relax=True),
        ),
    ]
    links = [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("e", "a"), ("b", "e"), ("a", "d")]
    return build(nodes, links)


SPECS = _specs()


def _converged(specs: list[SpeakerSpec], seed: int) -> Fabric:
    fabric = Fabric(specs, seed=seed)
    fabric.run_until_idle()
    return fabric


BASELINE = _converged(SPECS, 0)


@settings(max_examples=15, deadline=None)
@given(order=st.permutations(SPECS), seed=st.integers(0, 2**16))
def test_tables_independent_of_node_order_and_seed(order: list[SpeakerSpec], seed: int) -> None:
    fabric = _converged(list(order), seed)
    assert fabric.tables() == BASELINE.tables()
    assert all(len(table) == len(PREFIXES) - 1 for table in fabric.tables().values())


@settings(max_examples=10, deadline=None)
@given(order=st.permutations(SPECS), seed=st.integers(0, 2**16))
def test_same_input_same_event_order(order: list[SpeakerSpec], seed: int) -> None:
    first = _converged(list(order), seed)
    again = _converged(SPECS, seed)
    assert first.events == again.events
    assert first.now == again.now


@settings(max_examples=20, deadline=None)
@given(
    node=st.sampled_from([s.name for s in SPECS]),
    prefix=st.sampled_from(PREFIXES),
    med=st.none() | st.integers(0, 100),
    prepend=st.integers(0, 3),
)
def test_announce_then_withdraw_restores_the_tables(
    node: str, prefix: str, med: int | None, prepend: int
) -> None:
    fabric = _converged(SPECS, 0)
    before = fabric.tables()
    spec = next(s for s in SPECS if s.name == node)
    # A node that already originates the prefix: withdrawing would not be the inverse.
    assume(all(r.prefix != prefix for r in spec.router.routes))
    fabric.announce(node, v4(prefix, med=med, as_path_prepend=prepend))
    fabric.run_until_idle()
    assert fabric.tables() != before
    fabric.withdraw(node, IPV4_UNICAST, prefix)
    fabric.run_until_idle()
    assert fabric.tables() == before
