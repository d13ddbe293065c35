"""JSON text that bgpemu cannot trust (what an MQTT client sent, a lab state file that
anyone with the user's rights may have edited), decoded so that nothing but ValueError
comes out (architecture decision 12: nothing a client or a file holds may kill a process).

Python's JSON decoder recurses once per nesting level: 100,000 ``[`` in a payload are a
RecursionError, which ``except ValueError`` (how every reader of a lab's topics refuses a
payload that is not JSON) does not catch.  :func:`loads` turns it into a
:class:`~bgpemu.observe.errors.JsonNestingError`, a ValueError; the observers, ``bgpemu
watch``, the control client, the lab's control handler and the lab's state and account
files (:mod:`bgpemu.lab.state_files`, :mod:`bgpemu.lab.credentials`) all decode with it.
"""

from __future__ import annotations

import json
from typing import Any

from bgpemu.observe.errors import JsonNestingError

__all__ = ["loads"]


def loads(raw: bytes | str) -> Any:
    """``json.loads(raw)``; a text nested too deeply raises :class:`JsonNestingError`
    (a ValueError) instead of RecursionError."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise JsonNestingError("JSON nested too deeply") from None
