"""TCP-MD5 keys (RFC 2385) in a topology: where Azure allows them, and where they go.

An ExpressRoute circuit's ``sharedKey`` (its private peering's ARM property; §4.1
"MD5 possible") signs both sessions between the MSEEs and the customer side; a
``bgp`` connection's ``password`` signs that session.  VPN gateways, Route Server and
hub BGP take no key.  The key reaches the NeighborSpec of each emulated end and no
output: not ``validate``'s messages, not ``solve``'s tables.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bgpemu.azure.model import BgpPeering, ExpressRouteCircuit
from bgpemu.azure.roles import compile_network
from bgpemu.cli import main
from bgpemu.config.keys import KeySources
from bgpemu.errors import ConfigError
from bgpemu.topology import load_topology, parse_topology
from bgpemu.topology.edit import apply_edit
from bgpemu.topology.source import inline_keys, source_of
from bgpemu.types import TcpMd5Key

SECRET = "Er-sh4red-key"

TOPOLOGY = """name: md5
nodes:
  Hub:
    role: vnet
    addressSpace: [10.17.11.0/25]
    subnets:
      - {{name: GatewaySubnet, addressPrefix: 10.17.11.64/27}}
  ErGW: {{role: expressroute_gateway, vnet: Hub}}
  Circuit:
    role: expressroute
    peer: CE
    primaryPeerAddressPrefix: 192.168.11.16/30
    secondaryPeerAddressPrefix: 192.168.11.20/30
    {circuit_key}
  CE:
    role: onprem
    asn: 65020
    bgpPeeringAddress: 192.168.11.17
    prefixes: [10.1.11.0/25]
    {external}
  Branch:
    role: onprem
    asn: 65030
    bgpPeeringAddress: 192.168.30.1
    prefixes: [10.30.0.0/24]
connections:
  - {{type: expressroute, gateway: ErGW, circuit: Circuit}}
  - {{type: bgp, a: CE, b: Branch, {bgp_key}}}
