"""Hostile files (issue 12): every one ends with one clear problem naming the file and
line, never an exception, and the limits of ``bgpemu.config.safe_yaml`` hold at their
boundaries."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgpemu.config import parse_speaker_config
from bgpemu.config.safe_yaml import LIMITS, Limits, Parsed, YamlProblem, parse, read_file
from bgpemu.errors import ConfigError, ConfigProblem
from bgpemu.topology import load_topology, parse_topology
from tests.unit.topology.hostile import GENERATED, HOSTILE, expected, hostile_files

ROOT = Path(__file__).parents[3]

_NOT_AGAIN = {"huge-file", "not-utf8", "many-nodes"}
"""Cases the other readers skip: not text (refused by ``read_file``, which every file
reader uses), or slow (a second of composing; the topology loader has shown the node
limit)."""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return hostile_files(tmp_path_factory.mktemp("hostile"))


def test_every_golden_message_has_its_file_and_every_file_its_message() -> None:
    golden = {path.name.removesuffix(".expected.txt") for path in HOSTILE.glob("*.expected.txt")}
    files = {path.stem for path in HOSTILE.glob("*.yaml")}
    assert golden == files | set(GENERATED)
    assert not files & set(GENERATED)


def test_each_hostile_file_gets_its_golden_message(corpus: list[Path]) -> None:
    for path in corpus:
        with pytest.raises(ConfigError) as info:
            load_topology(path)
        assert [str(problem) for problem in info.value.problems] == [expected(path)], path


@pytest.mark.parametrize(
    "text",
    ["a: &a [*a]", "a: &a {b: *a}", "nodes: &n {hub: {<<: *n}}", "- &x [1, [2, *x]]"],
)
def test_a_recursive_alias_is_refused_on_the_line_of_the_alias(text: str) -> None:
    problem = parse(text)
    assert isinstance(problem, YamlProblem)
    assert "(a recursive alias)" in problem.message
    assert problem.line == 1


def test_the_control_topic_text_is_read_with_the_same_limits() -> None:
    with pytest.raises(ConfigError) as info:
        parse_topology("a: &a [*a]", "<control>")
    assert str(info.value) == (
        "<control>:1: alias *a is inside the node &a it refers to (a recursive alias) "
        "(hint: an alias can only repeat a node that ends before it)"
    )


def test_the_speaker_config_loader_reads_with_the_same_limits(corpus: list[Path]) -> None:
    for path in corpus:
        if path.stem in _NOT_AGAIN:
            continue
        with pytest.raises(ConfigError) as info:
            parse_speaker_config(path.read_text(encoding="utf-8"), "s.yaml")
        (problem,) = info.value.problems
        assert problem.file == "s.yaml"
        assert problem.location.startswith("line "), path
        golden = expected(path).split(": ", 1)[1]
        assert str(problem).endswith(golden), path


def test_read_file_reads_no_more_than_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * 1025)
    small = Limits(max_bytes=1024)
    assert read_file(path, small) == YamlProblem(
        line=None,
        message="the file is larger than 1,024 bytes, the most bgpemu reads",
        hint="see the limits in docs/topology.md",
    )
    path.write_bytes(b"#" * 1024)
    assert read_file(path, small) == "#" * 1024


def test_depth_limit_boundary() -> None:
    limits = Limits(max_depth=3)
    assert isinstance(parse("[[[1]]]", limits), Parsed)
    problem = parse("[[[[1]]]]", limits)
    assert problem == YamlProblem(
        line=1, message="nested more than 3 levels deep", hint="see the limits in docs/topology.md"
    )


def test_alias_limits_boundary() -> None:
    limits = Limits(max_aliases=3, max_nodes=12)
    # a: 1 seq + 3 scalars = 4 nodes; b: 1 seq + 2 aliases of 4 = 9: 2 keys + 13 > 12.
    ok = parse("a: &a [1, 2, 3]\nb: [*a, *a, *a]\n", Limits(max_aliases=3))
    assert isinstance(ok, Parsed)
    assert ok.data == {"a": [1, 2, 3], "b": [[1, 2, 3]] * 3}
    assert parse("a: &a 1\nb: [*a, *a, *a, *a]\n", limits) == YamlProblem(
        line=2, message="more than 3 aliases", hint="see the limits in docs/topology.md"
    )
    expanded = parse("a: &a [1, 2, 3]\nb: [*a, *a]\n", limits)
    assert isinstance(expanded, YamlProblem)
    assert expanded.message.startswith("more than 12 YAML nodes")
    assert isinstance(parse("a: &a [1, 2, 3]\nb: [*a]\n", limits), Parsed)


def test_scalar_and_integer_limits_boundary() -> None:
    limits = Limits(max_scalar=10, max_int_digits=4)
    ok = parse("a: xxxxxxxxxx\nb: 9999\nc: '99999'", limits)
    assert isinstance(ok, Parsed)
    assert ok.data == {"a": "xxxxxxxxxx", "b": 9999, "c": "99999"}
    long = parse("a: xxxxxxxxxxx", limits)
    assert isinstance(long, YamlProblem)
    assert long.message == "a scalar of 11 characters; at most 10 are read"
    big = parse("b: !!int 99999", limits)
    assert isinstance(big, YamlProblem)
    assert big.message == "an integer of 5 characters; integers have at most 4 digits"


def test_anchors_and_merge_keys_still_work() -> None:
    parsed = parse("base: &b {x: 1}\nnode:\n  <<: *b\n  y: 2\n")
    assert isinstance(parsed, Parsed)
    assert parsed.data == {"base": {"x": 1}, "node": {"x": 1, "y": 2}}


def test_empty_text_is_no_document() -> None:
    parsed = parse("")
    assert isinstance(parsed, Parsed)
    assert parsed.data is None


def test_the_bench_topologies_load_within_the_limits_with_room_to_spare() -> None:
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    from _lab.generators import vwan_standard

    network = parse_topology(vwan_standard(hubs=2, branches=50, prefixes=200), "vwan.yaml")
    assert len(network.nodes) == 2 + 1 + 2 * 50 + 2 * 2
    # The most prefixes the generators make (65,536), within a third of every limit
    # (nodes counted from libyaml's events: the file has no alias).
    import yaml

    largest = vwan_standard(hubs=2, branches=64, prefixes=512)
    events = yaml.parse(largest, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    kinds = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)
    nodes = sum(1 for event in events if isinstance(event, kinds))
    assert nodes > 65_536
    assert nodes * 3 < LIMITS.max_nodes
    assert len(largest) * 3 < LIMITS.max_bytes


def test_a_change_file_is_read_with_the_same_limits(corpus: list[Path]) -> None:
    from bgpemu.azure.roles import compile_network
    from bgpemu.lab.targets import Names
    from bgpemu.testing.changes import parse_changes

    network = load_topology(ROOT / "topologies" / "s2s-bgp.yaml")
    names = Names(network, compile_network(network))
    for path in corpus:
        if path.stem in _NOT_AGAIN:
            continue
        problems = parse_changes(path.read_text(encoding="utf-8"), str(path), names)
        assert problems == [expected(path)], path.name


def test_loading_leaves_the_garbage_collector_as_it_found_it() -> None:
    import gc

    assert gc.isenabled()
    parse_topology((ROOT / "topologies" / "s2s-bgp.yaml").read_text(), "s2s-bgp.yaml")
    with pytest.raises(ConfigError):
        parse_topology("a: &a [*a]", "loop.yaml")
    assert isinstance(parse("[1, 2]"), Parsed)
    assert gc.isenabled()
    gc.disable()
    try:
        assert isinstance(parse("[1, 2]"), Parsed)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_speaker_config_file_is_read_with_the_same_file_checks(corpus: list[Path]) -> None:
    """``bgpemu speaker --config``: a file that is not UTF-8 was a UnicodeDecodeError
    traceback, and a huge one was read whole."""
    from bgpemu.config import load_speaker_config

    for path in corpus:
        if path.stem not in ("huge-file", "not-utf8"):
            continue
        with pytest.raises(ConfigError) as info:
            load_speaker_config(path)
        (problem,) = info.value.problems
        golden = expected(path).split(": ", 1)[1]
        assert str(problem).endswith(golden), path


_TOKENS = [
    "a", "name", "nodes", "role", "vnet", ": ", "- ", "\n", "  ", "[", "]", "{", "}", ", ",
    "&a ", "*a", "&b ", "*b", "<<: ", "? ", "!!int ", "!!bool ", "!!timestamp ", "!!binary ",
    "!!set ", "!!omap ", "!!float ", "---\n", "'", '"', "#", "|\n", "2024-13-45", "0x",
    "1:2:3", "~", "10.0.0.0/16", "9" * 120, "\t", "%YAML 1.1\n", "!x ", "\\",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS) | st.text(max_size=3), max_size=60))
def test_no_text_makes_the_loaders_raise_anything_but_config_error(parts: list[str]) -> None:
    """The CI-sized cousin of fuzz/atheris_topology.py (which is not run in CI)."""
    text = "".join(parts)
    assert isinstance(parse(text), Parsed | YamlProblem)
    for load in (parse_topology, parse_speaker_config):
        problems: list[ConfigProblem | None] = []
        try:
            load(text, "h.yaml")
        except ConfigError as exc:
            problems = [*exc.problems] or [None]
        assert all(p is not None and p.file.startswith("h.yaml") for p in problems)
