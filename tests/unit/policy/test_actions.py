"""Each action alone: attributes, next hop, communities, AS_PATH edits."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import pytest

from bgpemu.policy import (
    AddCommunities,
    AddLargeCommunities,
    AsOverride,
    Direction,
    Prepend,
    PrivateAsMode,
    RemoveCommunities,
    RemoveLargeCommunities,
    RemovePrivateAs,
    SetCommunities,
    SetLocalPref,
    SetMed,
    SetNextHop,
    SetWeight,
    is_private_asn,
    parse_communities,
)
from bgpemu.policy.aspath import prepend_as_path
from bgpemu.policy.base import NO_PREFIXES
from bgpemu.rib.path import PeerInfo
from bgpemu.wire.messages import AsPathSegment, SegmentType

from .helpers import EBGP_PEER, IBGP_PEER, LOCAL_AS, V6_PEER, aset, context, path, seq

C1, C2, C3 = parse_communities("65001:1", "65001:2", "65001:3")


def test_set_local_pref_med_weight() -> None:
    p = path()
    ctx = context()
    assert SetLocalPref(200).apply(p, ctx).attributes.local_pref == 200
    assert SetMed(10).apply(p, ctx).attributes.med == 10
    assert SetMed(None).apply(SetMed(10).apply(p, ctx), ctx).attributes.med is None
    assert SetWeight(100).apply(p, ctx).weight == 100
    # the input is never modified (frozen paths)
    assert p.attributes.local_pref is None
    assert p.weight == 0


def test_action_without_effect_returns_the_same_object() -> None:
    p = path(communities=(C1,))
    ctx = context()
    assert SetWeight(0).apply(p, ctx) is p
    assert AddCommunities((C1,)).apply(p, ctx) is p
    assert RemoveCommunities((C2,)).apply(p, ctx) is p


@pytest.mark.parametrize(
    "build",
    [
        lambda: SetLocalPref(-1),
        lambda: SetLocalPref(2**32),
        lambda: SetMed(2**32),
        lambda: SetWeight(-1),
        lambda: SetNextHop("nowhere"),
        lambda: Prepend(count=0),
        lambda: Prepend(count=256),
        lambda: Prepend(asn=2**32),
    ],
)
def test_actions_reject_bad_arguments(build: Callable[[], object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        build()


# (action, prefix, peer, our v4 / v6 next hop, expected next hop)
NEXT_HOP_CASES = [
    (SetNextHop("198.51.100.1"), "10.1.0.0/24", EBGP_PEER, None, None, "198.51.100.1"),
    (SetNextHop("198.51.100.1"), "2001:db8:1::/48", EBGP_PEER, None, None, "2001:db8::2"),
    (SetNextHop("2001:db8::99"), "2001:db8:1::/48", EBGP_PEER, None, None, "2001:db8::99"),
    (SetNextHop("2001:db8::99"), "10.1.0.0/24", EBGP_PEER, None, None, "192.0.2.2"),
    (SetNextHop("self"), "10.1.0.0/24", EBGP_PEER, "192.0.2.1", "2001:db8::1", "192.0.2.1"),
    (SetNextHop("self"), "2001:db8:1::/48", EBGP_PEER, "192.0.2.1", "2001:db8::1", "2001:db8::1"),
    (SetNextHop("self"), "10.1.0.0/24", EBGP_PEER, None, None, "192.0.2.2"),  # unknown: kept
    (SetNextHop("peer"), "10.1.0.0/24", IBGP_PEER, None, None, "192.0.2.3"),
    (SetNextHop("peer"), "2001:db8:1::/48", V6_PEER, None, None, "2001:db8::4"),
    (SetNextHop("peer"), "2001:db8:1::/48", IBGP_PEER, None, None, "2001:db8::2"),  # v4 peer
]


@pytest.mark.parametrize(("action", "prefix", "peer", "v4", "v6", "expected"), NEXT_HOP_CASES)
def test_set_next_hop(
    action: SetNextHop,
    prefix: str,
    peer: PeerInfo,
    v4: str | None,
    v6: str | None,
    expected: str,
) -> None:
    result = action.apply(path(prefix), context(peer, Direction.EXPORT, v4=v4, v6=v6))
    assert result.attributes.next_hop == expected


@pytest.mark.parametrize(
    ("action", "before", "after"),
    [
        (Prepend(), (seq(65002),), (seq(LOCAL_AS, 65002),)),
        (Prepend(count=3), (seq(65002),), (seq(LOCAL_AS, LOCAL_AS, LOCAL_AS, 65002),)),
        (Prepend(65009, 2), (seq(65002),), (seq(65009, 65009, 65002),)),
        (Prepend(), (), (seq(LOCAL_AS),)),
        (Prepend(), (aset(65002, 65003),), (seq(LOCAL_AS), aset(65002, 65003))),
        (
            Prepend(),
            (AsPathSegment(SegmentType.AS_CONFED_SEQUENCE, (64512,)),),
            (seq(LOCAL_AS), AsPathSegment(SegmentType.AS_CONFED_SEQUENCE, (64512,))),
        ),
    ],
)
def test_prepend(
    action: Prepend, before: tuple[AsPathSegment, ...], after: tuple[AsPathSegment, ...]
) -> None:
    assert action.apply(path(as_path=before), context()).attributes.as_path == after


def test_prepend_as_path_with_zero_count_is_identity() -> None:
    assert prepend_as_path((seq(1),), 2, 0) == (seq(1),)


@pytest.mark.parametrize(
    ("action", "before", "after"),
    [
        (AddCommunities((C2,)), (C1,), (C1, C2)),
        (AddCommunities((C1, C2)), (C2,), (C2, C1)),  # existing order kept, no duplicates
        (AddCommunities((C1,)), (), (C1,)),
        (RemoveCommunities((C1,)), (C1, C2), (C2,)),
        (RemoveCommunities((C1, C3)), (C1, C2, C3), (C2,)),
        (RemoveCommunities((C1,)), (), ()),
        (SetCommunities((C3,)), (C1, C2), (C3,)),
        (SetCommunities(()), (C1, C2), ()),
        (SetCommunities((C1, C1)), (), (C1,)),
    ],
)
def test_community_actions(
    action: AddCommunities | RemoveCommunities | SetCommunities,
    before: tuple[int, ...],
    after: tuple[int, ...],
) -> None:
    assert action.apply(path(communities=before), context()).attributes.communities == after


def test_community_actions_accept_text() -> None:
    action = AddCommunities(("65001:1", "no-export"))  # type: ignore[arg-type]
    assert action.values == (C1, 0xFFFFFF01)
    assert action.describe() == "add communities [65001:1, no-export]"


L1, L2 = (65001, 0, 1), (65001, 0, 2)


def test_large_community_actions() -> None:
    p = path(large=(L1,))
    ctx = context()
    assert AddLargeCommunities((L2, L1)).apply(p, ctx).attributes.large_communities == (L1, L2)
    assert RemoveLargeCommunities((L1,)).apply(p, ctx).attributes.large_communities == ()
    text = AddLargeCommunities(("65001:0:2",))  # type: ignore[arg-type]
    assert text.values == (L2,)
    assert RemoveLargeCommunities((L1,)).describe() == "remove large-communities [65001:0:1]"


@pytest.mark.parametrize(
    ("asn", "private"),
    [
        (64511, False),
        (64512, True),
        (65534, True),
        (65535, False),
        (4199999999, False),
        (4200000000, True),
        (4294967294, True),
        (4294967295, False),
        (65002, True),
        (3356, False),
    ],
)
def test_is_private_asn_rfc_6996_ranges(asn: int, private: bool) -> None:
    assert is_private_asn(asn) is private


PUBLIC = 3356
PRIVATE_AS_CASES = [
    # ALL: every private ASN goes, wherever it is
    (RemovePrivateAs(), (seq(PUBLIC, 65002, 174),), (seq(PUBLIC, 174),)),
    (RemovePrivateAs(), (seq(65002, 4200000001),), ()),
    (RemovePrivateAs(), (seq(PUBLIC), aset(65002, 174)), (seq(PUBLIC), aset(174))),
    (RemovePrivateAs(), (seq(PUBLIC), aset(65002)), (seq(PUBLIC),)),  # empty set dropped
    # IF_ALL_PRIVATE: only an all-private path is stripped
    (RemovePrivateAs(PrivateAsMode.IF_ALL_PRIVATE), (seq(65002, 65003),), ()),
    (
        RemovePrivateAs(PrivateAsMode.IF_ALL_PRIVATE),
        (seq(65002, PUBLIC),),
        (seq(65002, PUBLIC),),
    ),
    # replace-as keeps the length
    (
        RemovePrivateAs(replace_as=True),
        (seq(65002, PUBLIC, 65003),),
        (seq(LOCAL_AS, PUBLIC, LOCAL_AS),),
    ),
    # confederation segments are left alone
    (
        RemovePrivateAs(),
        (AsPathSegment(SegmentType.AS_CONFED_SEQUENCE, (64512,)), seq(65002, PUBLIC)),
        (AsPathSegment(SegmentType.AS_CONFED_SEQUENCE, (64512,)), seq(PUBLIC)),
    ),
    (RemovePrivateAs(), (seq(PUBLIC, 174),), (seq(PUBLIC, 174),)),
]


@pytest.mark.parametrize(("action", "before", "after"), PRIVATE_AS_CASES)
def test_remove_private_as(
    action: RemovePrivateAs,
    before: tuple[AsPathSegment, ...],
    after: tuple[AsPathSegment, ...],
) -> None:
    ctx = context(EBGP_PEER, Direction.EXPORT)
    assert action.apply(path(as_path=before), ctx).attributes.as_path == after


def test_remove_private_as_describe() -> None:
    assert str(RemovePrivateAs().describe()) == "remove-private-as all"
    assert (
        RemovePrivateAs(PrivateAsMode.IF_ALL_PRIVATE, replace_as=True).describe()
        == "remove-private-as if-all-private replace-as"
    )


def test_as_override_replaces_the_peer_asn_on_export_only() -> None:
    # EBGP_PEER is AS 65002: a customer site; the path came from its other site.
    before = (seq(65005, 65002), aset(65002, 65006))
    p = path(as_path=before)
    exported = AsOverride().apply(p, context(EBGP_PEER, Direction.EXPORT))
    assert exported.attributes.as_path == (seq(65005, LOCAL_AS), aset(LOCAL_AS, 65006))
    assert AsOverride().apply(p, context(EBGP_PEER, Direction.IMPORT)) is p
    other = AsOverride().apply(p, context(V6_PEER, Direction.EXPORT))  # AS 65004: absent
    assert other is p


def test_action_describe_texts() -> None:
    assert SetLocalPref(200).describe() == "set local-pref 200"
    assert SetMed(5).describe() == "set med 5"
    assert SetMed(None).describe() == "remove med"
    assert SetWeight(7).describe() == "set weight 7"
    assert SetNextHop("self").describe() == "set next-hop self"
    assert Prepend(count=2).describe() == "prepend own-as x2"
    assert Prepend(65009).describe() == "prepend 65009 x1"
    assert SetCommunities(()).describe() == "set communities []"
    assert RemoveCommunities((C1,)).describe() == "remove communities [65001:1]"
    assert AddLargeCommunities((L1,)).describe() == "add large-communities [65001:0:1]"
    assert AsOverride().describe() == "as-override"


@pytest.mark.parametrize(
    ("kind", "text", "values", "described"),
    [
        (AddCommunities, ("65001:1", "65001:1"), (C1, C1), "add communities [65001:1, 65001:1]"),
        (RemoveCommunities, ("no-export",), (0xFFFFFF01,), "remove communities [no-export]"),
        (SetCommunities, ("65001:1", "65001:1"), (C1,), "set communities [65001:1]"),
        (AddLargeCommunities, ("65001:0:1",), (L1,), "add large-communities [65001:0:1]"),
        (
            RemoveLargeCommunities,
            ("65001:0:1", "65001:0:2"),
            (L1, L2),
            "remove large-communities [65001:0:1, 65001:0:2]",
        ),
    ],
)
def test_every_community_action_parses_its_text_and_describes_it(
    kind: type[Any], text: tuple[str, ...], values: tuple[object, ...], described: str
) -> None:
    """Text values are parsed (only ``set`` drops repeats), the description prints them
    back, and an action survives the pickling of the lab's worker protocol."""
    action = kind(text)
    assert action.values == values
    assert action.describe() == described
    assert action.sensitive_prefixes == NO_PREFIXES
    again = pickle.loads(pickle.dumps(action))
    assert again == action
    assert type(again) is kind
    assert again.values == values


def test_community_actions_of_different_kinds_are_never_equal() -> None:
    same_values: list[object] = [
        AddCommunities((C1,)),
        RemoveCommunities((C1,)),
        SetCommunities((C1,)),
        AddLargeCommunities((L1,)),
        RemoveLargeCommunities((L1,)),
    ]
    for i, one in enumerate(same_values):
        for j, other in enumerate(same_values):
            assert (one == other) is (i == j)
    assert len(set(same_values)) == len(same_values)
