"""Per-session counters (mutable, owned by one :class:`Session`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bgpemu.wire.constants import MessageType
from bgpemu.wire.messages import Notification

__all__ = ["SessionCounters"]


def _zero_per_type() -> dict[MessageType, int]:
    return dict.fromkeys(MessageType, 0)


@dataclass(slots=True, kw_only=True)
class SessionCounters:
    """What a session has sent and received, across connections.

    ``messages_received`` counts every frame the framer delivered, by its header
    type, whether or not it decoded; ``messages_sent`` counts every Send effect.
    """

    messages_sent: dict[MessageType, int] = field(default_factory=_zero_per_type)
    messages_received: dict[MessageType, int] = field(default_factory=_zero_per_type)
    updates_sent: int = 0
    updates_received: int = 0
    established_transitions: int = 0
    connect_retry_counter: int = 0
    """RFC 4271 §8: ConnectRetryCounter."""
    last_state_change: float | None = None
    established_at: float | None = None
    updates_sent_before: int = 0
    """UPDATEs sent before the current Established connection (see :meth:`current_updates`)."""
    updates_received_before: int = 0
    last_notification_sent: Notification | None = None
    last_notification_received: Notification | None = None
    internal_errors: int = 0
    """Unexpected errors of bgpemu itself while serving this session, each of which
    reset it (:meth:`Session.internal_error <bgpemu.session.fsm.Session.internal_error>`)."""

    def current_updates(self) -> tuple[int, int]:
        """(UPDATEs sent, UPDATEs received) on the current Established connection.

        Equal numbers at the two ends of a session mean no UPDATE is in flight, whatever
        earlier connections lost when they went down (architecture decision 7).
        """
        sent = self.messages_sent[MessageType.UPDATE] - self.updates_sent_before
        return sent, self.updates_received - self.updates_received_before
