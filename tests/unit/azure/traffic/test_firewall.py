"""Azure Firewall as a hop (§7 of shared/azure-traffic.md; decisions §9.8, §9.9)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgpemu.azure.security import (
    AzureFirewall,
    FirewallAction,
    FirewallRule,
    FirewallRuleCollection,
    FirewallRuleCollectionGroup,
    FirewallRuleType,
)
from bgpemu.azure.traffic.firewall import (
    DEFAULT_DENY,
    FirewallPolicy,
    FirewallVerdict,
    firewall_decision,
    processing_order,
)
from bgpemu.azure.traffic.flow import AddressSet, Flow

ALLOW = FirewallAction.ALLOW
DENY = FirewallAction.DENY
DNAT = FirewallAction.DNAT


def network(
    name: str,
    *,
    protocols: tuple[str, ...] = ("TCP",),
    sources: tuple[str, ...] = ("*",),
    destinations: tuple[str, ...] = ("*",),
    ports: tuple[str, ...] = ("*",),
) -> FirewallRule:
    return FirewallRule(
        name=name,
        rule_type=FirewallRuleType.NETWORK,
        ip_protocols=protocols,
        source_addresses=sources,
        destination_addresses=destinations,
        destination_ports=ports,
    )


def application(
    name: str,
    *,
    sources: tuple[str, ...] = ("*",),
    protocols: tuple[str, ...] = ("Http:80", "Https:443"),
    fqdns: tuple[str, ...] = ("www.google.com",),
) -> FirewallRule:
    return FirewallRule(
        name=name,
        rule_type=FirewallRuleType.APPLICATION,
        source_addresses=sources,
        protocols=protocols,
        target_fqdns=fqdns,
    )


def dnat(
    name: str,
    destination: str,
    port: str,
    to: str,
    to_port: str | None = None,
    *,
    protocols: tuple[str, ...] = ("TCP",),
) -> FirewallRule:
    return FirewallRule(
        name=name,
        rule_type=FirewallRuleType.NAT,
        ip_protocols=protocols,
        source_addresses=("*",),
        destination_addresses=(destination,),
        destination_ports=(port,),
        translated_address=to,
        translated_port=to_port,
    )


def collection(
    name: str, priority: int, action: FirewallAction, *rules: FirewallRule
) -> FirewallRuleCollection:
    return FirewallRuleCollection(name=name, priority=priority, action=action, rules=rules)


def group(
    name: str, priority: int, *collections: FirewallRuleCollection
) -> FirewallRuleCollectionGroup:
    return FirewallRuleCollectionGroup(name=name, priority=priority, rule_collections=collections)


def firewall(*groups: FirewallRuleCollectionGroup) -> AzureFirewall:
    return AzureFirewall(
        name="hub-fw", vnet="hub", private_ip_address="10.0.1.4", rule_collection_groups=groups
    )


def tcp(source: str, destination: str, port: int) -> Flow:
    return Flow.parse("tcp", source, 50000, destination, port)


# §8 S8 and §7.1: the documented examples ---------------------------------------------


def test_s8_network_allow_beats_application_deny() -> None:
    """Doc example 1: a network rule match ends processing, even where an application
    rule would have denied the FQDN."""
    fw = firewall(
        group(
            "DefaultRuleCollectionGroup",
            200,
            collection("App-deny", 100, DENY, application("deny-google")),
            collection("Net-allow", 200, ALLOW, network("web", ports=("80", "443"))),
        )
    )
    decision = firewall_decision(fw, tcp("10.1.0.4", "142.250.74.36", 443))
    assert decision.verdict is FirewallVerdict.ALLOW
    assert decision.rule_type is FirewallRuleType.NETWORK
    assert decision.rule_name == "DefaultRuleCollectionGroup/Net-allow/web"
    assert decision.action is ALLOW


@pytest.mark.parametrize(
    ("deny_priority", "allow_priority", "verdict", "rule_name"),
    [
        (100, 200, FirewallVerdict.DENY, "rcg/Deny-collection/deny-ssh"),
        (300, 200, FirewallVerdict.ALLOW, "rcg/Allow-collection/allow-ssh"),
    ],
)
def test_s8_collection_priority_decides_between_allow_and_deny(
    deny_priority: int, allow_priority: int, verdict: FirewallVerdict, rule_name: str
) -> None:
    """Doc example 2: Deny-collection 100 beats Allow-collection 200 for SSH (and the
    reverse priorities allow it: the order written does not decide)."""
    fw = firewall(
        group(
            "rcg",
            500,
            collection(
                "Allow-collection", allow_priority, ALLOW, network("allow-ssh", ports=("22",))
            ),
            collection("Deny-collection", deny_priority, DENY, network("deny-ssh", ports=("22",))),
        )
    )
    decision = firewall_decision(fw, tcp("10.1.0.4", "10.2.0.4", 22))
    assert (decision.verdict, decision.rule_name) == (verdict, rule_name)


def _documented_policy() -> tuple[AzureFirewall, tuple[FirewallRuleCollectionGroup, ...]]:
    """The policy of FW-RULES' example: a parent policy and a child policy (§7.1)."""
    web = network("r", ports=("80",))
    app = application("a")
    nat = dnat("d", "203.0.113.10", "80", "10.0.2.4")
    parent = (
        group(
            "BaseRCG2",
            300,
            collection("NetworkRC2", 1300, ALLOW, web),
            collection("AppRC2", 1200, ALLOW, app),
        ),
        group(
            "BaseRCG1",
            200,
            collection("NetworkRC1", 800, ALLOW, web),
            collection("DNATRC3", 610, DNAT, nat),
            collection("DNATRC1", 600, DNAT, nat),
        ),
    )
    child = firewall(
        group(
            "ChildRCG2",
            650,
            collection("ChDNATRC3", 3000, DNAT, nat),
            collection("ChAppRC2", 2000, ALLOW, app),
            collection("ChNetRC2", 1100, ALLOW, web),
        ),
        group(
            "ChildRCG1",
            300,
            collection("ChAppRC1", 900, ALLOW, app),
            collection("ChNetRC1", 700, ALLOW, web),
        ),
    )
    return child, parent


