"""What a :class:`~bgpemu.router.node.Node` asks its driver to do, or to log.

Each method of the node returns an ordered list of :data:`NodeEffect`; the engine (the
in-memory fabric or the TCP runtime) carries them out in that order: bytes and
connections (:class:`Io`, :class:`Accepted`, :class:`Refused`, :class:`Drop`,
:class:`Promote`), timers to re-arm (:class:`Rearm`, :class:`RouterRearm`), and reports
for the log.  See the theory of operation of :mod:`bgpemu.router.node`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bgpemu.router.outputs import RouterOutput
from bgpemu.session import Effect, SessionState
from bgpemu.wire import Update
from bgpemu.wire.messages import Notification

__all__ = [
    "Accepted",
    "Collision",
    "Decided",
    "Drop",
    "Fault",
    "Io",
    "Malformed",
    "NodeEffect",
    "NotAnnounced",
    "Promote",
    "Rearm",
    "Refused",
    "Resetting",
    "Restarting",
    "RouterFault",
    "RouterRearm",
]


@dataclass(frozen=True, slots=True)
class Io:
    """A session effect for a connection of neighbour ``peer`` (or a report to log):
    ``conn`` None is the primary session's connection, else a collision candidate's."""

    peer: str
    effect: Effect
    conn: int | None = None


@dataclass(frozen=True, slots=True)
class Accepted:
    """Connection ``conn`` of ``peer`` now carries its primary session, or (``primary``
    False) a collision candidate's (RFC 4271 §6.8)."""

    peer: str
    conn: int
    primary: bool


@dataclass(frozen=True, slots=True)
class Refused:
    """Connection ``conn`` of ``peer`` is refused in ``state``: close it (RFC 4271
    §8.2.2: Idle refuses connections; §6.8: one colliding with Established is closed)."""

    peer: str
    conn: int
    state: SessionState


@dataclass(frozen=True, slots=True)
class Drop:
    """Close connection ``conn`` of ``peer`` now (after the effects before this one)."""

    peer: str
    conn: int


@dataclass(frozen=True, slots=True)
class Promote:
    """The collision candidate on ``conn`` wins: it is ``peer``'s primary session now
    and its connection the primary one (the old one, if any, is closed)."""

    peer: str
    conn: int


@dataclass(frozen=True, slots=True)
class Collision:
    """RFC 4271 §6.8: of two connections of ``peer``, the ``inbound`` one (else the
    outbound one) is closed with Cease / Connection Collision Resolution."""

    peer: str
    inbound: bool


@dataclass(frozen=True, slots=True)
class Rearm:
    """The session of ``peer`` may have a new deadline (``Session.next_deadline``)."""

    peer: str


@dataclass(frozen=True, slots=True)
class RouterRearm:
    """The router may have a new deadline (``Router.next_deadline``)."""


@dataclass(frozen=True, slots=True)
class Decided:
    """The router produced ``output`` (its best-path changes, read only if logged)."""

    output: RouterOutput


@dataclass(frozen=True, slots=True)
class NotAnnounced:
    """An Announce to ``peer`` went out as a withdrawal (RFC 8654 §4); first time only."""

    peer: str
    text: str


@dataclass(frozen=True, slots=True)
class Malformed:
    """``update`` from ``peer`` had RFC 7606 issues (treat-as-withdraw, ...): log them."""

    peer: str
    update: Update


@dataclass(frozen=True, slots=True)
class Resetting:
    """The session of ``peer`` is stopped with ``notification`` (maximum prefixes, or an
    operator's reset)."""

    peer: str
    notification: Notification


@dataclass(frozen=True, slots=True)
class Restarting:
    """The session of ``peer`` starts again after a reset (max-prefix restart timer, or
    the operator)."""

    peer: str


@dataclass(frozen=True, slots=True)
class Fault:
    """An unexpected error while serving ``peer`` (decision 12).

    ``resetting``: it happened while resetting the session after another one; the
    connection is then closed without further ado (a :class:`Io` CloseTcp follows).
    """

    peer: str
    error: BaseException
    resetting: bool = False


@dataclass(frozen=True, slots=True)
class RouterFault:
    """An unexpected error in the router's timers: no session to blame."""

    error: BaseException


NodeEffect = (
    Io
    | Accepted
    | Refused
    | Drop
    | Promote
    | Collision
    | Rearm
    | RouterRearm
    | Decided
    | NotAnnounced
    | Malformed
    | Resetting
    | Restarting
    | Fault
    | RouterFault
)
