"""Must show: active/passive NVAs behind Route Server; the active one crashes silently and the
passive route is programmed when the hold timer expires: 180 virtual seconds after the
last KEEPALIVE, in well under a second of wall time (measured and recorded)."""

from __future__ import annotations

import time
from collections.abc import Callable

from bgpemu.session import SessionState, Timer
from bgpemu.testing import start_lab
from tests.testing.helpers import TOPOLOGIES, effective_hops

PREFIX = "10.200.0.0/16"
INSTANCES = ("ars.0", "ars.1")


async def test_silent_crash_of_the_active_nva_waits_for_the_hold_timer(
    record_property: Callable[[str, object], None],
) -> None:
    async with await start_lab(TOPOLOGIES / "nva-ha-route-server.yaml") as lab:
        await lab.converged()
        for subnet in ("Hub/workload", "Spoke/app"):
            assert effective_hops(lab, subnet, PREFIX) == ["10.0.1.4"]
        fabric = lab.fabric
        sessions = [fabric.sessions(rs)["nva1"] for rs in INSTANCES]
        crashed_at = fabric.now
        deadlines = []
        for session in sessions:
            deadline = session.timer_deadline(Timer.HOLD)
            assert deadline is not None
            assert session.config.hold_time == 180
            # The hold timer restarts at every KEEPALIVE, so it expires 180 s after the last.
            assert crashed_at < deadline <= crashed_at + 180
            deadlines.append(deadline)

        wall = time.perf_counter()
        await lab.crash("nva1")
        await lab.advance(min(deadlines) - crashed_at - 0.01)
        assert all(s.state is SessionState.ESTABLISHED for s in sessions)  # not yet noticed
        report = await lab.converged(timeout=300)
        wall = time.perf_counter() - wall

        assert max(deadlines) - crashed_at <= report.duration_s <= max(deadlines) - crashed_at + 0.1
        assert report.duration_s > 120  # a keepalive interval at most before the crash
        for subnet in ("Hub/workload", "Spoke/app"):
            assert effective_hops(lab, subnet, PREFIX) == ["10.0.1.5"]
        learned = lab.route_server_routes("ars", "nva2")["RouteServiceRole_IN_0"]
        assert any(r["network"] == PREFIX and r["asPath"] == "65001-65001-65001" for r in learned)

        await lab.restart("nva1")
        await lab.converged()
        assert effective_hops(lab, "Hub/workload", PREFIX) == ["10.0.1.4"]

    record_property("virtual_s", report.duration_s)
    record_property("wall_s", wall)
    print(f"nva1 crash: passive route after {report.duration_s:.3f} virtual s, {wall:.3f} wall s")
