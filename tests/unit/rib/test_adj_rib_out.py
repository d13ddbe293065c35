"""AdjRibOut diff engine (RFC 4271 §9.2): withdraw first, grouping, no-op suppression."""

from __future__ import annotations

from bgpemu.rib.adj_rib_out import AdjRibOut, Announce, Withdraw
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST

from .factories import attrs, seq

X = attrs(seq(65001))
Y = attrs(seq(65002))


def test_announcements_grouped_by_attributes_in_first_seen_order() -> None:
    out = AdjRibOut()
    out.set(IPV4_UNICAST, "10.0.3.0/24", Y)
    out.set(IPV4_UNICAST, "10.0.2.0/24", X)
    out.set(IPV4_UNICAST, "10.0.1.0/24", Y)
    assert out.pending()
    assert out.flush() == [
        Announce(family=IPV4_UNICAST, attributes=Y, prefixes=("10.0.1.0/24", "10.0.3.0/24")),
        Announce(family=IPV4_UNICAST, attributes=X, prefixes=("10.0.2.0/24",)),
    ]
    assert not out.pending()
    assert out.flush() == []
    assert out.sent(IPV4_UNICAST, "10.0.1.0/24") is Y
    assert out.count() == 3


def test_equal_attribute_objects_share_a_group() -> None:
    out = AdjRibOut()
    x2 = attrs(seq(65001))
    assert x2 is not X
    out.set(IPV4_UNICAST, "10.0.1.0/24", X)
    out.set(IPV4_UNICAST, "10.0.3.0/24", Y)
    out.set(IPV4_UNICAST, "10.0.2.0/24", x2)
    exports = out.flush()
    assert exports == [
        Announce(family=IPV4_UNICAST, attributes=X, prefixes=("10.0.1.0/24", "10.0.2.0/24")),
        Announce(family=IPV4_UNICAST, attributes=Y, prefixes=("10.0.3.0/24",)),
    ]


def test_withdrawals_come_first_across_families() -> None:
    out = AdjRibOut()
    out.set(IPV4_UNICAST, "10.0.1.0/24", X)
    out.set(IPV6_UNICAST, "2001:db8:1::/48", X)
    out.set(IPV6_UNICAST, "2001:db8:2::/48", X)
    out.flush()
    out.set(IPV6_UNICAST, "2001:db8:3::/48", Y)
    out.set(IPV4_UNICAST, "10.0.2.0/24", Y)
    out.set(IPV6_UNICAST, "2001:db8:2::/48", None)
    out.set(IPV4_UNICAST, "10.0.1.0/24", None)
    out.set(IPV6_UNICAST, "2001:db8:1::/48", None)
    assert out.flush() == [
        Withdraw(family=IPV4_UNICAST, prefixes=("10.0.1.0/24",)),
        Withdraw(family=IPV6_UNICAST, prefixes=("2001:db8:1::/48", "2001:db8:2::/48")),
        Announce(family=IPV4_UNICAST, attributes=Y, prefixes=("10.0.2.0/24",)),
        Announce(family=IPV6_UNICAST, attributes=Y, prefixes=("2001:db8:3::/48",)),
    ]
    assert out.count(IPV4_UNICAST) == 1
    assert out.count(IPV6_UNICAST) == 1


def test_setting_the_sent_state_again_sends_nothing() -> None:
    out = AdjRibOut()
    out.set(IPV4_UNICAST, "10.0.1.0/24", X)
    out.flush()
    out.set(IPV4_UNICAST, "10.0.1.0/24", X)
    out.set(IPV4_UNICAST, "10.0.1.0/24", attrs(seq(65001)))  # equal, another object
    assert not out.pending()
    assert out.flush() == []


def test_change_then_revert_before_flush_sends_nothing() -> None:
    out = AdjRibOut()
    out.set(IPV4_UNICAST, "10.0.1.0/24", X)
    out.flush()
    out.set(IPV4_UNICAST, "10.0.1.0/24", Y)
    out.set(IPV4_UNICAST, "10.0.1.0/24", None)
    out.set(IPV4_UNICAST, "10.0.1.0/24", X)
    assert not out.pending()
    assert out.flush() == []


def test_withdrawing_what_was_never_sent_sends_nothing() -> None:
    out = AdjRibOut()
    out.set(IPV4_UNICAST, "10.0.1.0/24", None)
    assert not out.pending()
    out.set(IPV4_UNICAST, "10.0.2.0/24", X)
    out.set(IPV4_UNICAST, "10.0.2.0/24", None)  # announced and withdrawn before a flush
    assert out.flush() == []
    assert out.count() == 0


def test_an_attribute_change_is_an_implicit_withdraw_not_a_withdrawal() -> None:
    out = AdjRibOut()
    out.set(IPV4_UNICAST, "10.0.1.0/24", X)
    out.flush()
    out.set(IPV4_UNICAST, "10.0.1.0/24", Y)
    assert out.flush() == [
        Announce(family=IPV4_UNICAST, attributes=Y, prefixes=("10.0.1.0/24",)),
    ]
    assert out.sent(IPV4_UNICAST, "10.0.1.0/24") is Y


def test_full_table_resends_everything_advertised() -> None:
    out = AdjRibOut()
    out.set(IPV4_UNICAST, "10.0.2.0/24", X)
    out.set(IPV4_UNICAST, "10.0.1.0/24", X)
    out.set(IPV4_UNICAST, "10.0.3.0/24", Y)
    out.set(IPV6_UNICAST, "2001:db8::/32", Y)
    out.flush()
    out.set(IPV4_UNICAST, "10.0.4.0/24", X)  # pending, not yet advertised
    assert out.full_table(IPV4_UNICAST) == [
        Announce(family=IPV4_UNICAST, attributes=X, prefixes=("10.0.1.0/24", "10.0.2.0/24")),
        Announce(family=IPV4_UNICAST, attributes=Y, prefixes=("10.0.3.0/24",)),
    ]
    assert out.full_table(IPV6_UNICAST) == [
        Announce(family=IPV6_UNICAST, attributes=Y, prefixes=("2001:db8::/32",)),
    ]
    assert out.pending()  # full_table does not consume pending changes


def test_full_table_of_an_empty_family() -> None:
    out = AdjRibOut()
    assert out.full_table(IPV6_UNICAST) == []
    out.set(IPV4_UNICAST, "10.0.1.0/24", X)
    out.flush()
    out.set(IPV4_UNICAST, "10.0.1.0/24", None)
    out.flush()
    assert out.full_table(IPV4_UNICAST) == []
    assert out.sent(IPV6_UNICAST, "2001:db8::/32") is None


def test_clear_forgets_sent_and_pending() -> None:
    out = AdjRibOut()
    out.set(IPV4_UNICAST, "10.0.1.0/24", X)
    out.flush()
    out.set(IPV4_UNICAST, "10.0.2.0/24", X)
    out.clear()
    assert not out.pending()
    assert out.count() == 0
    assert out.flush() == []
    # After a reset the same route is new again.
    out.set(IPV4_UNICAST, "10.0.1.0/24", X)
    assert out.flush() == [Announce(family=IPV4_UNICAST, attributes=X, prefixes=("10.0.1.0/24",))]
