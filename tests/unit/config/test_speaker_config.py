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
