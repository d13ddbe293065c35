"""Which sessions a TCP lab expects Established now, and which are down on purpose.

A lab (:class:`~bgpemu.lab.supervisor.TcpLab`) starts expecting every session between
the speakers it runs.  Its injections change that: a cut link is down at both ends, a
crashed speaker's sessions are down at the surviving end (which must notice: RFC 4271
§6.5, the hold timer, or the closed connection), and a topology change (issue 6)
replaces the plan the sessions come from.  :class:`ExpectedSessions` keeps that record
and gives the two inputs of :func:`bgpemu.lab.convergence.decide` besides the reports:
the sessions expected Established and the ends expected to see theirs down.

Pure: no I/O, no clock.  The lab also keeps here the neighbour settings changed by its
injections (soft reconfiguration), which a restarted speaker is given again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bgpemu.azure.plan import Plan
from bgpemu.azure.replan import PlanChange
from bgpemu.lab.convergence import (
    SpeakerReport,
    Verdict,
    decide,
    expected_sessions,
    external_sessions,
)
from bgpemu.router.neighbor import NeighborPolicy

__all__ = ["ExpectedSessions"]


class ExpectedSessions:
    """The sessions of the speakers a lab runs, and the injections that hold some down."""

    def __init__(self, plan: Plan, local: tuple[str, ...]) -> None:
        self.all: set[tuple[str, str]] = expected_sessions(_neighbors(plan, local))
        """Every session between two speakers of the lab, (a, b) with a < b."""
        self.sessions: set[tuple[str, str]] = set(self.all)
        """The sessions expected Established now (all minus those down on purpose)."""
        self.external: set[tuple[str, str]] = _external(plan, local)
        """(speaker, router) sessions to external routers (one end in the lab)."""
        self.down: set[tuple[str, str]] = set()
        """(speaker, peer): ``speaker``'s end must see its session with ``peer`` down."""
        self.cut: set[tuple[str, str]] = set()
        """Sessions cut by the lab (until restored)."""
        self.crashed: set[str] = set()
        """Speakers whose process the lab crashed or lost (until restarted)."""
        self.unconfirmed: dict[str, int] = {}
        """Speaker -> reports asked of it after a neighbour was lost, not yet received:
        until then its latest report may predate the loss (see :meth:`lose`)."""
        self.policies: dict[tuple[str, str], NeighborPolicy] = {}
        """(speaker, peer) -> settings changed by ``set_neighbor_policy``."""

    def pair(self, a: str, b: str) -> tuple[str, str] | None:
        """The session between ``a`` and ``b`` as :attr:`all` has it; None if there is none."""
        pair = (a, b) if a < b else (b, a)
        return pair if pair in self.all else None

    def recompute(self) -> None:
        """Expected sessions and the ends that must notice, after an injection."""
        self.sessions = set()
        self.down = set()
        for a, b in self.all:
            if (a, b) in self.cut:
                self.down.update({(a, b), (b, a)})
            elif a in self.crashed and b not in self.crashed:
                self.down.add((b, a))
            elif b in self.crashed and a not in self.crashed:
                self.down.add((a, b))
            elif a not in self.crashed and b not in self.crashed:
                self.sessions.add((a, b))

    def lose(self, speakers: Iterable[str]) -> tuple[str, ...]:
        """``speakers`` died with their process: their sessions are down at the surviving
        ends, which are returned; ask each for a report and call :meth:`confirmed` once
        it is in.

        A report the lab holds when it learns of the crash was taken before it, maybe
        before the surviving end even reached Established (the session's KEEPALIVE
        and UPDATEs still on their way): that report showing the session down proves
        nothing, and the routes still to be learned, sent on and withdrawn again would
        be missed (RFC 4271 §6.5, §9.1: the surviving end withdraws what it learned
        only once it has noticed).
        """
        lost = set(speakers)
        self.crashed.update(lost)
        self.recompute()
        ends = tuple(sorted({s for s, peer in self.down if peer in lost}))
        for speaker in ends:
            self.unconfirmed[speaker] = self.unconfirmed.get(speaker, 0) + 1
        return ends

    def confirmed(self, speaker: str) -> None:
        """A report asked of ``speaker`` after a loss (:meth:`lose`) is in (or never
        comes: the speaker was lost too)."""
        left = self.unconfirmed.get(speaker, 0) - 1
        if left > 0:
            self.unconfirmed[speaker] = left
        else:
            self.unconfirmed.pop(speaker, None)

    def decide(self, reports: Mapping[str, SpeakerReport], *, wait_external: bool) -> Verdict:
        """Converged or not, from ``reports`` (:func:`bgpemu.lab.convergence.decide`)."""
        return decide(
            reports,
            self.sessions,
            down=self.down,
            unconfirmed=self.unconfirmed,
            external=self.external - {(s, r) for s, r in self.external if s in self.crashed},
            wait_external=wait_external,
        )

    def adopt(self, change: PlanChange, local: tuple[str, ...]) -> None:
        """Expect the sessions of ``change.new``, carried out on the lab's speakers
        (``local``, every speaker of it); a cut of a session that no longer exists is
        forgotten, and so are the changed settings of a restarted speaker or of a
        neighbour the change configures anew."""
        plan = change.new
        self.all = expected_sessions(_neighbors(plan, None))
        self.external = _external(plan, local)
        self.cut &= self.all
        # Settings changed by set_neighbor_policy stay, unless the new plan sets new ones.
        restarted = {spec.name for spec in change.restart_speakers}
        configured = {
            (item.speaker, name)
            for item in change.speakers
            for name in (
                *(p.name for p in item.policies),
                *(n.name for n, _ in item.reset_neighbors),
            )
        }
        self.policies = {
            (speaker, peer): policy
            for (speaker, peer), policy in self.policies.items()
            if tuple(sorted((speaker, peer))) in self.all
            and speaker not in restarted
            and (speaker, peer) not in configured
        }
        self.recompute()


def _neighbors(plan: Plan, local: tuple[str, ...] | None) -> dict[str, list[str]]:
    """Each speaker of ``local`` (None: of ``plan``) -> the names of its neighbours."""
    wanted = None if local is None else frozenset(local)
    return {
        spec.name: [n.name for n in spec.neighbors]
        for spec in plan.speakers
        if wanted is None or spec.name in wanted
    }


def _external(plan: Plan, local: tuple[str, ...]) -> set[tuple[str, str]]:
    """(speaker, router) for every session of a speaker of ``local`` to an external router."""
    routers = [name for name, e in plan.endpoints.items() if e.external]
    return external_sessions(_neighbors(plan, local), routers)
