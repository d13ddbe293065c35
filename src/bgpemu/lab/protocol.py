"""The messages between the lab's supervisor and its workers (one pipe per worker).

Parent -> worker (:data:`ToWorker`): a :class:`Request` carrying one :data:`Command`
and the id its :class:`Reply` repeats, or :class:`Stop`.  Worker -> parent
(:data:`FromWorker`): :class:`Ready` (every speaker listens), :class:`StartError` (a
speaker could not start: nothing is left running), :class:`Reports` (sent after every
burst of changes, and before the reply to an injection), :class:`Reply` (the
:data:`Answer` to one request), :class:`Fatal` (the process is dying of an error outside
any command) and :class:`Stopped`.

Every command is answered: :class:`Flush` by :class:`Flushed`, :class:`GetBestPaths`
by :class:`BestPathsFound`, :class:`TakeSnapshots` by :class:`Snapshots`, the others
by :class:`Done`; a command that fails is answered by :class:`Done` with its ``error``.
Both unions are closed, so a ``match`` over them is checked exhaustive by mypy.  The
messages are frozen dataclasses pickled over a :mod:`multiprocessing` pipe between
processes of the same program (never across machines).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from bgpemu.azure.plan import Endpoint
from bgpemu.lab.bestpaths import BestPaths
from bgpemu.lab.convergence import SpeakerReport
from bgpemu.router.config import OriginatedRoute
from bgpemu.router.neighbor import NeighborPolicy
from bgpemu.router.spec import SpeakerSpec
from bgpemu.router.spec_change import SpeakerChange
from bgpemu.types import Family

__all__ = [
    "AddSpeaker",
    "Announce",
    "Answer",
    "ApplyChange",
    "BestPathsFound",
    "Command",
    "Done",
    "Fatal",
    "Flush",
    "Flushed",
    "FromWorker",
    "GetBestPaths",
    "Ready",
    "RemoveSpeaker",
    "Reply",
    "Reports",
    "Request",
    "RestartSpeaker",
    "SendReports",
    "SessionAction",
    "SetPolicy",
    "Snapshots",
    "StartError",
    "Stop",
    "Stopped",
    "TakeSnapshots",
    "ToWorker",
    "Withdraw",
]

# -- commands (parent -> worker) ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Flush:
    """Publish every speaker's current tables; wait at most ``timeout`` seconds for the
    broker to have them."""

    kind: ClassVar[str] = "flush"
    """How errors and logs name this command."""

    timeout: float


@dataclass(frozen=True, slots=True)
class GetBestPaths:
    """Every speaker's Loc-RIB digest (:mod:`bgpemu.lab.bestpaths`)."""

    kind: ClassVar[str] = "best_paths"
    """How errors and logs name this command."""


@dataclass(frozen=True, slots=True)
class SendReports:
    """Send every speaker's report now (answered by ``Done`` after it): the parent's
    proof of a report taken after a moment of its own, such as a neighbour's loss."""

    kind: ClassVar[str] = "reports"
    """How errors and logs name this command."""


@dataclass(frozen=True, slots=True)
class TakeSnapshots:
    """The RIBs and sessions of ``speakers`` (None: all of this worker's), the
    Adj-RIBs-Out of ``without_adj_rib_out`` left empty."""

    kind: ClassVar[str] = "snapshot"
    """How errors and logs name this command."""

    speakers: frozenset[str] | None = None
    without_adj_rib_out: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Announce:
    """``speaker`` starts originating ``route``."""

    kind: ClassVar[str] = "announce"
    """How errors and logs name this command."""

    speaker: str
    route: OriginatedRoute


@dataclass(frozen=True, slots=True)
class Withdraw:
    """``speaker`` stops originating ``prefix``."""

    kind: ClassVar[str] = "withdraw"
    """How errors and logs name this command."""

    speaker: str
    family: Family
    prefix: str


@dataclass(frozen=True, slots=True)
class SetPolicy:
    """``speaker`` takes new settings for neighbour ``policy.name`` (soft
    reconfiguration, RFC 2918)."""

    kind: ClassVar[str] = "policy"
    """How errors and logs name this command."""

    speaker: str
    policy: NeighborPolicy