def test_policy_example_processing_order() -> None:
    """§7.1 / §8 S8: the doc's ten-step order (groups written out of order here)."""
    fw, parent = _documented_policy()
    order = processing_order(fw, parent_groups=parent)
    assert [item.collection.name for item in order] == [
        "DNATRC1",
        "DNATRC3",
        "ChDNATRC3",
        "NetworkRC1",
        "NetworkRC2",
        "ChNetRC1",
        "ChNetRC2",
        "AppRC2",
        "ChAppRC1",
        "ChAppRC2",
    ]
    assert [item.parent for item in order[:3]] == [True, True, False]


def test_parent_groups_come_first_whatever_the_priorities() -> None:
    """§7.1 (1): a child group of priority 100 is processed after a parent group of 200,
    so the parent's deny decides."""
    parent = (group("parent", 200, collection("deny-all", 65000, DENY, network("no"))),)
    fw = firewall(group("child", 100, collection("allow-all", 100, ALLOW, network("yes"))))
    assert [item.group.name for item in processing_order(fw, parent_groups=parent)] == [
        "parent",
        "child",
    ]
    decision = firewall_decision(fw, tcp("10.1.0.4", "10.2.0.4", 443), parent_groups=parent)
    assert (decision.verdict, decision.rule_name) == (FirewallVerdict.DENY, "parent/deny-all/no")
    alone = firewall_decision(fw, tcp("10.1.0.4", "10.2.0.4", 443))
    assert alone.verdict is FirewallVerdict.ALLOW


def test_groups_before_collections() -> None:
    """§7.1 (3): group priority first; a collection of priority 100 in group 300 comes
    after a collection of priority 65000 in group 200."""
    fw = firewall(
        group("late", 300, collection("first-number", 100, ALLOW, network("yes"))),
        group("early", 200, collection("big-number", 65000, DENY, network("no"))),
    )
    decision = firewall_decision(fw, tcp("10.1.0.4", "10.2.0.4", 443))
    assert decision.rule_name == "early/big-number/no"


# default deny, DNAT, undetermined ------------------------------------------------------


