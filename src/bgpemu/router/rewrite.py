"""The standard attribute rewriting of a path sent to a peer (RFC 4271 §5.1, §9.2).

Pure helpers used by :class:`~bgpemu.router.core.Router` around the export policy:
:func:`before_policy` applies the eBGP/iBGP rules the policy must see (next hop,
LOCAL_PREF, MED), :func:`after_policy` the ones that come last whatever the policy did
(our ASN prepended, LOCAL_PREF and reflection attributes never sent to eBGP).
"""

from __future__ import annotations

from bgpemu.wire.messages import AsPathSegment, PathAttributes, SegmentType

__all__ = ["MAX_SEGMENT_ASNS", "after_policy", "before_policy", "prepend"]

MAX_SEGMENT_ASNS = 255
"""An AS_PATH segment holds at most 255 ASNs (one-octet length, RFC 4271 §4.3 b)."""


def prepend(as_path: tuple[AsPathSegment, ...], asn: int, count: int) -> tuple[AsPathSegment, ...]:
    """``as_path`` with ``asn`` prepended ``count`` times (RFC 4271 §5.1.2 b).

    "the local system shall prepend its own AS number as the last element of the
    sequence (put it in the leftmost position...)"; if the first segment is an
    AS_SET (or a confederation segment), or full, a new AS_SEQUENCE is started.
    """
    if count <= 0:
        return as_path
    added = (asn,) * count
    if as_path and as_path[0].type == SegmentType.AS_SEQUENCE:
        first = as_path[0]
        if len(first.asns) + count <= MAX_SEGMENT_ASNS:
            return (AsPathSegment(SegmentType.AS_SEQUENCE, added + first.asns), *as_path[1:])
    segments: list[AsPathSegment] = []
    while added:
        segments.append(AsPathSegment(SegmentType.AS_SEQUENCE, added[:MAX_SEGMENT_ASNS]))
        added = added[MAX_SEGMENT_ASNS:]
    return (*segments, *as_path)


def before_policy(
    attributes: PathAttributes,
    *,
    ebgp: bool,
    next_hop: str | None,
    keep_med: bool,
    default_local_pref: int,
) -> PathAttributes:
    """The rewriting an export policy sees.

    - NEXT_HOP: ``next_hop`` (ours or unchanged, chosen by the caller, RFC 4271 §5.1.3).
    - eBGP: LOCAL_PREF removed (RFC 4271 §5.1.5); a MED received from another AS is not
      propagated (RFC 4271 §5.1.4) unless ``keep_med`` (we set it ourselves).
    - iBGP: LOCAL_PREF always present (RFC 4271 §5.1.5 "SHALL include"), the default
      when the path has none.
    """
    if ebgp:
        return attributes.but(
            next_hop=next_hop, local_pref=None, med=attributes.med if keep_med else None
        )
    local_pref = attributes.local_pref
    return attributes.but(
        next_hop=next_hop, local_pref=default_local_pref if local_pref is None else local_pref
    )


def after_policy(
    attributes: PathAttributes, *, ebgp: bool, asn: int, prepend_count: int
) -> PathAttributes:
    """The last rewriting toward eBGP: our ASN prepended ``prepend_count`` times.

    RFC 4271 §5.1.2 b, §5.1.5 (no LOCAL_PREF to external peers) and RFC 4456 §8
    (ORIGINATOR_ID and CLUSTER_LIST are optional non-transitive: not sent outside
    the AS).  Toward iBGP the attributes are returned unchanged.
    """
    if not ebgp:
        return attributes
    return attributes.but(
        as_path=prepend(attributes.as_path, asn, prepend_count),
        local_pref=None,
        originator_id=None,
        cluster_list=(),
    )
