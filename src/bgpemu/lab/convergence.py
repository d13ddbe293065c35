"""When is a lab converged?  A pure decision over the speakers' latest reports.

Architecture decision 7: a lab is converged when every expected session is
Established, every speaker is idle (no router deadline pending, such as an MRAI
hold-down), and for every session the UPDATEs sent by each end equal the UPDATEs
the other end received.  Counters only grow, so equal counters in the latest
reports mean nothing is in flight: a message still in a socket buffer or in a
driver's queue has been counted as sent by one end and not yet as received by the
other.  KEEPALIVEs are left out: they flow forever and change no route.

Two kinds of session are decided differently (issue 12):

* A session **held down on purpose** by one end (a ManualStop the lab did not ask for:
  a max-prefix trip without restart, RFC 4486 §4, as Azure's VPN gateway, ExpressRoute
  and Route Server limits do) stays down by design.  Once the other end no longer
  reports it Established (its routes are withdrawn), it is settled: it leaves the
  expected count and the verdict names it, with the reason, in ``held``.
* A session to an **external** router (a real router at an on-prem node's address) has
  one end in the lab.  It is expected like any other, and is settled once that end is
  Established (what the router received cannot be counted); until then the verdict
  names the router in ``external_waiting``.  With ``wait_external=False`` such a
  session is not waited for: it is named in ``not_connected`` instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bgpemu.session import Session
from bgpemu.wire.constants import MessageType

__all__ = [
    "PeerCounters",
    "SpeakerReport",
    "Verdict",
    "decide",
    "expected_sessions",
    "external_sessions",
    "report_from_sessions",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerCounters:
    """One session as one end sees it."""

    state: str
    """RFC 4271 state name."""
    updates_sent: int = 0
    updates_received: int = 0
    held: str | None = None
    """Why this end holds the session down on purpose (a ManualStop), else None."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeakerReport:
    """What a speaker last reported about itself."""

    name: str
    peers: Mapping[str, PeerCounters] = field(default_factory=dict)
    busy: bool = False
    """A router deadline is pending (MRAI, max-prefix restart): more output will come."""
    updates_sent_total: int = 0
    """Every UPDATE the speaker ever sent, on all sessions (for per-convergence counts)."""
    best_routes: int = 0
    """Prefixes in its Loc-RIB."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """The decision, and while not converged, the first few reasons why not."""

    converged: bool
    established: int
    expected: int
    waiting: tuple[str, ...] = ()
    held: tuple[str, ...] = ()
    """Sessions held down on purpose, settled: ``a-b: held down by a (reason)``."""
    external_waiting: tuple[str, ...] = ()
    """External routers waited for: ``router (from speaker)``."""
    not_connected: tuple[str, ...] = ()
    """External routers not connected and not waited for (``wait_external=False``)."""


def expected_sessions(neighbors: Mapping[str, Iterable[str]]) -> set[tuple[str, str]]:
    """Sessions both of whose ends run in the lab: (a, b) with a < b, from each speaker's
    neighbour names (a neighbour that is not itself a key is external)."""
    pairs: set[tuple[str, str]] = set()
    for speaker, peers in neighbors.items():
        for peer in peers:
            if peer in neighbors:
                a, b = sorted((speaker, peer))
                pairs.add((a, b))
    return pairs


def external_sessions(
    neighbors: Mapping[str, Iterable[str]], externals: Iterable[str]
) -> set[tuple[str, str]]:
    """Sessions to external routers: (speaker, router) for every neighbour of a speaker
    that is one of ``externals`` (the plan's external endpoints)."""
    routers = set(externals)
    return {
        (speaker, peer) for speaker, peers in neighbors.items() for peer in peers if peer in routers
    }


def decide(
    reports: Mapping[str, SpeakerReport],
    sessions: Iterable[tuple[str, str]],
    *,
    down: Iterable[tuple[str, str]] = (),
    unconfirmed: Iterable[str] = (),
    external: Iterable[tuple[str, str]] = (),
    wait_external: bool = True,
    limit: int = 5,
) -> Verdict:
    """Converged or not, from the latest report of every speaker.

    ``down`` lists (speaker, peer) sessions that are intentionally down (the peer
    crashed or its link was cut): the speaker must have noticed, i.e. no longer report
    the session Established, before its routes can be withdrawn and the lab converge.
    Nor OpenConfirm: an OPEN came from that peer before it went, and what it sent after
    the OPEN (KEEPALIVE, UPDATEs) may still be unread.  ``unconfirmed`` names speakers
    whose latest report may predate the loss of a peer (a crashed process): a report
    taken before the crash may show the session short of Established while the peer's
    last KEEPALIVE and UPDATEs are yet to arrive, and the routes they carry to be sent on
    and withdrawn again; such a speaker's ``down`` sessions wait for its next report.
    ``external`` lists (speaker, router) sessions to external routers, waited for
    unless ``wait_external`` is False.  Sessions held down by one end are settled
    (see the module's docstring).
    """
    waiting: list[str] = []
    held: list[str] = []
    external_waiting: list[str] = []
    not_connected: list[str] = []
    stale = frozenset(unconfirmed)
    for speaker, peer in sorted(down):
        report = reports.get(speaker)
        side = None if report is None else report.peers.get(peer)
        if side is None:
            continue
        if side.state in ("Established", "OpenConfirm"):
            waiting.append(f"{speaker}: still {side.state} with {peer}")
        elif speaker in stale:
            waiting.append(f"{speaker}: no report yet since {peer} went down")
    expected = 0
    established = 0
    for a, b in sorted(sessions):
        expected += 1
        end_a = reports.get(a)
        end_b = reports.get(b)
        if end_a is None or end_b is None:
            waiting.append(f"{a if end_a is None else b}: no report yet")
            continue
        side_a = end_a.peers.get(b)
        side_b = end_b.peers.get(a)
        if side_a is None or side_b is None:
            waiting.append(f"{a}-{b}: session unknown to one end")
            continue
        holder, side, other = (a, side_a, b) if side_a.held is not None else (b, side_b, a)
        if side.held is not None:
            expected -= 1
            if "Established" in (side_a.state, side_b.state):
                waiting.append(f"{a}-{b}: held down by {holder}, still Established at {other}")
            else:
                held.append(f"{a}-{b}: held down by {holder} ({side.held})")
            continue
        if side_a.state != "Established" or side_b.state != "Established":
            waiting.append(f"{a}-{b}: {side_a.state}/{side_b.state}")
            continue
        established += 1
        if side_a.updates_sent != side_b.updates_received:
            waiting.append(f"{a}->{b}: {side_a.updates_sent - side_b.updates_received} in flight")
        if side_b.updates_sent != side_a.updates_received:
            waiting.append(f"{b}->{a}: {side_b.updates_sent - side_a.updates_received} in flight")
    for speaker, router in sorted(external):
        report = reports.get(speaker)
        if report is None:
            waiting.append(f"{speaker}: no report yet")
            expected += 1
            continue
        side = report.peers.get(router)
        state = "unknown" if side is None else side.state
        if side is not None and side.held is not None:
            held.append(f"{speaker}-{router}: held down by {speaker} ({side.held})")
        elif state == "Established":
            expected += 1
            established += 1
        elif wait_external:
            expected += 1
            external_waiting.append(f"{router} (from {speaker})")
            waiting.append(f"{speaker}: waiting for external peer {router} ({state})")
        else:
            not_connected.append(f"{router} (from {speaker})")
    for name in sorted(reports):
        if reports[name].busy:
            waiting.append(f"{name}: timer pending")
    return Verdict(
        converged=not waiting,
        established=established,
        expected=expected,
        waiting=tuple(waiting[:limit]),
        held=tuple(held),
        external_waiting=tuple(external_waiting),
        not_connected=tuple(not_connected),
    )


def report_from_sessions(
    name: str, sessions: Mapping[str, Session], *, busy: bool
) -> SpeakerReport:
    """A speaker's report from its sessions by neighbour name (TCP lab and fabric alike)."""
    peers = {}
    total = 0
    for peer, session in sessions.items():
        total += session.counters.messages_sent[MessageType.UPDATE]
        sent, received = session.counters.current_updates()
        peers[peer] = PeerCounters(
            state=session.state.value,
            updates_sent=sent,
            updates_received=received,
            held=session.held_down,
        )
    return SpeakerReport(name=name, peers=peers, busy=busy, updates_sent_total=total)
