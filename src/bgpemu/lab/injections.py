"""A lab worker's side of the session injections and of one speaker's topology change.

The parent (:mod:`bgpemu.lab.supervisor`) asks a worker to hold a session down, bring
it back or reset it (:func:`session_action`, a ``SessionAction`` command), and to carry
out one speaker's part of a topology change (:func:`apply_change`, an ``ApplyChange``).
A session cut *silently* (``blackhole``) keeps its TCP connection open but passes
nothing; once its hold timer has ended it, :class:`Blackholes` holds it down so that
it does not reconnect by itself until the parent starts it again.
"""

from __future__ import annotations

from bgpemu.router.spec_change import SpeakerChange
from bgpemu.runtime import Speaker
from bgpemu.session import SessionState
from bgpemu.wire.constants import CeaseSubcode, ErrorCode
from bgpemu.wire.messages import Notification

__all__ = ["Blackholes", "apply_change", "cease", "session_action"]


def cease(subcode: CeaseSubcode) -> Notification:
    """A Cease NOTIFICATION with ``subcode`` (RFC 4486 §4) and no data."""
    return Notification(code=ErrorCode.CEASE, subcode=subcode, data=b"")


class Blackholes:
    """The (speaker, peer) sessions of a worker cut silently, and those of them held
    down since their hold timer fired."""

    def __init__(self) -> None:
        self.cut: set[tuple[str, str]] = set()
        """(speaker, peer) sessions cut silently: kept down once their hold timer fired."""
        self.held: set[tuple[str, str]] = set()
        """The cut sessions already held down."""

    def __bool__(self) -> bool:
        return bool(self.cut)

    def discard(self, key: tuple[str, str]) -> None:
        """Session ``key`` is no longer cut (started again, reset or de-configured)."""
        self.cut.discard(key)
        self.held.discard(key)

    def forget(self, speaker: str) -> None:
        """Speaker ``speaker`` stopped: none of its sessions is cut any more."""
        self.cut = {key for key in self.cut if key[0] != speaker}
        self.held = {key for key in self.held if key[0] != speaker}

    def hold_down(self, speaker: Speaker, now: float) -> None:
        """A blackholed session the hold timer ended must not reconnect by itself: hold it
        down (ManualStop in Idle cancels the automatic restart, RFC 4271 §8.2.2)."""
        for peer, driver in speaker.peers.items():
            key = (speaker.spec.name, peer)
            waiting = key in self.cut and key not in self.held
            if waiting and driver.state is not SessionState.ESTABLISHED:
                driver.reset(cease(CeaseSubcode.ADMINISTRATIVE_SHUTDOWN), now)
                self.held.add(key)


def session_action(
    speaker: Speaker, peer: str, action: str, now: float, blackholes: Blackholes
) -> None:
    """Hold a session down (``stop``: Cease / Administrative Shutdown; ``blackhole``:
    silently), bring it back (``start``), or ``reset`` it (Cease / Administrative Reset),
    RFC 4486 §4."""
    driver = speaker.peers[peer]
    key = (speaker.spec.name, peer)
    if action == "stop":
        driver.reset(cease(CeaseSubcode.ADMINISTRATIVE_SHUTDOWN), now)
    elif action == "blackhole":
        driver.blackhole()
        blackholes.cut.add(key)
    elif action == "start":
        blackholes.discard(key)
        driver.restart(now)
    elif action == "reset":
        driver.reset(cease(CeaseSubcode.ADMINISTRATIVE_RESET), now)
        driver.restart(now)
    else:
        raise ValueError(f"unknown session action {action!r}")


async def apply_change(speaker: Speaker, change: SpeakerChange, blackholes: Blackholes) -> None:
    """One speaker's part of a topology change, in the order of the contract
    (:mod:`bgpemu.azure.replan`)."""
    name = change.speaker
    for neighbor, policy in change.add_neighbors:
        speaker.add_neighbor(neighbor, policy)
    for policy in change.policies:
        await speaker.set_neighbor_policy(policy)
    for neighbor, policy in change.reset_neighbors:
        blackholes.discard((name, neighbor.name))
        await speaker.reset_neighbor(neighbor, policy)
    for route in change.originate:
        speaker.originate(route)
    for family, prefix in change.withdraw:
        speaker.withdraw(family, prefix)
    for peer in change.remove_neighbors:
        blackholes.discard((name, peer))
        await speaker.remove_neighbor(peer)
