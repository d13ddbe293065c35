"""Pure AS_PATH helpers the decision process and the router's loop prevention share."""

from __future__ import annotations

from bgpemu.wire.messages import PathAttributes, SegmentType

__all__ = ["as_path_length", "as_path_loop", "neighbor_as"]

_CONFED = (SegmentType.AS_CONFED_SEQUENCE, SegmentType.AS_CONFED_SET)


def as_path_length(attributes: PathAttributes) -> int:
    """The AS_PATH length the decision process compares.

    RFC 4271 §9.1.2.2 a: an AS_SET counts as 1 whatever its size, each ASN of an
    AS_SEQUENCE counts 1.  RFC 5065 §5.3: AS_CONFED_SEQUENCE and AS_CONFED_SET
    segments do not count at all.
    """
    length = 0
    for segment in attributes.as_path:
        kind = segment.type
        if kind == SegmentType.AS_SEQUENCE:
            length += len(segment.asns)
        elif kind == SegmentType.AS_SET:
            length += 1
    return length


def as_path_loop(attributes: PathAttributes, asn: int, allowas_in: int = 0) -> bool:
    """True when ``asn`` occurs in the AS_PATH more than ``allowas_in`` times.

    RFC 4271 §9.1.2: a route whose AS_PATH contains the local AS is a loop and must
    be excluded.  ``allowas_in`` is the vendor "allowas-in N" relaxation (hub and
    spoke designs re-using one ASN at several sites); 0 is the RFC behaviour.  Every
    segment type is searched.
    """
    count = 0
    for segment in attributes.as_path:
        count += segment.asns.count(asn)
        if count > allowas_in:
            return True
    return False


def neighbor_as(attributes: PathAttributes, local_asn: int) -> int:
    """The neighbour AS of RFC 4271 §9.1.2.2 c (the AS whose MEDs are comparable).

    The first ASN of the AS_PATH when it begins (after any confederation segments,
    RFC 5065 §5.3) with an AS_SEQUENCE; otherwise the route was originated or
    aggregated inside our own AS and the neighbour AS is ``local_asn``.
    """
    for segment in attributes.as_path:
        if segment.type in _CONFED:
            continue
        if segment.type == SegmentType.AS_SEQUENCE and segment.asns:
            return segment.asns[0]
        break
    return local_asn
