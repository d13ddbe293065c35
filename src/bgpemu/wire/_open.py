"""OPEN optional parameters and capabilities (RFC 4271 §4.2, RFC 5492 §4, RFC 9072).

Decoding walks every optional parameter and every capability TLV inside each
Capabilities parameter (type 2): BIRD and GoBGP pack all capabilities into one
parameter, others send one per parameter, and both are accepted (``deps.md`` §4 trap
1).  An RFC 9072 extended parameter block (non-extended length 255, type 255) is
accepted too.  Any other parameter type → 2/4 Unsupported Optional Parameter
(RFC 4271 §6.2); a truncated parameter or capability, or a known capability with the
wrong length → 2/0 (RFC 5492 §4 leaves the subcode open).

Encoding puts every capability into a single Capabilities parameter, in ascending
capability code order.
"""

from __future__ import annotations

import struct

from bgpemu.errors import EncodeError, MessageError
from bgpemu.types import Afi, Family, Safi
from bgpemu.wire.constants import CapabilityCode, ErrorCode, OpenErrorSubcode
from bgpemu.wire.messages import AddPathMode, Capabilities, GracefulRestart

__all__ = ["decode_capabilities", "encode_capabilities"]

_OPEN = ErrorCode.OPEN_MESSAGE_ERROR
_CAPABILITIES_PARAM = 2


def _bad(reason: str) -> MessageError:
    return MessageError(_OPEN, 0, reason=reason)


def _family(afi: int, safi: int) -> Family | None:
    try:
        return Family(Afi(afi), Safi(safi))
    except ValueError:
        return None


def _params(blob: bytes) -> list[tuple[int, bytes]]:
    """(type, value) of each optional parameter (RFC 4271 §4.2, RFC 9072 §2)."""
    out: list[tuple[int, bytes]] = []
    extended = len(blob) >= 3 and blob[0] == 255
    pos = 3 if extended else 0
    if extended and (blob[1] << 8) | blob[2] != len(blob) - 3:
        raise _bad("extended optional parameters length mismatch")
    head = 3 if extended else 2
    while pos < len(blob):
        if pos + head > len(blob):
            raise _bad("truncated optional parameter")
        ptype = blob[pos]
        plen = (blob[pos + 1] << 8) | blob[pos + 2] if extended else blob[pos + 1]
        start = pos + head
        if start + plen > len(blob):
            raise _bad("optional parameter overruns the OPEN")
        out.append((ptype, blob[start : start + plen]))
        pos = start + plen
    return out


def decode_capabilities(opt_params: bytes) -> Capabilities:
    """Every capability of every Capabilities parameter (RFC 5492 §4)."""
    caps: dict[int, list[bytes]] = {}
    order: list[tuple[int, bytes]] = []
    for ptype, value in _params(opt_params):
        if ptype != _CAPABILITIES_PARAM:
            raise MessageError(
                _OPEN,
                OpenErrorSubcode.UNSUPPORTED_OPTIONAL_PARAMETER,
                reason=f"optional parameter type {ptype}",
            )
        pos = 0
        while pos < len(value):
            if pos + 2 > len(value):
                raise _bad("truncated capability")
            code = value[pos]
            clen = value[pos + 1]
            if pos + 2 + clen > len(value):
                raise _bad(f"capability {code} overruns its parameter")
            body = value[pos + 2 : pos + 2 + clen]
            caps.setdefault(code, []).append(body)
            order.append((code, body))
            pos += 2 + clen
    return _interpret(order)


