"""Neighbours added to and removed from running speakers, over loopback TCP (issue 6).

Three speakers: ``a`` and ``c`` peer from the start (the bystander session); ``b``
starts with no neighbour.  Adding a-b on both ends brings it up and routes flow; removing
it sends Cease / Peer De-configured (RFC 4486 §4) and the routes go.  The a-c session
never leaves Established: same session object, one Established transition.
"""

from __future__ import annotations

import asyncio

import pytest

from bgpemu.router import NeighborPolicy
from bgpemu.runtime import NeighborSpec, Speaker, SpeakerSpec
from bgpemu.session import SessionState
from tests.helpers import free_port, neighbor, running, speaker_spec

A, B, C = "127.0.0.21", "127.0.0.22", "127.0.0.23"
AS = {"a": 65001, "b": 65002, "c": 65003}
ADDRESS = {"a": A, "b": B, "c": C}
ROUTER_ID = {"a": "10.0.0.1", "b": "10.0.0.2", "c": "10.0.0.3"}


def _neighbor(local: str, remote: str, port: int) -> NeighborSpec:
    return neighbor(
        remote,
        ADDRESS[remote],
        port,
        local_as=AS[local],
        peer_as=AS[remote],
        router_id=ROUTER_ID[local],
    )


def _specs(port: int) -> tuple[SpeakerSpec, SpeakerSpec, SpeakerSpec]:
    def spec(name: str, peers: list[str], route: str) -> SpeakerSpec:
        return speaker_spec(
            name,
            ADDRESS[name],
            port,
            asn=AS[name],
            router_id=ROUTER_ID[name],
            routes=[route],
            next_hop_v4=f"192.0.2.{AS[name] - 65000}",
            neighbors=[_neighbor(name, p, port) for p in peers],
        )

    return (
        spec("a", ["c"], "10.1.0.0/16"),
        spec("b", [], "10.2.0.0/16"),
        spec("c", ["a"], "10.3.0.0/16"),
    )


def _loc(speaker: Speaker) -> set[str]:
    return {prefix for _family, prefix, _best in speaker.router.loc_rib.best_paths()}


def _add(local: Speaker, remote: str, port: int, policy: NeighborPolicy | None = None) -> None:
    spec = _neighbor(local.spec.name, remote, port)
    local.add_neighbor(spec, policy or NeighborPolicy(name=remote))


async def test_adding_then_removing_a_neighbor_leaves_the_other_session_alone() -> None:
    port = free_port(A, B, C)
    async with running(*_specs(port)) as (a, b, c):
        await a.wait_established("c", timeout=10)
        await c.wait_for(lambda: "10.1.0.0/16" in _loc(c), timeout=10)
        bystander = a.peers["c"].session
        established_at = bystander.counters.established_at
        assert bystander.counters.established_transitions == 1

        _add(a, "b", port)
        _add(b, "a", port)
        assert [n.name for n in a.spec.neighbors] == ["c", "b"]
        await a.wait_established("b", timeout=10)
        await c.wait_for(lambda: "10.2.0.0/16" in _loc(c), timeout=10)
        await b.wait_for(lambda: {"10.1.0.0/16", "10.3.0.0/16"} <= _loc(b), timeout=10)

        await a.remove_neighbor("b")
        assert "b" not in a.peers
        assert [n.name for n in a.spec.neighbors] == ["c"]
        await b.wait_for(lambda: b.peers["a"].state != SessionState.ESTABLISHED, timeout=10)
        assert b.peers["a"].last_notification_received == "Cease (6) / Peer Deconfigured (3)"
        await c.wait_for(lambda: "10.2.0.0/16" not in _loc(c), timeout=10)
        await b.wait_for(lambda: _loc(b) == {"10.2.0.0/16"}, timeout=10)
        assert _loc(a) == {"10.1.0.0/16", "10.3.0.0/16"}
        assert a.router.adj_rib_in("b") is None

        # The bystander never left Established.
        assert a.peers["c"].session is bystander
        assert bystander.state == SessionState.ESTABLISHED
        assert bystander.counters.established_transitions == 1
        assert bystander.counters.established_at == established_at
        assert c.peers["a"].session.counters.established_transitions == 1


async def test_a_removed_neighbor_is_refused_and_can_be_added_again() -> None:
    port = free_port(A, B, C)
    a_spec, b_spec, c_spec = _specs(port)
    async with running(a_spec, b_spec, c_spec) as (a, b, _c):
        _add(a, "b", port)
        _add(b, "a", port)
        await a.wait_established("b", timeout=10)
        await a.remove_neighbor("b")
        # b keeps its neighbour and dials again: a closes every connection from b's address.
        reader, writer = await asyncio.open_connection(A, port, local_addr=(B, 0))
        async with asyncio.timeout(5):
            assert await reader.read(1) == b""
        writer.close()
        assert b.peers["a"].state != SessionState.ESTABLISHED
        # Configured again, with an export policy the router uses at once.
        _add(a, "b", port, NeighborPolicy(name="b", next_hop_self=True))
        assert a.router.config.neighbor("b").next_hop_self is True
        await a.wait_established("b", timeout=15)
        await b.wait_for(lambda: "10.1.0.0/16" in _loc(b), timeout=10)


async def test_a_reset_neighbor_comes_back_with_the_new_settings() -> None:
    port = free_port(A, B, C)
    async with running(*_specs(port)) as (a, _b, c):
        await a.wait_established("c", timeout=10)
        before = a.peers["c"].session
        new = _neighbor("a", "c", port)
        await a.reset_neighbor(new, NeighborPolicy(name="c", mrai=0.0))
        assert a.peers["c"].session is not before
        await c.wait_for(lambda: c.peers["a"].last_notification_received is not None, timeout=10)
        assert c.peers["a"].last_notification_received == (
            "Cease (6) / Other Configuration Change (6)"
        )
        await a.wait_established("c", timeout=15)
        await c.wait_established("a", timeout=15)
        await c.wait_for(lambda: "10.1.0.0/16" in _loc(c), timeout=10)


async def test_bad_changes_are_refused() -> None:
    port = free_port(A, B, C)
    a_spec, b_spec, _c = _specs(port)
    idle = Speaker(a_spec)
    with pytest.raises(RuntimeError, match="not running"):
        _add(idle, "b", port)
    async with running(a_spec, b_spec) as (a, _b):
        with pytest.raises(ValueError, match="already has a neighbour c"):
            _add(a, "c", port)
        with pytest.raises(ValueError, match="given for neighbour"):
            a.add_neighbor(_neighbor("a", "b", port), NeighborPolicy(name="x"))
        with pytest.raises(KeyError, match="no neighbour nope"):
            await a.remove_neighbor("nope")
        assert [n.name for n in a.spec.neighbors] == ["c"]
