"""The intents file (issue 14): read into Intent values; every problem at once with its
line, dotted path and hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from bgpemu.azure.traffic.intents import Intent
from bgpemu.errors import ConfigError
from bgpemu.topology.intent_file import load_intents, parse_intents

GOOD = """\
intents:
  - name: app-to-db
    source: Spoke1/App
    destination: 10.2.0.4
    port: 1433
    expect: reachable
  - name: ping
    source: vm1
    destination: 10.2.0.4
    protocol: ICMP
    expect: unreachable
"""


def test_a_good_file_gives_intents_with_where_they_were_written() -> None:
    assert parse_intents(GOOD, "i.yaml") == [
        Intent(
            name="app-to-db",
            source="Spoke1/App",
            destination="10.2.0.4",
            protocol="Tcp",
            port=1433,
            expect="reachable",
            where="i.yaml:2",
            path="intents[0]",
        ),
        Intent(
            name="ping",
            source="vm1",
            destination="10.2.0.4",
            protocol="Icmp",
            port=0,
            expect="unreachable",
            where="i.yaml:7",
            path="intents[1]",
        ),
    ]


BAD = """\
intents:
  - name: a
    source: vm1
    destination: vm2
    protocol: sctp
    port: 70000
    expect: blocked
  - name: a
    source: vm1
    destination: vm2
    expect: reachable
  - name: c
    source: vm1
    expect: denied
    colour: blue
"""


def test_every_problem_is_reported_at_once_with_line_path_and_hint() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_intents(BAD, "bad.yaml")
    assert [str(p) for p in caught.value.problems] == [
        "bad.yaml:5: intents[0].protocol: protocol 'sctp' is not one of Tcp, Udp, Icmp, Esp, Ah "
        "(hint: see docs/traffic.md, 'Intents')",
        "bad.yaml:6: intents[0].port: Input should be less than or equal to 65535 "
        "(hint: see docs/traffic.md, 'Intents')",
        "bad.yaml:7: intents[0].expect: expect 'blocked' is not one of reachable, denied, "
        "no_route, dropped_none_route, ip_forwarding_off, loop, asymmetric, undetermined, "
        "unreachable "
        "(hint: see docs/traffic.md, 'Intents')",
        "bad.yaml:12: intents[2].destination: required field is missing "
        "(hint: add 'destination'; see docs/traffic.md, 'Intents')",
        "bad.yaml:15: intents[2].colour: unknown field 'colour' "
        "(hint: fields here: name, source, destination, protocol, port, expect)",
    ]


def test_duplicate_names_and_missing_ports_once_the_schema_passes() -> None:
    text = GOOD + "  - {name: ping, source: vm1, destination: vm2, protocol: udp, expect: loop}\n"
    with pytest.raises(ConfigError) as caught:
        parse_intents(text, "dup.yaml")
    assert [str(p) for p in caught.value.problems] == [
        "dup.yaml:12: intents[2].name: intent name 'ping' is used twice (first at intents[1]) "
        "(hint: give every intent its own name)",
        "dup.yaml:12: intents[2]: port is required for Udp (hint: add 'port: N' (the "
        "destination port))",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("intents: [", "f.yaml:1: "),
        ("- a\n- b\n", "f.yaml: the file must hold a mapping with 'intents'"),
        ("intents: []\n", "f.yaml:1: intents: List should have at least 1 item"),
        ("intents: []\nintents: []\n", "f.yaml:2: intents: 'intents' is defined twice"),
        ("a: &a [*a]\n", "f.yaml:1: "),
        (
            "intents:\n  - 5\n",
            "f.yaml:2: intents[0]: an intent must be a mapping, not int (hint: fields: name,",
        ),
    ],
)
def test_hostile_or_empty_files_are_refused_clearly(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_intents(text, "f.yaml")
    assert str(caught.value.problems[0]).startswith(expected)


def test_load_intents_reads_the_file_within_limits(tmp_path: Path) -> None:
    path = tmp_path / "intents.yaml"
    path.write_text(GOOD)
    assert [i.name for i in load_intents(path)] == ["app-to-db", "ping"]
    with pytest.raises(ConfigError, match=r"missing\.yaml"):
        load_intents(tmp_path / "missing.yaml")
