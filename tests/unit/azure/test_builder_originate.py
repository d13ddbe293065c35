"""SpeakerDraft.originate: each prefix announced once, the first announcement kept, in
the order first announced; IPv6 prefixes left out (azure/roles/_builder.py)."""

from __future__ import annotations

from bgpemu.azure.roles._builder import SpeakerDraft, ipv4_only


def _draft() -> SpeakerDraft:
    return SpeakerDraft.azure(
        name="hub", node="hub", role="vwan_hub", instance=0, address="10.0.0.1", asn=65515
    )


def test_a_prefix_is_announced_once_with_its_first_attributes() -> None:
    draft = _draft()
    draft.originate("10.1.0.0/16", med=10)
    draft.originate("10.2.0.0/16", large_communities=((12076, 1, 2),))
    draft.originate("10.1.0.0/16", med=20, prepend=3)
    draft.originate("10.3.0.0/16")
    draft.originate("10.2.0.0/16")
    assert [(r.prefix, r.med, r.large_communities, r.as_path_prepend) for r in draft.routes] == [
        ("10.1.0.0/16", 10, (), 0),
        ("10.2.0.0/16", None, ((12076, 1, 2),), 0),
        ("10.3.0.0/16", None, (), 0),
    ]


def test_ipv6_prefixes_are_not_announced() -> None:
    draft = _draft()
    draft.originate("2001:db8::/32")
    draft.originate("10.1.0.0/16")
    draft.originate("2001:db8::/32")
    assert [r.prefix for r in draft.routes] == ["10.1.0.0/16"]


def test_many_prefixes_keep_their_order() -> None:
    draft = _draft()
    prefixes = [f"10.{i // 256}.{i % 256}.0/24" for i in range(2000)]
    for prefix in prefixes + prefixes[::-1]:
        draft.originate(prefix)
    assert [r.prefix for r in draft.routes] == prefixes


def test_ipv4_only_reads_every_form_ipaddress_reads() -> None:
    assert ipv4_only("10.0.0.0/8")
    assert ipv4_only("10.0.0.1/8")  # host bits allowed (strict=False)
    assert ipv4_only("10.0.0.0/255.0.0.0")
    assert ipv4_only("10.0.0.1")
    assert not ipv4_only("2001:db8::/32")
    assert not ipv4_only("::ffff:10.0.0.0/104")
