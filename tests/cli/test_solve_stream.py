"""``bgpemu solve -o json`` writes its document piece by piece, byte for byte as before.

The whole report of vWAN 2 x 25 x 200 as one Python document and then one string took
3.8 GB; the CLI now streams it (:mod:`bgpemu.cli._json_stream`), and the text must stay
exactly ``json.dumps(document, indent=2)`` followed by a newline.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgpemu.cli import main
from bgpemu.cli._json_stream import json_chunks

ROOT = Path(__file__).resolve().parents[2]
TOPOLOGIES = ROOT / "topologies"

_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
_KEYS = st.text() | st.integers() | st.booleans()
"""Non-string keys too: ``json.dumps`` writes them as strings (the encoder defers to it)."""
_JSON = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(), inner, max_size=4)
        | st.dictionaries(_KEYS, inner, max_size=3)
    ),
    max_leaves=20,
)


def _streamed(document: dict[str, Any], depth: int) -> Iterator[tuple[str, Any]]:
    """``document``'s members, its nested objects down to ``depth`` as iterators too."""
    for key, value in document.items():
        if depth > 0 and isinstance(value, dict) and all(isinstance(k, str) for k in value):
            yield key, _streamed(value, depth - 1)
        else:
            yield key, value


@settings(max_examples=300, deadline=None)
@given(document=st.dictionaries(st.text(), _JSON, max_size=5), depth=st.integers(0, 3))
def test_chunks_are_json_dumps_indent_2(document: dict[str, Any], depth: int) -> None:
    assert "".join(json_chunks(_streamed(document, depth))) == json.dumps(document, indent=2)


def test_empty_objects_at_every_depth() -> None:
    document: dict[str, Any] = {"a": {}, "b": {"c": {}, "d": []}, "é\n": [{}]}
    assert "".join(json_chunks(_streamed(document, 3))) == json.dumps(document, indent=2)
    assert "".join(json_chunks(iter(()))) == json.dumps({}, indent=2)


def _solve_json(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["solve", *args, "-o", "json"]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("name", ["vwan-custom-route-tables", "route-server-sdwan-er-b2b-on"])
def test_topology_report_never_built_whole_and_byte_identical(
    name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bgpemu.azure import report
    from bgpemu.azure.converge import solve
    from bgpemu.topology import load_topology

    whole = json.dumps(
        report.full_report(solve(load_topology(TOPOLOGIES / f"{name}.yaml"))), indent=2
    )

    def refuse(*_args: object) -> None:
        raise AssertionError("solve -o json built the whole report")

    monkeypatch.setattr(report, "full_report", refuse)
    assert _solve_json(capsys, str(TOPOLOGIES / f"{name}.yaml")) == whole + "\n"


def test_config_tables_are_streamed_byte_identical(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bgpemu.fabric import Fabric

    def refuse(_self: Fabric) -> None:
        raise AssertionError("solve --config -o json built every table at once")

    args = [
        a
        for i in (1, 2, 3)
        for a in ("--config", str(ROOT / "examples" / "triangle" / f"r{i}.yaml"))
    ]
    produced = _solve_json(capsys, *args)
    monkeypatch.setattr(Fabric, "tables", refuse)
    assert _solve_json(capsys, *args) == produced
    assert produced == json.dumps(json.loads(produced), indent=2) + "\n"


def test_config_tables_are_the_fabric_tables(capsys: pytest.CaptureFixture[str]) -> None:
    """Each node's Loc-RIB written from its entries (cli.solve._loc_ribs) is the text of
    Fabric.tables() (the triangle: prepends, a backup path, local routes)."""
    from bgpemu.cli._configs import load_all
    from bgpemu.fabric import Fabric

    files = [str(ROOT / "examples" / "triangle" / f"r{i}.yaml") for i in (1, 2, 3)]
    specs = load_all(files)
    assert specs is not None
    fabric = Fabric(specs, seed=0)
    elapsed = fabric.run_until_idle()
    expected = {"converged_after_s": elapsed, "nodes": fabric.tables()}
    produced = _solve_json(capsys, *(a for f in files for a in ("--config", f)))
    assert produced == json.dumps(expected, indent=2) + "\n"


@settings(max_examples=100, deadline=None)
@given(
    items=st.lists(_JSON, max_size=600) | st.lists(st.integers(), min_size=250, max_size=800),
    depth=st.integers(0, 3),
    sizes=st.lists(st.integers(1, 300), min_size=1),
)
def test_encoded_array_is_json_dumps_of_the_list(
    items: list[Any], depth: int, sizes: list[int]
) -> None:
    """An EncodedArray (items encoded by their producer and joined by the separator it
    is given, in pieces of one or more items) is the list."""
    from bgpemu.cli._json_stream import EncodedArray

    def array(encode: Callable[[Any], str], separator: str) -> Iterator[str]:
        start = 0
        for size in itertools.cycle(sizes):
            if start >= len(items):
                return
            yield separator.join(encode(item) for item in items[start : start + size])
            start += size

    def nested(level: int) -> Iterator[tuple[str, Any]]:
        yield "é", EncodedArray(array) if level == depth else nested(level + 1)

    document: Any = items
    for _ in range(depth + 1):
        document = {"é": document}
    assert "".join(json_chunks(nested(0))) == json.dumps(document, indent=2)


def test_solve_runs_with_the_daemon_gc_thresholds_and_converges_with_the_collector_paused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fabric holds a path object per route like a TCP speaker, and writes its
    report with the same garbage-collector thresholds (a full collection walks every
    route: about a third of vwan-2x50x200's convergence with the defaults); it
    converges with the collector paused (``converging``: the young collections walked
    every new path and found nothing, 0.32 s of 2.9 s), the converged fabric frozen
    while the report is written; the thresholds come back afterwards and nothing is
    left frozen (the fabric is garbage the collector can free)."""
    import gc

    from bgpemu.cli import solve as solve_cli
    from bgpemu.cli._solve_split import Elsewhere
    from bgpemu.fabric import Fabric
    from bgpemu.runtime.daemon_gc import DAEMON_GC_THRESHOLDS

    seen: list[tuple[tuple[int, int, int], bool]] = []
    frozen_in_report: list[int] = []
    real = Fabric.run_until_idle
    real_loc_ribs = solve_cli._loc_ribs

    def recording(self: Fabric, *args: Any, **kwargs: Any) -> float:
        seen.append((gc.get_threshold(), gc.isenabled()))
        return real(self, *args, **kwargs)

    def reporting(fabric: Fabric, elsewhere: Elsewhere | None = None, **kwargs: Any) -> Any:
        frozen_in_report.append(gc.get_freeze_count() if gc.isenabled() else 0)
        return real_loc_ribs(fabric, elsewhere, **kwargs)

    monkeypatch.setattr(Fabric, "run_until_idle", recording)
    monkeypatch.setattr(solve_cli, "_loc_ribs", reporting)
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    _solve_json(capsys, str(TOPOLOGIES / "vwan-custom-route-tables.yaml"))
    assert seen == [(DAEMON_GC_THRESHOLDS, False)]
    assert frozen_in_report
    assert frozen_in_report[0] > 0
    assert gc.get_threshold() == before
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