def test_default_deny() -> None:
    """§7.1: nothing passes until a rule allows it."""
    for fw in (
        firewall(),
        firewall(group("g", 100, collection("c", 100, ALLOW, network("udp", protocols=("UDP",))))),
    ):
        decision = firewall_decision(fw, tcp("10.1.0.4", "10.2.0.4", 443))
        assert decision.verdict is FirewallVerdict.DENY
        assert decision.rule_name == DEFAULT_DENY
        assert (decision.rule_collection_group, decision.rule_collection, decision.rule) == (
            None,
            None,
            None,
        )
        assert decision.action is None
        assert "default deny" in decision.reason
        assert not decision.replies_pass


def test_dnat_translates_and_skips_network_rules() -> None:
    """Decision §9.8 (the 2026 text): DNAT-matched traffic is allowed and not processed
    by network rules, even an explicit deny; the translated destination is part of the
    decision."""
    fw = firewall(
        group("net", 100, collection("deny-tcp", 100, DENY, network("all-tcp"))),
        group(
            "nat",
            200,
            collection("inbound", 100, DNAT, dnat("web", "203.0.113.10", "8080", "10.0.2.4", "80")),
        ),
    )
    flow = tcp("198.51.100.7", "203.0.113.10", 8080)
    decision = firewall_decision(fw, flow)
    assert decision.verdict is FirewallVerdict.ALLOW
    assert (decision.action, decision.rule_type) == (DNAT, FirewallRuleType.NAT)
    assert decision.rule_name == "nat/inbound/web"
    assert (decision.translated_address, decision.translated_port) == ("10.0.2.4", 80)
    assert decision.forwarded(flow) == Flow("Tcp", "198.51.100.7", 50000, "10.0.2.4", 80)
    other_port = firewall_decision(fw, tcp("198.51.100.7", "203.0.113.10", 8081))
    assert other_port.rule_name == "net/deny-tcp/all-tcp"
    assert other_port.forwarded(flow) == flow


def test_dnat_without_translated_port_keeps_the_port() -> None:
    fw = firewall(
        group("g", 100, collection("c", 100, DNAT, dnat("r", "203.0.113.10", "443", "10.0.2.4")))
    )
    flow = tcp("198.51.100.7", "203.0.113.10", 443)
    assert firewall_decision(fw, flow).forwarded(flow).destination_port == 443


def test_application_rules_leave_web_ports_undetermined() -> None:
    """Decision §9.9: TCP to a port an application rule names (80, 443, 1433 by default),
    from a source it names, with no DNAT or network match, is undetermined; otherwise
    default deny."""
    fw = firewall(
        group(
            "g",
            100,
            collection("ssh", 100, ALLOW, network("ssh", ports=("22",))),
            collection(
                "web",
                200,
                ALLOW,
                application("google", sources=("10.1.0.0/16",), protocols=("Https",)),
                application("sql", sources=("10.1.0.0/16",), protocols=(), fqdns=("db.example",)),
            ),
        )
    )
    undetermined = firewall_decision(fw, tcp("10.1.0.4", "142.250.74.36", 443))
    assert undetermined.verdict is FirewallVerdict.UNDETERMINED
    assert undetermined.rule_name == "g/web/google"
    assert undetermined.reason.startswith("undetermined — application rules (FQDN) out of scope")
    assert firewall_decision(fw, tcp("10.1.0.4", "142.250.74.36", 1433)).rule_name == "g/web/sql"
    assert firewall_decision(fw, tcp("10.1.0.4", "142.250.74.36", 22)).rule_name == "g/ssh/ssh"
    for flow in (
        tcp("10.1.0.4", "142.250.74.36", 8443),  # no application rule names the port
        tcp("10.9.0.4", "142.250.74.36", 443),  # nor the source
        Flow.parse("udp", "10.1.0.4", 50000, "142.250.74.36", 443),  # nor UDP
    ):
        assert firewall_decision(fw, flow).rule_name == DEFAULT_DENY, flow


# protocols, ports, addresses, tags ---------------------------------------------------


