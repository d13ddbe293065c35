"""The peer driver hands consecutive UPDATEs to the router in one call, in order."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence

from bgpemu.router import Router, RouterConfig, RouterOutput
from bgpemu.router.spec import NeighborSpec
from bgpemu.runtime.peer import PeerDriver
from bgpemu.session import SessionConfig, SessionState
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


async def test_consecutive_updates_reach_the_router_together_and_in_order() -> None:
    router = _Recorder()
    applied: list[RouterOutput] = []
    spec = NeighborSpec(
        name="n1",
        address="192.0.2.2",
        session=SessionConfig(local_as=65001, peer_as=65002, bgp_identifier="192.0.2.1"),
    )
    async with asyncio.TaskGroup() as tg:
        driver = PeerDriver(
            spec,
            local_address="127.0.0.1",
            router=router,
            apply_output=lambda out, now: applied.append(out),
            rng=random.Random(1),
            task_group=tg,
            on_change=lambda: None,
        )
        u1, u2, u3 = (Update(withdrawn=(f"10.0.{i}.0/24",)) for i in range(3))
        effects: list[Effect] = [
            UpdateReceived(update=u1),
            UpdateReceived(update=u2),
            StateChanged(old=SessionState.ESTABLISHED, new=SessionState.ESTABLISHED),
            UpdateReceived(update=u3),
        ]
        driver._apply(None, effects)  # no connection yet: the primary one
    assert router.calls == [("n1", [u1, u2]), ("n1", [u3])]
    assert len(applied) == 2
