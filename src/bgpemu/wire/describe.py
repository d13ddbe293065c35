"""Human-readable names for NOTIFICATION codes (RFC 4271 §4.5 and later RFCs), for logs."""

from __future__ import annotations

import contextlib

from bgpemu.wire.constants import (
    CeaseSubcode,
    ErrorCode,
    FsmErrorSubcode,
    HeaderErrorSubcode,
    OpenErrorSubcode,
    RouteRefreshErrorSubcode,
    UpdateErrorSubcode,
)

__all__ = ["describe_notification"]

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