@pytest.mark.parametrize(
    ("protocols", "ports", "matched"),
    [
        (("TCP",), ("*",), {"Tcp"}),
        (("UDP",), ("*",), {"Udp"}),
        (("ICMP",), ("*",), {"Icmp"}),
        (("Any",), ("*",), {"Tcp", "Udp", "Icmp", "Esp", "Ah"}),
        (("Any",), ("443",), {"Tcp", "Udp"}),  # explicit ports: a TCP+UDP rule
        (("TCP", "ICMP"), ("443",), {"Tcp"}),
        (("ICMP",), ("443",), set()),  # a TCP+UDP rule that is neither: matches nothing
        (("tcp", "udp"), ("400-500",), {"Tcp", "Udp"}),
    ],
)
def test_ip_protocols(
    protocols: tuple[str, ...], ports: tuple[str, ...], matched: set[str]
) -> None:
    """§7.1: TCP, UDP, ICMP or Any (every IP protocol); explicit ports mean TCP+UDP."""
    fw = firewall(
        group("g", 100, collection("c", 100, ALLOW, network("r", protocols=protocols, ports=ports)))
    )
    policy = FirewallPolicy.of(fw)
    allowed = {
        name
        for name in ("Tcp", "Udp", "Icmp", "Esp", "Ah")
        if policy.decide(Flow(name, "10.1.0.4", 1000, "10.2.0.4", 443)).verdict
        is FirewallVerdict.ALLOW
    }
    assert allowed == matched


@pytest.mark.parametrize(
    ("ports", "allowed", "denied"),
    [
        (("22",), (22,), (21, 23)),
        (("1000-2000",), (1000, 1500, 2000), (999, 2001)),
        (("80,443", "8080"), (80, 443, 8080), (81, 444)),
        (("*",), (0, 1, 65535), ()),
    ],
)
def test_destination_ports(
    ports: tuple[str, ...], allowed: tuple[int, ...], denied: tuple[int, ...]
) -> None:
    policy = FirewallPolicy.of(
        firewall(group("g", 100, collection("c", 100, ALLOW, network("r", ports=ports))))
    )
    for port in allowed:
        assert policy.decide(tcp("10.1.0.4", "10.2.0.4", port)).verdict is FirewallVerdict.ALLOW
    for port in denied:
        assert policy.decide(tcp("10.1.0.4", "10.2.0.4", port)).verdict is FirewallVerdict.DENY


def test_source_and_destination_addresses() -> None:
    """CIDRs, single addresses and '*' on both sides (§7.1)."""
    policy = FirewallPolicy.of(
        firewall(
            group(
                "g",
                100,
                collection(
                    "c",
                    100,
                    ALLOW,
                    network("cidr", sources=("10.1.0.0/16",), destinations=("10.2.0.4",)),
                    network("any-to-db", sources=("*",), destinations=("10.3.0.0/24", "10.4.0.4")),
                ),
            )
        )
    )
    assert policy.decide(tcp("10.1.255.1", "10.2.0.4", 1)).rule == "cidr"
    assert policy.decide(tcp("10.1.0.4", "10.2.0.5", 1)).rule is None
    assert policy.decide(tcp("10.5.0.4", "10.2.0.4", 1)).rule is None
    assert policy.decide(tcp("192.0.2.1", "10.3.0.200", 1)).rule == "any-to-db"
    assert policy.decide(tcp("192.0.2.1", "10.4.0.4", 1)).rule == "any-to-db"


def test_service_tags_as_destination_expand_from_the_input() -> None:
    """Service tags are accepted as destination only (§7.1 [TAGS]); their expansion is an
    input (the firewall subnet's, §3), a mapping or a function; classic spellings count."""
    fw = firewall(
        group(
            "g",
            100,
            collection("c", 100, ALLOW, network("to-vnet", destinations=("VIRTUAL_NETWORK",))),
        )
    )
    tags = {"VirtualNetwork": AddressSet.of(("10.0.0.0/16", "10.1.0.0/16"))}
    flow_in, flow_out = tcp("10.9.0.4", "10.1.0.4", 443), tcp("10.9.0.4", "10.2.0.4", 443)
    assert firewall_decision(fw, flow_in, tags).verdict is FirewallVerdict.ALLOW
    assert firewall_decision(fw, flow_out, tags).verdict is FirewallVerdict.DENY
    assert firewall_decision(fw, flow_in, tags.__getitem__).verdict is FirewallVerdict.ALLOW
    with pytest.raises(ValueError, match="no expansion of service tag 'VirtualNetwork'"):
        firewall_decision(fw, flow_in)
    as_source = firewall(
        group(
            "g", 100, collection("c", 100, ALLOW, network("from-vnet", sources=("VirtualNetwork",)))
        )
    )
    with pytest.raises(
        ValueError,
        match="rule 'from-vnet', source_addresses: service tag 'VirtualNetwork' is accepted "
        "as a destination only",
    ):
        FirewallPolicy.of(as_source)


