"""Human-readable text for logs: NOTIFICATION codes (RFC 4271 §4.5 and later RFCs) and
the malformed attributes of an UPDATE handled per RFC 7606 (§6)."""

from __future__ import annotations

import contextlib

from bgpemu.wire.constants import (
    AttrType,
    CeaseSubcode,
    ErrorCode,
    FsmErrorSubcode,
    HeaderErrorSubcode,
    OpenErrorSubcode,
    RouteRefreshErrorSubcode,
    UpdateErrorSubcode,
)
from bgpemu.wire.messages import Update, UpdateIssueAction

__all__ = ["describe_issues", "describe_notification"]

_SUBCODES: dict[
    int,
    type[CeaseSubcode]
    | type[FsmErrorSubcode]
    | type[HeaderErrorSubcode]
    | type[OpenErrorSubcode]
    | type[RouteRefreshErrorSubcode]
    | type[UpdateErrorSubcode],
] = {
    ErrorCode.MESSAGE_HEADER_ERROR: HeaderErrorSubcode,
    ErrorCode.OPEN_MESSAGE_ERROR: OpenErrorSubcode,
    ErrorCode.UPDATE_MESSAGE_ERROR: UpdateErrorSubcode,
    ErrorCode.FSM_ERROR: FsmErrorSubcode,
    ErrorCode.CEASE: CeaseSubcode,
    ErrorCode.ROUTE_REFRESH_MESSAGE_ERROR: RouteRefreshErrorSubcode,
}


def _title(name: str) -> str:
    return name.replace("_", " ").title().replace("Bgp", "BGP").replace("As ", "AS ")


def describe_notification(code: int, subcode: int, data: bytes = b"") -> str:
    """``6, 2, b"..."`` → ``Cease (6) / Administrative Shutdown (2), "maintenance"``.

    For Cease subcodes 2 and 4 the data may carry an RFC 8203 / RFC 9003 shutdown
    communication (a length octet and UTF-8 text), which is shown as text.
    """
    try:
        code_name = _title(ErrorCode(code).name)
    except ValueError:
        code_name = "Unknown Error"
    sub_name = "Unspecific" if subcode == 0 else "Unknown Subcode"
    enum = _SUBCODES.get(code)
    if enum is not None and subcode != 0:
        with contextlib.suppress(ValueError):
            sub_name = _title(enum(subcode).name)
    text = f"{code_name} ({code}) / {sub_name} ({subcode})"
    if code == ErrorCode.CEASE and subcode in (2, 4) and data and data[0] == len(data) - 1:
        try:
            return f'{text}, "{data[1:].decode("utf-8")}"'
        except UnicodeDecodeError:
            pass
    if data:
        text += f", data {data.hex()}"
    return text


_ACTIONS = {
    UpdateIssueAction.TREAT_AS_WITHDRAW: "treat-as-withdraw",
    UpdateIssueAction.ATTRIBUTE_DISCARD: "attribute discard",
}


def describe_issues(update: Update) -> str:
    """One log line for an UPDATE with RFC 7606 issues, as RFC 7606 §6 asks: each
    malformed attribute and its handling, "the NLRI involved" and "the entire
    malformed UPDATE message" (hex)."""
    parts = []
    for issue in update.issues:
        try:
            name = AttrType(issue.type_code).name
        except ValueError:
            name = "unrecognized"
        action = _ACTIONS.get(issue.action, str(issue.action))
        parts.append(f"attribute {issue.type_code} ({name}) {action}: {issue.reason}")
    text = "UPDATE handled per RFC 7606: " + "; ".join(parts)
    withdrawn = list(update.withdrawn)
    if update.mp_unreach is not None:
        withdrawn += update.mp_unreach.withdrawn
    announced = list(update.nlri)
    if update.mp_reach is not None:
        announced += update.mp_reach.nlri
    if withdrawn:
        text += f"; withdrawn {' '.join(withdrawn)}"
    if announced:
        text += f"; announced {' '.join(announced)}"
    return f"{text}; message {update.raw.hex()}"
