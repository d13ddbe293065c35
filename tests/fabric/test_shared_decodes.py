"""The fabric decodes a frame that several of its sessions receive once (wire.UpdateMemo).

A hub relays the same UPDATE to every spoke; each spoke's session used to decode it
again.  With the fabric's one memo the spokes hold the very same decoded attributes,
and the tables are those of sessions that each decode for themselves.
"""

from __future__ import annotations

from bgpemu.fabric import Fabric
from bgpemu.types import IPV4_UNICAST

from .helpers import Node, build, v4

P = "10.1.0.0/24"


def _hub_and_spokes(spokes: int) -> Fabric:
    nodes = [Node("hub", 1, 65000)]
    nodes.append(Node("origin", 2, 65002, routes=(v4(P),)))
    nodes += [Node(f"spoke{n}", 10 + n, 65100 + n) for n in range(spokes)]
    links = [("hub", node.name) for node in nodes[1:]]
    return Fabric(build(nodes, links))


def test_spokes_share_the_decoded_update_of_the_hub() -> None:
    fabric = _hub_and_spokes(3)
    fabric.run_until_idle()
    paths = [fabric.router(f"spoke{n}").loc_rib.best(IPV4_UNICAST, P) for n in range(3)]
    assert all(path is not None for path in paths)
    first = paths[0]
    assert first is not None
    assert first.attributes.as_path[0].asns == (65000, 65002)
    assert all(path is not None and path.attributes is first.attributes for path in paths)


def test_tables_are_those_of_sessions_that_decode_alone() -> None:
    shared = _hub_and_spokes(3)
    alone = _hub_and_spokes(3)
    for name in alone.nodes():
        for session in alone.sessions(name).values():
            session.codec.memo = None
    shared.run_until_idle()
    alone.run_until_idle()
    assert shared.tables() == alone.tables()
