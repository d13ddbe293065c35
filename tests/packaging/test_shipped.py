"""The shipped reference topologies (issue 15, "Works anywhere it is installed"):
one resolver for every command (a file wins, else a shipped name, else the error lists
the names), and ``bgpemu examples list|copy``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bgpemu.cli import main
from bgpemu.errors import ConfigError
from bgpemu.topology import load_topology, validate_file
from bgpemu.topology.shipped import describe, resolve_topology, shipped_topologies

REPO = Path(__file__).resolve().parents[2]


def test_every_reference_topology_ships_once_under_its_own_name() -> None:
    """The package's copy is the repository's topologies/ and topologies/traffic/."""
    on_disk = sorted(
        p.stem
        for folder in ("topologies", "topologies/traffic")
        for p in (REPO / folder).glob("*.yaml")
    )
    names = [t.name for t in shipped_topologies()]
    assert sorted(names) == on_disk
    assert len(set(names)) == len(names)
    assert all(t.description for t in shipped_topologies())


def test_the_schemas_ship_in_the_package() -> None:
    from bgpemu.topology.shipped import data_root

    schema = data_root() / "schema"
    assert (schema / "topology.schema.json").is_file()
    shipped = sorted(p.name for p in (schema / "mqtt").iterdir())
    assert shipped == sorted(p.name for p in (REPO / "schema" / "mqtt").glob("*.json"))


def test_a_description_is_the_header_s_first_sentence() -> None:
    text = (
        "# yaml-language-server: $schema=../schema/topology.schema.json\n"
        "# Hub-and-spoke with VNet peering; spokes do not reach\n"
        "# each other (a citation, [PEER]).\n#\n# More.\nname: x\n"
    )
    assert describe(text) == "Hub-and-spoke with VNet peering; spokes do not reach each other"


def test_a_file_wins_over_a_shipped_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hub-spoke-transit").write_text("name: mine\nnodes: {}\n")
    assert resolve_topology("hub-spoke-transit") == Path("hub-spoke-transit")


@pytest.mark.parametrize("name", ["hub-spoke-transit", "hub-spoke-transit.yaml"])
def test_a_shipped_name_loads_from_any_directory(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_topology(name).name == "hub-spoke-transit"
    assert load_topology("traffic/s6-two-nvas").name == "s6-two-nvas"
    assert validate_file(name) == []


def test_an_unknown_name_lists_the_shipped_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_topology("hub-spoke")
    (problem,) = caught.value.problems
    assert problem.file == "hub-spoke"
    assert "er-vpn-backup" in problem.hint
    assert "s6-two-nvas" in problem.hint
    assert validate_file("hub-spoke") == [problem]


def test_commands_take_a_shipped_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "er-vpn-backup"]) == 0
    assert main(["solve", "er-vpn-backup", "--effective-routes", "Spoke/App", "-o", "json"]) == 0
    assert main(["next-hop", "s2-one-vm", "myVm-nic", "172.31.0.100", "-o", "json"]) == 0
    out = capsys.readouterr().out
    assert "er-vpn-backup: ok" in out
    assert '"nextHopType"' in out
    assert main(["validate", "nope"]) == 2
    assert "one of the shipped topologies: er-vpn-backup" in capsys.readouterr().err


def test_examples_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["examples", "list", "-o", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["name"] for row in rows] == [t.name for t in shipped_topologies()]
    assert {
        "name": "er-vpn-backup",
        "folder": "routing",
        "description": "ExpressRoute with a site-to-site VPN as backup for the same prefixes",
    } in rows
    assert main(["examples", "list"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["Name", "Folder", "Description"]
    assert len(table) == 2 + len(rows)
    assert any(line.startswith("s6-two-nvas ") and "traffic" in line for line in table)


def test_examples_copy_refuses_to_overwrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["examples", "copy", "s6-two-nvas"]) == 0
    copied = tmp_path / "s6-two-nvas.yaml"
    assert load_topology(copied).name == "s6-two-nvas"
    assert not copied.read_text().startswith("# yaml-language-server")
    copied.write_text("mine\n")
    assert main(["examples", "copy", "s6-two-nvas", os.fspath(tmp_path)]) == 2
    assert f"{copied} exists; not overwritten" in capsys.readouterr().err
    assert copied.read_text() == "mine\n"
    assert main(["examples", "copy", "nope", "sub"]) == 2
    assert "no shipped topology 'nope'; shipped: er-vpn-backup" in capsys.readouterr().err


def test_an_installation_without_its_data_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broken install (no _data) gets a hint naming what is missing, not an empty list."""
    from bgpemu.topology import shipped

    monkeypatch.setattr(shipped, "data_root", lambda: tmp_path / "_data")
    with pytest.raises(ConfigError) as caught:
        resolve_topology("hub-spoke-transit")
    (problem,) = caught.value.problems
    assert problem.hint == (
        "give a topology file (this installation ships no reference topology: "
        f"{tmp_path / '_data' / 'topologies'} is missing; reinstall bgpemu)"
    )


def test_a_missing_file_written_as_a_path_is_refused_by_the_reader(tmp_path: Path) -> None:
    """A folder or an extension makes it a file name: the reader's refusal, no list of names."""
    for written in (tmp_path / "nope.yaml", tmp_path / "nope", "nope.yaml"):
        with pytest.raises(ConfigError) as caught:
            load_topology(written)
        (problem,) = caught.value.problems
        assert "cannot read the file" in problem.message
        assert "shipped" not in (problem.hint or "")