def test_statefulness_and_snat_are_reported() -> None:
    """§7.1: replies of an allowed flow pass, an allow A->B allows no new B->A; §7.2: a
    private destination keeps its source, a public one would be SNATed."""
    fw = firewall(
        group("g", 100, collection("c", 100, ALLOW, network("out", sources=("10.1.0.0/16",))))
    )
    private = firewall_decision(fw, tcp("10.1.0.4", "10.2.0.4", 443))
    assert private.replies_pass
    assert private.source_nat is False
    assert "keeps the original source" in private.reason
    public = firewall_decision(fw, tcp("10.1.0.4", "52.1.2.3", 443))
    assert public.source_nat is True
    assert "would be SNATed" in public.reason
    reverse = firewall_decision(fw, tcp("10.1.0.4", "10.2.0.4", 443).reply())
    assert reverse.verdict is FirewallVerdict.DENY
    assert reverse.source_nat is None


def test_to_json_names_the_deciding_rule() -> None:
    fw = firewall(
        group(
            "rcg", 300, collection("Deny-collection", 100, DENY, network("deny-ssh", ports=("22",)))
        )
    )
    assert firewall_decision(fw, tcp("10.1.0.4", "10.2.0.4", 22)).to_json() == {
        "firewall": "hub-fw",
        "verdict": "deny",
        "action": "Deny",
        "ruleType": "NetworkRule",
        "ruleCollectionGroup": "rcg",
        "ruleCollection": "Deny-collection",
        "rule": "deny-ssh",
        "ruleName": "rcg/Deny-collection/deny-ssh",
        "reason": (
            "network rule 'deny-ssh' of Deny collection 'Deny-collection' (priority 100, "
            "group 'rcg' priority 300) is the first to match Tcp 10.1.0.4:50000 -> "
            "10.2.0.4:22 (see https://learn.microsoft.com/azure/firewall/rule-processing)"
        ),
        "translatedAddress": None,
        "translatedPort": None,
        "sourceNat": None,
        "stateful": True,
    }


# bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "action", "message"),
    [
        ((network("a"), application("b")), ALLOW, "rule collection 'c' mixes rule types"),
        ((network("a"),), DNAT, "rule collection 'c' has action DNAT but holds NetworkRule rules"),
        (
            (dnat("a", "203.0.113.1", "80", "10.0.0.4"),),
            ALLOW,
            "holds NAT rules but its action is Allow",
        ),
        ((network("a", protocols=("GRE",)),), ALLOW, "rule 'a', ip_protocols: 'GRE' is not TCP"),
        (
            (network("a", ports=("70000",)),),
            ALLOW,
            "rule 'a', destination_ports: port range '70000'",
        ),
        ((network("a", sources=()),), ALLOW, "rule 'a': no source_addresses"),
        (
            (network("a", destinations=("10.0.0.0/33",)),),
            ALLOW,
            "rule 'a', destination_addresses: '10.0.0.0/33'",
        ),
        (
            (network("a", destinations=("Storage",)),),
            ALLOW,
            "destination_addresses: 'Storage' is not an address",
        ),
        ((network("a", protocols=()),), ALLOW, "rule 'a': no ip_protocols"),
        (
            (application("a", protocols=("Ftp:21",)),),
            ALLOW,
            "protocols: protocol 'Ftp:21' is not Http",
        ),
        (
            (dnat("a", "203.0.113.1", "80", "10.0.0.4", "x"),),
            DNAT,
            "translated_port: 'x' is not a port",
        ),
        ((dnat("a", "203.0.113.1", "80", ""),), DNAT, "a DNAT rule needs translated_address"),
    ],
)
def test_bad_policies_are_named(
    rules: tuple[FirewallRule, ...], action: FirewallAction, message: str
) -> None:
    fw = firewall(group("g", 100, collection("c", 100, action, *rules)))
    with pytest.raises(ValueError, match="firewall 'hub-fw', rule collection group 'g'") as caught:
        FirewallPolicy.of(fw)
    assert message in str(caught.value)


