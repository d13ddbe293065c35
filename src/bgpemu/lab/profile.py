"""Timer profile of a TCP lab: how fast a refused connection is retried.

All speakers of a lab start within a fraction of a second but not at once: a first
connection attempt often reaches a neighbour that does not listen yet.  RFC 4271 §8
then waits IdleHoldTime (5 s by default) before retrying; in a lab that would add
seconds to every start.  The lab profile retries after ``idle_hold`` seconds instead
(keepalive and hold times are left as compiled: Azure's 60/180 unless the caller
chose a faster profile).
"""

from __future__ import annotations

from dataclasses import replace

from bgpemu.azure.plan import Plan

__all__ = ["LAB_IDLE_HOLD", "lab_profile"]

LAB_IDLE_HOLD = 0.2
"""Seconds before retrying a refused connection in a lab."""


def lab_profile(plan: Plan, *, idle_hold: float = LAB_IDLE_HOLD) -> Plan:
    """``plan`` with every session's IdleHoldTime set to ``idle_hold``."""
    speakers = tuple(
        replace(
            spec,
            neighbors=tuple(
                replace(n, session=replace(n.session, idle_hold_time=idle_hold))
                for n in spec.neighbors
            ),
        )
        for spec in plan.speakers
    )
    return replace(plan, speakers=speakers)
