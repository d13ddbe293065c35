"""Router.table: the Loc-RIB JSON of bgpemu solve, with attribute fields converted once."""

from __future__ import annotations

from bgpemu.rib.decision import DecisionConfig
from bgpemu.router.table import decision_json
from tests.unit.router.test_core import announce, make_router

PREFIXES = ("10.1.0.0/24", "10.2.0.0/24", "10.3.0.0/24")


def test_table_equals_decision_json_and_no_two_paths_share_a_dict_or_a_list() -> None:
    router = make_router(decision=DecisionConfig(max_paths=2, multipath_relax=True))
    # One UPDATE each: the router shares one attributes object among its prefixes.
    router.update_received(
        "e1",
        announce(65001, prefixes=PREFIXES, communities=(1,), large_communities=((1, 2, 3),)),
        1.0,
    )
    router.update_received("e2", announce(65002, prefixes=PREFIXES), 2.0)
    table = router.table()
    expected = [decision_json(f, p, d) for f, p, d in router.loc_rib.entries()]
    assert table == expected
    assert [len(entry["multipath"]) for entry in table] == [2, 2, 2]
    paths = [path for entry in table for path in (entry["best"], *entry["multipath"])]
    for key in ("as_path", "communities", "large_communities"):
        assert len({id(path[key]) for path in paths}) == len(paths), key
    assert len({id(path) for path in paths}) == len(paths)
    # A reader that edits one entry changes no other.
    table[0]["best"]["as_path"].append(1)
    table[0]["best"]["communities"].clear()
    assert router.table() == expected
    assert table[1] == expected[1]
    assert table[0]["multipath"] == expected[0]["multipath"]
