"""AS_PATH helpers shared by matches and actions (RFC 4271 §4.3 b, §5.1.2; RFC 6996).

Rendering follows the common router CLI form (``show ip bgp``): AS_SEQUENCE members
separated by spaces, an AS_SET as ``{a,b}``, confederation segments (RFC 5065) in
parentheses: ``(a b)`` for AS_CONFED_SEQUENCE and ``({a,b})`` for AS_CONFED_SET.
"""

from __future__ import annotations

from bgpemu.wire.messages import AsPathSegment, SegmentType

__all__ = [
    "PRIVATE_ASN_RANGES",
    "as_path_string",
    "is_private_asn",
    "prepend_as_path",
    "remove_private_asns",
    "replace_asn",
]

PRIVATE_ASN_RANGES: tuple[tuple[int, int], ...] = ((64512, 65534), (4200000000, 4294967294))
"""RFC 6996 §5: the 2-octet and 4-octet private-use ranges (inclusive)."""

_CONFED = (SegmentType.AS_CONFED_SEQUENCE, SegmentType.AS_CONFED_SET)


def is_private_asn(asn: int) -> bool:
    """True for a private-use ASN (RFC 6996 §5)."""
    return any(low <= asn <= high for low, high in PRIVATE_ASN_RANGES)


def _render(segment: AsPathSegment) -> str:
    if segment.type is SegmentType.AS_SEQUENCE:
        return " ".join(str(asn) for asn in segment.asns)
    if segment.type is SegmentType.AS_SET:
        return "{" + ",".join(str(asn) for asn in segment.asns) + "}"
    if segment.type is SegmentType.AS_CONFED_SEQUENCE:
        return "(" + " ".join(str(asn) for asn in segment.asns) + ")"
    return "({" + ",".join(str(asn) for asn in segment.asns) + "})"


def as_path_string(as_path: tuple[AsPathSegment, ...]) -> str:
    """The AS_PATH as a router CLI shows it: ``"65002 65003 {65004,65005}"``; ``""`` if empty."""
    return " ".join(text for text in (_render(seg) for seg in as_path) if text)


def prepend_as_path(
    as_path: tuple[AsPathSegment, ...], asn: int, count: int = 1
) -> tuple[AsPathSegment, ...]:
    """``asn`` ``count`` times in front of the path (RFC 4271 §5.1.2).

    The copies join the leading AS_SEQUENCE; in front of an AS_SET, a confederation
    segment or an empty path they form a new AS_SEQUENCE.  A sequence longer than 255
    ASNs is split by the codec on the wire (RFC 4271 §9.2.2.1), not here.
    """
    if count <= 0:
        return as_path
    copies = (asn,) * count
    if as_path and as_path[0].type is SegmentType.AS_SEQUENCE:
        first = AsPathSegment(SegmentType.AS_SEQUENCE, copies + as_path[0].asns)
        return (first, *as_path[1:])
    return (AsPathSegment(SegmentType.AS_SEQUENCE, copies), *as_path)


def replace_asn(
    as_path: tuple[AsPathSegment, ...], old: int, new: int
) -> tuple[AsPathSegment, ...]:
    """Every ``old`` in an AS_SEQUENCE or AS_SET replaced by ``new`` (confed segments kept)."""
    return tuple(
        seg
        if seg.type in _CONFED or old not in seg.asns
        else AsPathSegment(seg.type, tuple(new if asn == old else asn for asn in seg.asns))
        for seg in as_path
    )


def remove_private_asns(
    as_path: tuple[AsPathSegment, ...], replacement: int | None = None
) -> tuple[AsPathSegment, ...]:
    """Private ASNs (RFC 6996) dropped from AS_SEQUENCE and AS_SET segments.

    With ``replacement`` they are replaced by that ASN instead (vendors' "replace-as"),
    which keeps the AS_PATH length.  Segments left empty disappear.  Confederation
    segments are left alone: their members are private by design (RFC 5065 §5) and
    are stripped at the confederation boundary, which bgpemu does not model.
    """
    out: list[AsPathSegment] = []
    for seg in as_path:
        if seg.type in _CONFED:
            out.append(seg)
            continue
        if replacement is None:
            asns = tuple(asn for asn in seg.asns if not is_private_asn(asn))
        else:
            asns = tuple(replacement if is_private_asn(asn) else asn for asn in seg.asns)
        if asns:
            out.append(seg if asns == seg.asns else AsPathSegment(seg.type, asns))
    return tuple(out)