"""


def _text(circuit_key: str = "", bgp_key: str = "", external: str = "") -> str:
    return TOPOLOGY.format(circuit_key=circuit_key, bgp_key=bgp_key, external=external)


def _keys(text: str) -> dict[tuple[str, str], TcpMd5Key | None]:
    plan = compile_network(parse_topology(text, "md5.yaml"))
    return {(s.name, n.name): n.tcp_md5_key for s in plan.speakers for n in s.neighbors}


def test_the_circuit_key_signs_both_msee_sessions_on_both_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BGPEMU_TEST_ER_KEY", SECRET)
    keys = _keys(_text(circuit_key="sharedKey: {env: BGPEMU_TEST_ER_KEY}", bgp_key="name: l"))
    key = TcpMd5Key(SECRET.encode())
    signed = {pair for pair, value in keys.items() if value is not None}
    assert signed == {
        ("Circuit.primary", "CE"),
        ("CE", "Circuit.primary"),
        ("Circuit.secondary", "CE"),
        ("CE", "Circuit.secondary"),
    }
    assert all(keys[pair] == key for pair in signed)


def test_a_bgp_connection_password_signs_that_session_only() -> None:
    keys = _keys(_text(bgp_key=f'password: "{SECRET}"'))
    signed = {pair for pair, value in keys.items() if value is not None}
    assert signed == {("CE", "Branch"), ("Branch", "CE")}


def test_an_external_router_gets_the_key_on_the_emulated_ends_only() -> None:
    keys = _keys(
        _text(circuit_key=f'sharedKey: "{SECRET}"', bgp_key="name: l", external="external: true")
    )
    signed = {pair for pair, value in keys.items() if value is not None}
    assert signed == {("Circuit.primary", "CE"), ("Circuit.secondary", "CE")}


@pytest.mark.parametrize(
    "connection",
    [
        "{type: site_to_site, gateway: VpnGW, site: Branch, password: KEY}",
        "{type: site_to_site, gateway: VpnGW, site: Branch, sharedKey: KEY}",
    ],
)
def test_a_vpn_gateway_takes_no_key_and_says_where_keys_go(connection: str) -> None:
    text = (
        _text(bgp_key="name: l").replace(
            "  ErGW:", "  VpnGW: {role: vpn_gateway, vnet: Hub}\n  ErGW:"
        )
        + f"  - {connection.replace('KEY', SECRET)}\n"
    )
    with pytest.raises(ConfigError) as info:
        parse_topology(text, "md5.yaml")
    message = str(info.value)
    assert "unknown field" in message
    assert "a key goes on an expressroute circuit (sharedKey) or a bgp connection" in message
    assert SECRET not in message


def test_a_bad_key_is_reported_with_its_field_and_never_quoted() -> None:
    with pytest.raises(ConfigError) as info:
        parse_topology(_text(circuit_key=f'sharedKey: "{SECRET * 9}"', bgp_key="name: l"), "x")
    (problem,) = info.value.problems
    assert "nodes.Circuit.sharedKey" in problem.location
    assert "1 to 80 octets" in problem.message
    assert SECRET not in str(info.value)


def test_the_document_of_record_holds_key_references_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit compiles the document again with the file's own key sources: a relative
    ``{file: PATH}`` is read beside the topology again (from any directory), the
    secret itself is never copied into the document, and a key that went missing
    refuses the edit with the loader's message."""
    (tmp_path / "circuit.key").write_text(SECRET + "\n")
    topology = tmp_path / "md5.yaml"
    topology.write_text(
        _text(circuit_key="sharedKey: {file: circuit.key}", bgp_key="password: {env: BGP_KEY}")
    )
    monkeypatch.setenv("BGP_KEY", SECRET + "x")
    network = load_topology(topology)
    document = source_of(network, "test").document
    assert document["nodes"]["Circuit"]["sharedKey"] == {"file": "circuit.key"}
    assert document["connections"][1]["password"] == {"env": "BGP_KEY"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    branch = {"role": "onprem", "asn": 65040, "bgpPeeringAddress": "192.168.40.1"}
    edited = apply_edit(network, "add_node", {"name": "B2", **branch})
    assert SECRET not in repr(source_of(edited, "test").document)
    circuit, connection = edited.node("Circuit"), edited.connections[1]
    assert isinstance(circuit, ExpressRouteCircuit)
    assert isinstance(connection, BgpPeering)
    assert circuit.shared_key == TcpMd5Key(SECRET.encode())
    assert connection.password == TcpMd5Key((SECRET + "x").encode())
    monkeypatch.delenv("BGP_KEY")
    with pytest.raises(ConfigError) as info:
        apply_edit(edited, "remove_node", {"name": "B2"})
    (problem,) = info.value.problems
    assert str(problem).startswith("remove_node B2: connections[1].password: ")
    assert "environment variable BGP_KEY (the TCP-MD5 key) is not set" in problem.message


def test_inline_keys_resolves_every_reference_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What ``bgpemu apply`` sends a running lab (which reads no references): the
    document as written with each key reference replaced by its key, defaults too."""
    (tmp_path / "circuit.key").write_text(SECRET + "\n")
    monkeypatch.setenv("BGP_KEY", SECRET + "x")
    text = _text(circuit_key="", bgp_key="password: {env: BGP_KEY}")
    text += "defaults:\n  expressroute: {sharedKey: {file: circuit.key}}\n"
    network = parse_topology(text, "md5.yaml", KeySources(base=tmp_path))
    inline = inline_keys(network)
    assert inline["defaults"]["expressroute"]["sharedKey"] == SECRET
    assert inline["connections"][1]["password"] == SECRET + "x"
    assert inline["nodes"] == source_of(network, "test").document["nodes"]
    sent = yaml.safe_dump(inline, sort_keys=False)
    assert parse_topology(sent, "sent.yaml", KeySources(references=False)) == network


def test_validate_and_solve_never_print_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "md5.yaml"
    path.write_text(_text(circuit_key=f'sharedKey: "{SECRET}"', bgp_key=f'password: "{SECRET}"'))
    assert main(["validate", str(path)]) == 0
    assert main(["solve", str(path), "--node", "CE", "-o", "json"]) == 0
    assert main(["solve", str(path), "--learned-routes", "ErGW", "-o", "json"]) == 0
    out = capsys.readouterr()
    assert "10.30.0.0/24" in out.out  # the keyed bgp session carried Branch's prefix
    assert SECRET not in out.out + out.err


def test_a_relative_key_file_is_read_beside_the_topology(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``{file: PATH}`` starts from the directory of the file that names it, not from
    wherever the command runs."""
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "circuit").write_text(SECRET + "\n")
    topology = tmp_path / "md5.yaml"
    topology.write_text(_text(circuit_key="sharedKey: {file: keys/circuit}"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    plan = compile_network(load_topology(topology))
    keys = {n.tcp_md5_key for s in plan.speakers for n in s.neighbors} - {None}
    assert keys == {TcpMd5Key(SECRET.encode())}


def test_a_topology_for_a_running_lab_may_not_point_at_files_or_the_environment() -> None:
    """The control topic's ``apply`` (lab/control.py) loads with references refused: a
    remote client cannot make the lab read a file or a variable as a key."""
    for reference in ("{file: /etc/hostname}", "{env: HOME}"):
        text = _text(circuit_key=f"sharedKey: {reference}")
        with pytest.raises(ConfigError) as info:
            parse_topology(text, "x.yaml", KeySources(references=False))
        (problem,) = info.value.problems
        assert problem.location == "nodes.Circuit.sharedKey"
        assert "gives its TCP-MD5 keys inline" in problem.message
    parse_topology(
        _text(circuit_key=f'sharedKey: "{SECRET}"'), "x.yaml", KeySources(references=False)
    )
