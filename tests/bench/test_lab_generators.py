"""The lab benchmark's generated topologies (bench/_lab/generators.py), small sizes only.

Each must load with :func:`bgpemu.topology.load_topology` (every validation check) and
compile into the speakers and sessions the generator promises.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest

from bgpemu.azure.model import OnPrem
from bgpemu.azure.roles import compile_network
from bgpemu.cli import main
from bgpemu.topology import load_topology, parse_topology
from bgpemu.topology.checks import is_reserved

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from _lab.generators import SIZES, hub_spoke, private_asns, vwan_standard


def _sessions(text: str) -> tuple[list[str], set[frozenset[str]]]:
    plan = compile_network(parse_topology(text, "generated.yaml"))
    sessions = {
        frozenset((spec.name, neighbor.name))
        for spec in plan.speakers
        for neighbor in spec.neighbors
    }
    return sorted(spec.name for spec in plan.speakers), sessions


def test_vwan_compiles_to_one_speaker_per_hub_and_branch() -> None:
    speakers, sessions = _sessions(vwan_standard(hubs=3, branches=4, prefixes=7, vnets=2))
    branches = [s for s in speakers if "-Branch" in s]
    assert [s for s in speakers if s not in branches] == ["Hub1", "Hub2", "Hub3"]
    assert len(branches) == 12
    hub_mesh = {frozenset(p) for p in (("Hub1", "Hub2"), ("Hub1", "Hub3"), ("Hub2", "Hub3"))}
    assert hub_mesh <= sessions
    assert sessions - hub_mesh == {frozenset((branch, branch.split("-")[0])) for branch in branches}


def test_vwan_branches_announce_distinct_prefixes_with_distinct_asns() -> None:
    network = parse_topology(vwan_standard(hubs=2, branches=3, prefixes=5), "g.yaml")
    sites = network.of_type(OnPrem)
    assert len(sites) == 6
    assert len({site.asn for site in sites}) == 6
    assert len({site.bgp_peering_address for site in sites}) == 6
    prefixes = [a.prefix for site in sites for a in site.prefixes]
    assert len(prefixes) == len(set(prefixes)) == 30
    assert all(p.endswith("/24") for p in prefixes)
    assert network.name == "vwan-2x3x5"


def test_hub_spoke_spokes_use_the_hub_gateway() -> None:
    text = hub_spoke(spokes=5, prefixes=30)
    network = parse_topology(text, "g.yaml")
    speakers, sessions = _sessions(text)
    assert speakers == ["HubGW", "OnPrem"]
    assert sessions == {frozenset(("HubGW", "OnPrem"))}
    assert sum(1 for name in ("Spoke001", "Spoke005") if name in text) == 2
    assert network.name == "hub-spoke-5x30"
    active = _sessions(hub_spoke(spokes=2, prefixes=3, active_active=True))
    assert active[0] == ["HubGW.0", "HubGW.1", "OnPrem"]


def test_every_small_size_loads_validates_and_compiles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for topology in SIZES["small"]:
        path = topology.write(tmp_path)
        network = load_topology(path)
        assert compile_network(network).speakers
        assert main(["validate", str(path)]) == 0
        assert ": ok (" in capsys.readouterr().out


def test_generation_is_deterministic() -> None:
    assert vwan_standard(branches=3, prefixes=4) == vwan_standard(branches=3, prefixes=4)
    assert hub_spoke(spokes=3, prefixes=4) == hub_spoke(spokes=3, prefixes=4)


def test_private_asns_skip_every_reserved_asn() -> None:
    asns = list(itertools.islice(private_asns(65510), 22))
    assert all(is_reserved(asn) is None for asn in asns)
    assert asns[:6] == [65510, 65511, 65512, 65513, 65514, 65516]
    assert asns[-3:] == [65534, 4200000000, 4200000001]


def test_out_of_range_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="hubs"):
        vwan_standard(hubs=0)
    with pytest.raises(ValueError, match="does not fit"):
        vwan_standard(hubs=1, branches=2, prefixes=40000)
    with pytest.raises(ValueError, match="spokes"):
        hub_spoke(spokes=300)