@dataclass(frozen=True, slots=True)
class SessionAction:
    """``speaker``'s session with ``peer``: ``stop`` (Cease / Administrative Shutdown),
    ``blackhole`` (silent cut), ``start`` or ``reset`` (Cease / Administrative Reset,
    RFC 4486 §4)."""

    kind: ClassVar[str] = "session"
    """How errors and logs name this command."""

    speaker: str
    peer: str
    action: str


@dataclass(frozen=True, slots=True)
class AddSpeaker:
    """A topology change (issue 6): start ``spec`` in this worker."""

    kind: ClassVar[str] = "add_speaker"
    """How errors and logs name this command."""

    spec: SpeakerSpec
    endpoint: Endpoint


@dataclass(frozen=True, slots=True)
class RemoveSpeaker:
    """A topology change: stop ``speaker`` cleanly and clear its retained MQTT tables."""

    kind: ClassVar[str] = "remove_speaker"
    """How errors and logs name this command."""

    speaker: str


@dataclass(frozen=True, slots=True)
class RestartSpeaker:
    """A topology change: stop ``spec.name`` and start it again with ``spec``."""

    kind: ClassVar[str] = "restart_speaker"
    """How errors and logs name this command."""

    spec: SpeakerSpec
    endpoint: Endpoint


@dataclass(frozen=True, slots=True)
class ApplyChange:
    """A topology change: one speaker's part, in the order of :mod:`bgpemu.azure.replan`."""

    kind: ClassVar[str] = "change"
    """How errors and logs name this command."""

    change: SpeakerChange


Command = (
    Flush
    | GetBestPaths
    | SendReports
    | TakeSnapshots
    | Announce
    | Withdraw
    | SetPolicy
    | SessionAction
    | AddSpeaker
    | RemoveSpeaker
    | RestartSpeaker
    | ApplyChange
)
"""Everything a worker can be asked to do (each answered by one :class:`Reply`)."""


@dataclass(frozen=True, slots=True)
class Request:
    """``command``, numbered: its :class:`Reply` carries the same ``id``."""

    id: int
    command: Command


@dataclass(frozen=True, slots=True)
class Stop:
    """Stop every speaker (Cease to its peers), send :class:`Stopped` and exit."""


ToWorker = Request | Stop
"""What the parent sends a worker."""

# -- answers and events (worker -> parent) ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Done:
    """A command was carried out, or failed with ``error`` (the worker runs on)."""

    error: str | None = None


@dataclass(frozen=True, slots=True)
class Flushed:
    """Every speaker's current tables reached the broker."""


@dataclass(frozen=True, slots=True)
class BestPathsFound:
    """Every speaker's Loc-RIB digest, by speaker."""

    best_paths: Mapping[str, BestPaths]


@dataclass(frozen=True, slots=True)
class Snapshots:
    """The asked speakers' snapshots, as JSON documents (decoded by the parent)."""

    snapshots: Mapping[str, dict[str, Any]]


Answer = Done | Flushed | BestPathsFound | Snapshots
"""What a command is answered with."""


@dataclass(frozen=True, slots=True)
class Reply:
    """The answer to the :class:`Request` numbered ``id``."""

    id: int
    answer: Answer


@dataclass(frozen=True, slots=True)
class Ready:
    """Every speaker of the worker listens."""

    speakers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StartError:
    """A speaker could not start (its address or port in use...); nothing runs."""

    message: str


@dataclass(frozen=True, slots=True)
class Reports:
    """Every speaker's latest sessions and counters (:func:`bgpemu.lab.convergence.decide`)."""

    reports: Mapping[str, SpeakerReport] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Fatal:
    """The worker is dying of ``error`` (the exception, where, the last log lines)."""

    error: str


@dataclass(frozen=True, slots=True)
class Stopped:
    """The worker stopped its speakers as asked and exits."""


FromWorker = Ready | StartError | Reports | Reply | Fatal | Stopped
"""What a worker sends its parent."""
