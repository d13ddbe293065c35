"""Timer profile of a TCP lab: how fast a refused connection is retried.

All speakers of a lab start within a fraction of a second but not at once: a first
connection attempt often reaches a neighbour that does not listen yet.  RFC 4271 §8
then waits IdleHoldTime (5 s by default) before retrying; in a lab that would add
seconds to every start.  The lab profile retries after ``idle_hold`` seconds instead.

Likewise a session that lost its connection in OpenSent (a connection collision resolved
while the other end was resetting, RFC 4271 §6.8 and §8.2.2) waits in Active for the
ConnectRetryTimer, 120 s by default: when both ends land there at once, neither dials
for two minutes.  The lab profile retries after ``connect_retry`` seconds.

A neighbour that stays unreachable (an external router that is down, a session held
down after a max-prefix trip) must not be redialled five times a second forever: after a
failed attempt a lab session waits in Active, accepting the neighbour's own connection,
and the wait doubles after every consecutive failed attempt, from ``connect_retry`` (1 s)
up to ``connect_retry_max`` (30 s); the IdleHoldTime after sessions that fail before
Established doubles the same way (RFC 4271 §8.1.1 DampPeerOscillations; see
:class:`~bgpemu.session.SessionConfig` ``connect_retry_max``).  Both start again once a
session is Established.  Keepalive and hold times are left as compiled (Azure's 60/180
unless the caller chose a faster profile).
"""

from __future__ import annotations

from dataclasses import replace

from bgpemu.azure.plan import Plan

__all__ = ["LAB_CONNECT_RETRY", "LAB_CONNECT_RETRY_MAX", "LAB_IDLE_HOLD", "lab_profile"]

LAB_IDLE_HOLD = 0.2
"""Seconds before retrying a refused connection in a lab."""
LAB_CONNECT_RETRY = 1.0
"""Seconds a session waits in Connect or Active before dialling again in a lab."""
LAB_CONNECT_RETRY_MAX = 30.0
"""Bound of the lab's retry backoff: an unreachable neighbour is dialled every 30 s at most."""


def lab_profile(
    plan: Plan,
    *,
    idle_hold: float = LAB_IDLE_HOLD,
    connect_retry: float = LAB_CONNECT_RETRY,
    connect_retry_max: float | None = LAB_CONNECT_RETRY_MAX,
) -> Plan:
    """``plan`` with every session's IdleHoldTime, ConnectRetryTime and backoff set."""
    speakers = tuple(
        replace(
            spec,
            neighbors=tuple(
                replace(
                    n,
                    session=replace(
                        n.session,
                        idle_hold_time=idle_hold,
                        connect_retry_time=connect_retry,
                        connect_retry_max=connect_retry_max,
                    ),
                )
                for n in spec.neighbors
            ),
        )
        for spec in plan.speakers
    )
    return replace(plan, speakers=speakers)
