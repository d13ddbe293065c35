"""The speaker config loader: valid files compile, bad files report every problem at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bgpemu.config import load_speaker_config, parse_speaker_config
from bgpemu.errors import ConfigError
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST

DATA = Path(__file__).parents[2] / "data" / "config"
EXAMPLES = Path(__file__).parents[3] / "examples"


def test_examples_compile() -> None:
    spec = load_speaker_config(EXAMPLES / "speaker-a.yaml")
    assert spec.name == "a"
    assert spec.local_address == "127.0.0.1"
    assert spec.router.asn == 65001
    assert [r.prefix for r in spec.router.routes] == [
        "10.1.0.0/24",
        "10.1.1.0/24",
        "2001:db8:1::/48",
    ]
    assert spec.router.routes[1].communities == (65001 << 16 | 100,)
    assert spec.router.routes[2].family == IPV6_UNICAST
    (neighbor,) = spec.neighbors
    assert neighbor.session.peer_as == 4200000002
    assert neighbor.session.families == (IPV4_UNICAST, IPV6_UNICAST)
    assert neighbor.session.connect_retry_time == 2


def test_bad_file_reports_every_problem_with_file_and_field() -> None:
    path = DATA / "bad-speaker.yaml"
    with pytest.raises(ConfigError) as info:
        load_speaker_config(path)
    expected = (DATA / "bad-speaker.expected.txt").read_text().replace("{file}", str(path))
    assert str(info.value) + "\n" == expected


def test_not_yaml_names_the_line() -> None:
    with pytest.raises(ConfigError) as info:
        parse_speaker_config("name: [a\nasn: 1\n", "x.yaml")
    (problem,) = info.value.problems
    assert problem.file == "x.yaml"
    assert problem.location.startswith("line ")


def test_not_a_mapping() -> None:
    with pytest.raises(ConfigError, match="mapping"):
        parse_speaker_config("- a\n- b\n", "x.yaml")


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_speaker_config(DATA / "no-such-file.yaml")


_ONE_ROUTE = """name: s
asn: 65001
router_id: 192.0.2.1
next_hop: 192.0.2.1
routes:
  - prefix: {prefix}
    communities: [{communities}]
    large_communities: [{large}]
"""


def _route_file(
    prefix: str = "10.1.0.0/24", communities: str = '"65001:100"', large: str = '"1:2:3"'
) -> str:
    return _ONE_ROUTE.format(prefix=prefix, communities=communities, large=large)


def test_a_route_takes_the_well_known_community_names_the_topology_file_takes() -> None:
    """One community parser (policy.communities) for the speaker and the topology file."""
    from bgpemu.policy.communities import NO_ADVERTISE, NO_EXPORT

    spec = parse_speaker_config(_route_file(communities='"no-export", "NO_ADVERTISE", "1:2"'), "s")
    (route,) = spec.router.routes
    assert route.communities == (NO_EXPORT, NO_ADVERTISE, 1 << 16 | 2)
    assert route.large_communities == ((1, 2, 3),)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            _route_file(communities='"65001:100000"'),
            "routes[0].communities: community '65001:100000': each half must be 0..65535",
        ),
        (
            _route_file(communities='"nope"'),
            "routes[0].communities: not a community: 'nope' "
            "(expected ASN:VALUE or a well-known name)",
        ),
        (
            _route_file(large='"1:2"'),
            "routes[0].large_communities: not a large community: '1:2' (expected A:B:C)",
        ),
        (
            _route_file(large='"1:2:4294967296"'),
            "routes[0].large_communities: large community '1:2:4294967296': "
            "three 32-bit values expected",
        ),
        (
            _route_file(prefix="10.1.0.1/24"),
            "routes[0].prefix: '10.1.0.1/24' has host bits set (the prefix is 10.1.0.0/24)",
        ),
        (
            _route_file(prefix="10.1.0.0/33"),
            "routes[0].prefix: '10.1.0.0/33' is not a valid prefix",
        ),
    ],
)
def test_a_bad_route_is_refused_in_the_topology_file_s_words(text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_speaker_config(text, "s.yaml")
    assert [str(p) for p in info.value.problems] == [f"s.yaml: {problem}"]


def test_a_neighbor_s_knobs_are_its_named_import_and_export_policies() -> None:
    from bgpemu.policy import Prepend, Result, RoutePolicy, SetLocalPref, SetMed, Statement

    spec = parse_speaker_config(
        "name: s\nasn: 65001\nrouter_id: 192.0.2.1\nneighbors:\n"
        "  - {name: b, address: 192.0.2.2, asn: 65002, local_pref: 150, prepend: 2, med: 7}\n"
        "  - {name: c, address: 192.0.2.3, asn: 65003}\n",
        "s.yaml",
    )
    b, c = spec.router.neighbors
    assert b.import_policy == RoutePolicy(
        (Statement(actions=(SetLocalPref(150),)),), default=Result.ACCEPT, name="import-b"
    )
    assert b.export_policy == RoutePolicy(
        (Statement(actions=(Prepend(count=2), SetMed(7))),), default=Result.ACCEPT, name="export-b"
    )
    assert (c.import_policy, c.export_policy) == (None, None)
