"""The lines the Fabric writes to :attr:`Fabric.events <bgpemu.fabric.fabric.Fabric.events>`.

Session transitions and downs (with the NOTIFICATION sent or received, RFC 4271 §6.4),
RFC 8654 routes not announced, max-prefix restarts (RFC 4486 §4) and internal errors
(architecture decision 12, with their traceback).  Best-path changes are not written
there (a large topology makes tens of thousands); the Fabric sends them to its debug
logger.
"""

from __future__ import annotations

import logging
import traceback

from bgpemu.router.node_effects import Fault, NodeEffect, NotAnnounced, Restarting, RouterFault
from bgpemu.router.outputs import RouterOutput
from bgpemu.session import Effect, SessionDown, StateChanged
from bgpemu.wire.describe import describe_notification

__all__ = ["log_changes", "node_report", "session_report"]


def node_report(effect: NodeEffect) -> str | None:
    """The event line of a node's report, or None when it is not one to write."""
    match effect:
        case NotAnnounced(peer=peer, text=text):
            return f"{peer}: {text}"
        case Restarting(peer=peer):
            return f"{peer}: restarting after max-prefix"
        case Fault(peer=peer, error=error, resetting=False):
            lines = "".join(traceback.format_exception(error)).rstrip()
            return f"{peer}: internal error, resetting the session: {lines}"
        case Fault(peer=peer, error=error, resetting=True):
            return f"{peer}: internal error while resetting: {error!r}"
        case RouterFault(error=error):
            lines = "".join(traceback.format_exception(error)).rstrip()
            return f"internal error in the router's timers: {lines}"
    return None


def session_report(peer: str, effect: Effect) -> str | None:
    """The event line of the session with ``peer``'s ``effect``, or None."""
    match effect:
        case StateChanged(old=old, new=new):
            return f"{peer}: {old.value} -> {new.value}"
        case SessionDown(reason=reason, sent=sent, received=received):
            text = f"{peer}: session down: {reason}"
            if sent is not None:
                text += f"; sent {describe_notification(sent.code, sent.subcode, sent.data)}"
            if received is not None:
                described = describe_notification(received.code, received.subcode, received.data)
                text += f"; received {described}"
            return text
    return None


def log_changes(logger: logging.Logger, name: str, output: RouterOutput) -> None:
    """Each best-path change of node ``name`` on ``logger`` at DEBUG (not in the event
    log: a large topology makes tens of thousands, nobody reads them there), formatted
    only if enabled."""
    if not logger.isEnabledFor(logging.DEBUG):
        return
    for change in output.changes:
        new = change.new
        if new is None or new.best is None:
            logger.debug("%s: best path %s: none", name, change.prefix)
        else:
            source = new.best.source.name or "local"
            logger.debug("%s: best path %s: %s (%s)", name, change.prefix, source, new.reason.value)
