"""Role route_server (+ nva): NVA ECMP, active/passive, branch-to-branch; §9 scenario 9."""

from __future__ import annotations

from bgpemu.azure.model import (
    Announcement,
    Network,
    Nva,
    RouteServerPeer,
    RoutingPreference,
)
from bgpemu.azure.roles import compile_network
from bgpemu.azure.roles.route_server import preference_weight
from bgpemu.policy import Direction
from tests.unit.azure.helpers import (
    apply,
    best,
    converge,
    from_peer,
    loc_prefixes,
    multipath,
    neighbor_names,
    nva,
    received,
    route,
    spec,
)
from tests.unit.azure.scenarios import scenario9


def test_instances_and_neighbors() -> None:
    plan = compile_network(scenario9(False))
    assert [e.speaker for e in plan.of_node("ars")] == ["ars.0", "ars.1"]
    assert neighbor_names(plan, "ars.0") == ["firewall", "sdwan"]
    assert neighbor_names(plan, "sdwan") == ["ars.0", "ars.1"]
    on = compile_network(scenario9(True))
    assert neighbor_names(on, "ars.1") == ["ergw", "firewall", "sdwan"]
    assert "ars.0" in neighbor_names(on, "ergw")


def test_scenario9_branch_to_branch_off() -> None:
    _plan, _fabric, t = converge(scenario9(False))
    sd = t["sdwan"]
    for prefix in ("10.1.0.0/16", "10.5.0.0/16"):
        r = best(sd, prefix)
        assert r is not None
        assert r.as_path == (65515,)
    assert "10.2.0.0/16" not in loc_prefixes(sd)
    assert "10.250.0.0/16" not in loc_prefixes(t["ergw"])
    assert loc_prefixes(t["onprem2"]) >= {"10.1.0.0/16", "10.5.0.0/16"}
    assert "10.250.0.0/16" not in loc_prefixes(t["onprem2"])
    ars = best(t["ars.0"], "0.0.0.0/0")
    assert ars is not None
    assert ars.next_hop == "10.1.2.4"


def test_scenario9_branch_to_branch_on() -> None:
    _plan, _fabric, t = converge(scenario9(True))
    r = best(t["sdwan"], "10.2.0.0/16")
    assert r is not None
    assert r.as_path == (65515, 12076, 65020)
    e = best(t["ergw"], "10.250.0.0/16")
    assert e is not None
    o = best(t["onprem2"], "10.250.0.0/16")
    assert o is not None
    assert o.as_path == (12076,)
    # Decision: the ER gateway learns the firewall's 0/0 but does not pass it to the MSEEs.
    assert best(t["ergw"], "0.0.0.0/0") is not None
    assert "0.0.0.0/0" not in loc_prefixes(t["onprem2"])


def test_no_advertise_programmed_not_readvertised() -> None:
    tagged = Nva(
        name="tagged",
        vnet="hub",
        address="10.1.3.4",
        asn=65003,
        router_id="10.1.3.4",
        prefixes=(Announcement(prefix="10.251.0.0/16", communities=("no-advertise",)),),
    )
    _plan, _fabric, t = converge(scenario9(True, tagged))
    assert best(t["ars.0"], "10.251.0.0/16") is not None
    assert "10.251.0.0/16" not in loc_prefixes(t["sdwan"])
    assert "10.251.0.0/16" not in loc_prefixes(t["ergw"])


def ha_pair(prepend_b: int) -> Network:
    base = scenario9(False)
    nodes = tuple(n for n in base.nodes if not isinstance(n, Nva))
    a = nva("nva-a", "10.1.1.4", 65001, "0.0.0.0/0")
    b = nva("nva-b", "10.1.1.5", 65001, "0.0.0.0/0", prepend=prepend_b)
    return Network(
        name="ha",
        nodes=(*nodes, a, b),
        connections=(
            *(c for c in base.connections if not isinstance(c, RouteServerPeer)),
            RouteServerPeer(name="pa", route_server="ars", nva="nva-a"),
            RouteServerPeer(name="pb", route_server="ars", nva="nva-b"),
        ),
    )


def test_active_active_nvas_ecmp() -> None:
    _plan, _fabric, t = converge(ha_pair(0))
    paths = multipath(t["ars.0"], "0.0.0.0/0")
    assert {r.next_hop for r in paths} == {"10.1.1.4", "10.1.1.5"}


def test_prepended_passive_nva_loses() -> None:
    _plan, _fabric, t = converge(ha_pair(2))
    paths = multipath(t["ars.1"], "0.0.0.0/0")
    assert [r.next_hop for r in paths] == ["10.1.1.4"]
    passive = received(t["ars.1"], "nva-b")["0.0.0.0/0"]
    assert passive.as_path == (65001, 65001, 65001)


def test_import_from_nva_resets_med_and_limits_routes() -> None:
    plan = compile_network(scenario9(False))
    peer = from_peer(plan, "ars.0", "sdwan")
    out = apply(
        plan, "ars.0", "sdwan", Direction.IMPORT, route("10.9.0.0/16", 65001, source=peer, med=50)
    )
    assert out is not None
    assert out.attributes.med == 0
    assert out.weight == preference_weight(RoutingPreference.EXPRESS_ROUTE, "nva")
    own = route("10.1.0.0/16", 65001, source=peer)
    assert apply(plan, "ars.0", "sdwan", Direction.IMPORT, own) is None
    limit = spec(plan, "ars.0").router.neighbor("sdwan").max_prefix
    assert limit is not None
    assert limit.limit == 1000


def test_routing_preference_weights() -> None:
    er, vpn, nva_ = (
        preference_weight(RoutingPreference.EXPRESS_ROUTE, k) for k in ("er", "vpn", "nva")
    )
    assert er > vpn == nva_
    er, vpn, nva_ = (
        preference_weight(RoutingPreference.VPN_GATEWAY, k) for k in ("er", "vpn", "nva")
    )
    assert er < vpn == nva_
    assert {preference_weight(RoutingPreference.AS_PATH, k) for k in ("er", "vpn", "nva")} == {0}


def test_nva_as_override_and_next_hop() -> None:
    overriding = Nva(
        name="ov",
        vnet="hub",
        address="10.1.4.4",
        asn=65004,
        router_id="10.1.4.4",
        next_hop="10.1.4.100",
        as_override=True,
    )
    plan = compile_network(scenario9(False, overriding))
    assert spec(plan, "ov").router.next_hop_v4 == "10.1.4.100"
    from_rs = route("10.7.0.0/16", 65515, 65009, source=from_peer(plan, "ov", "ars.0"))
    out = apply(plan, "ov", "ars.1", Direction.EXPORT, from_rs)
    assert out is not None
    assert out.attributes.as_path_asns() == (65004, 65009)