def _interpret(order: list[tuple[int, bytes]]) -> Capabilities:
    multiprotocol: list[Family] = []
    add_path: list[tuple[Family, AddPathMode]] = []
    unknown: list[tuple[int, bytes]] = []
    fields: dict[str, object] = {}
    for code, body in order:
        if code == CapabilityCode.MULTIPROTOCOL:
            if len(body) != 4:
                raise _bad("multiprotocol capability length")
            fam = _family((body[0] << 8) | body[1], body[3])
            if fam is None:
                unknown.append((code, body))
            elif fam not in multiprotocol:
                multiprotocol.append(fam)
        elif code in (
            CapabilityCode.ROUTE_REFRESH,
            CapabilityCode.ENHANCED_ROUTE_REFRESH,
            CapabilityCode.EXTENDED_MESSAGE,
        ):
            if body:
                raise _bad(f"capability {code} must be empty")
            name = {
                CapabilityCode.ROUTE_REFRESH: "route_refresh",
                CapabilityCode.ENHANCED_ROUTE_REFRESH: "enhanced_route_refresh",
                CapabilityCode.EXTENDED_MESSAGE: "extended_message",
            }[CapabilityCode(code)]
            fields[name] = True
        elif code == CapabilityCode.FOUR_OCTET_AS:
            if len(body) != 4:
                raise _bad("4-octet AS capability length")
            fields["four_octet_as"] = struct.unpack("!I", body)[0]
        elif code == CapabilityCode.GRACEFUL_RESTART:
            fields["graceful_restart"] = _graceful_restart(body)
        elif code == CapabilityCode.ADD_PATH:
            if len(body) % 4:
                raise _bad("ADD-PATH capability length")
            for i in range(0, len(body), 4):
                fam = _family((body[i] << 8) | body[i + 1], body[i + 2])
                if fam is not None and 1 <= body[i + 3] <= 3:
                    add_path.append((fam, AddPathMode(body[i + 3])))
        else:
            unknown.append((code, body))
    return Capabilities(
        multiprotocol=tuple(multiprotocol),
        add_path=tuple(add_path),
        unknown=tuple(sorted(unknown, key=lambda item: item[0])),  # canonical: by code
        **fields,  # type: ignore[arg-type]
    )


def _graceful_restart(body: bytes) -> GracefulRestart:
    """RFC 4724 §3: restart flags + time, then (AFI, SAFI, flags) per family."""
    if len(body) < 2 or (len(body) - 2) % 4:
        raise _bad("graceful restart capability length")
    head = (body[0] << 8) | body[1]
    families: list[tuple[Family, bool]] = []
    for i in range(2, len(body), 4):
        fam = _family((body[i] << 8) | body[i + 1], body[i + 2])
        if fam is not None:
            families.append((fam, bool(body[i + 3] & 0x80)))
    return GracefulRestart(
        restart_state=bool(head & 0x8000), restart_time=head & 0x0FFF, families=tuple(families)
    )


def _cap(code: int, body: bytes) -> bytes:
    if len(body) > 255:
        raise EncodeError(f"capability {code} is longer than 255 octets")
    return bytes((code, len(body))) + body


def _fam(fam: Family) -> bytes:
    return int(fam.afi).to_bytes(2, "big") + bytes((0, int(fam.safi)))


def encode_capabilities(caps: Capabilities) -> bytes:
    """All capabilities in ONE Capabilities optional parameter, or b"" when there are none."""
    parts: list[tuple[int, bytes]] = []
    for fam in caps.multiprotocol:
        parts.append((1, _cap(1, _fam(fam))))
    if caps.route_refresh:
        parts.append((2, _cap(2, b"")))
    if caps.extended_message:
        parts.append((6, _cap(6, b"")))
    gr = caps.graceful_restart
    if gr is not None:
        if not 0 <= gr.restart_time <= 0x0FFF:
            raise EncodeError("graceful restart time must fit in 12 bits (RFC 4724 §3)")
        head = (0x8000 if gr.restart_state else 0) | gr.restart_time
        body = head.to_bytes(2, "big") + b"".join(
            int(f.afi).to_bytes(2, "big") + bytes((int(f.safi), 0x80 if fwd else 0))
            for f, fwd in gr.families
        )
        parts.append((64, _cap(64, body)))
    if caps.four_octet_as is not None:
        parts.append((65, _cap(65, struct.pack("!I", caps.four_octet_as))))
    if caps.add_path:
        body = b"".join(
            int(f.afi).to_bytes(2, "big") + bytes((int(f.safi), int(mode)))
            for f, mode in caps.add_path
        )
        parts.append((69, _cap(69, body)))
    if caps.enhanced_route_refresh:
        parts.append((70, _cap(70, b"")))
    for code, body in caps.unknown:
        parts.append((code, _cap(code, body)))
    parts.sort(key=lambda item: item[0])
    blob = b"".join(p for _, p in parts)
    if not blob:
        return b""
    if len(blob) > 253:
        raise EncodeError("capabilities do not fit one optional parameter")
    return bytes((_CAPABILITIES_PARAM, len(blob))) + blob