# property: a deny collection placed first only turns flows into denies ----------------

_PREFIXES = ("*", "10.0.0.0/8", "10.1.0.0/16", "10.2.0.0/16", "10.1.0.4", "10.2.0.4", "52.0.0.0/8")
_HOSTS = ("10.1.0.4", "10.1.0.5", "10.2.0.4", "10.3.0.4", "52.1.2.3", "203.0.113.10")
_PORTS = ("*", "22", "80", "443", "1000-2000", "80,443")


@st.composite
def _network_rules(draw: st.DrawFn, name: str) -> FirewallRule:
    return network(
        name,
        protocols=tuple(draw(st.sets(st.sampled_from(("TCP", "UDP", "ICMP", "Any")), min_size=1))),
        sources=tuple(draw(st.sets(st.sampled_from(_PREFIXES), min_size=1, max_size=2))),
        destinations=tuple(draw(st.sets(st.sampled_from(_PREFIXES), min_size=1, max_size=2))),
        ports=tuple(draw(st.sets(st.sampled_from(_PORTS), min_size=1, max_size=2))),
    )


@st.composite
def _collections(draw: st.DrawFn, name: str) -> FirewallRuleCollection:
    kind = draw(st.sampled_from(("allow", "deny", "dnat", "app")))
    priority = draw(st.integers(100, 65000))
    count = draw(st.integers(1, 3))
    if kind == "dnat":
        rules = tuple(
            dnat(f"{name}-{i}", "203.0.113.10", draw(st.sampled_from(("80", "443"))), "10.2.0.4")
            for i in range(count)
        )
        return collection(name, priority, DNAT, *rules)
    if kind == "app":
        rules = tuple(
            application(f"{name}-{i}", sources=(draw(st.sampled_from(_PREFIXES)),))
            for i in range(count)
        )
        return collection(name, priority, ALLOW, *rules)
    rules = tuple(draw(_network_rules(f"{name}-{i}")) for i in range(count))
    return collection(name, priority, ALLOW if kind == "allow" else DENY, *rules)


@st.composite
def _firewalls(draw: st.DrawFn) -> AzureFirewall:
    groups = []
    for g in range(draw(st.integers(0, 3))):
        collections = tuple(draw(_collections(f"g{g}c{c}")) for c in range(draw(st.integers(1, 3))))
        groups.append(group(f"g{g}", draw(st.integers(200, 65000)), *collections))
    return firewall(*groups)


_FLOWS = st.builds(
    Flow,
    st.sampled_from(("Tcp", "Udp", "Icmp")),
    st.sampled_from(_HOSTS),
    st.just(50000),
    st.sampled_from(_HOSTS),
    st.sampled_from((22, 80, 443, 1433, 1500, 3389)),
)


@settings(max_examples=150, deadline=None)
@given(
    fw=_firewalls(),
    deny=_network_rules("deny-first"),
    flows=st.lists(_FLOWS, min_size=1, max_size=8),
)
def test_a_deny_collection_processed_first_only_turns_flows_into_denies(
    fw: AzureFirewall, deny: FirewallRule, flows: list[Flow]
) -> None:
    """Adding a deny collection in a group of lower priority than every other group can
    only turn allows (and undetermined) into denies; every non-DNAT flow it matches is
    denied by it."""
    before = FirewallPolicy.of(fw)
    first = group("deny-first", 100, collection("deny", 100, DENY, deny))
    after = FirewallPolicy.of(firewall(first, *fw.rule_collection_groups))
    matcher = FirewallPolicy.of(firewall(group("m", 100, collection("m", 100, ALLOW, deny))))
    for flow in flows:
        old, new = before.decide(flow), after.decide(flow)
        if old.verdict is FirewallVerdict.DENY or new != old:
            assert new.verdict is FirewallVerdict.DENY, (flow, old, new)
        if matcher.decide(flow).rule is not None and old.action is not DNAT:
            assert new.rule_name == "deny-first/deny/deny-first", (flow, old, new)
