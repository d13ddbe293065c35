"""docker-compose.yml's variables (docs/lab.md, "Docker"): unset, a user with a registry
gets python:3.11-slim, eclipse-mosquitto:2, bgpemu:local and ports 1883/9001, exactly as
before they existed; set, each reaches its place.  Resolved by ``docker-compose config``
(no engine needed)."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import pytest
import yaml

from tests.cli_process import ROOT
from tests.integration._daemon_base import require_binary

pytestmark = pytest.mark.docker

BROKER_COMMAND = ["/usr/sbin/mosquitto", "-c", "/mosquitto/config/mosquitto.conf"]


def _config(**variables: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BGPEMU_", "COMPOSE_"))}
    env.update(variables)
    done = subprocess.run(
        [require_binary("docker-compose"), "--profile", "split", "config"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = yaml.safe_load(done.stdout)
    return config


def _ports(broker: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(host ip, host port, container port) of each published port, in either syntax."""
    out = set()
    for port in broker["ports"]:
        if isinstance(port, str):
            ip, published, target = port.split(":")
            out.add((ip, published, target.removesuffix("/tcp")))
        else:
            out.add((port["host_ip"], str(port["published"]), str(port["target"])))
    return out


def _addresses(config: dict[str, Any]) -> dict[str, str]:
    """The bridge's subnet, each service's address and the split speakers' --address-base."""
    out = {"subnet": config["networks"]["lab"]["ipam"]["config"][0]["subnet"]}
    for name, service in config["services"].items():
        out[name] = service["networks"]["lab"]["ipv4_address"]
        command = [str(part) for part in service["command"]]
        if "--address-base" in command:
            base = command[command.index("--address-base") + 1]
            assert out.setdefault("--address-base", base) == base
    return out


def test_unset_variables_give_what_a_user_with_a_registry_gets() -> None:
    config = _config()
    services = dict(config["services"])
    broker = services.pop("broker")
    assert broker["image"] == "eclipse-mosquitto:2"
    assert broker["command"] == BROKER_COMMAND  # eclipse-mosquitto's own command
    assert _ports(broker) == {("127.0.0.1", "1883", "1883"), ("127.0.0.1", "9001", "9001")}
    assert sorted(services) == ["HubGW", "OnPrem", "lab"]
    for service in services.values():
        assert service["build"]["args"] == {"BASE": "python:3.11-slim"}
        assert service["image"] == "bgpemu:local"
    assert services["lab"]["command"][2] == "/opt/bgpemu/topologies/hub-spoke-transit.yaml"
    assert _addresses(config) == {
        "subnet": "10.99.0.0/24",
        "broker": "10.99.0.2",
        "lab": "10.99.0.10",
        "HubGW": "10.99.0.11",
        "OnPrem": "10.99.0.12",
        "--address-base": "10.99.0.11",
    }


def test_each_variable_reaches_its_place() -> None:
    config = _config(
        BGPEMU_BRIDGE="10.98.7",
        BGPEMU_BASE_IMAGE="base:1",
        BGPEMU_BROKER_IMAGE="broker:2",
        BGPEMU_IMAGE="bgpemu:3",
        BGPEMU_MQTT_PORT="18834",
        BGPEMU_MQTT_WS_PORT="19005",
        BGPEMU_TOPOLOGY="er-vpn-backup",
    )
    services = dict(config["services"])
    broker = services.pop("broker")
    assert broker["image"] == "broker:2"
    assert _ports(broker) == {("127.0.0.1", "18834", "1883"), ("127.0.0.1", "19005", "9001")}
    for service in services.values():
        assert service["build"]["args"] == {"BASE": "base:1"}
        assert service["image"] == "bgpemu:3"
    assert services["lab"]["command"][2] == "/opt/bgpemu/topologies/er-vpn-backup.yaml"
    assert _addresses(config) == {
        "subnet": "10.98.7.0/24",
        "broker": "10.98.7.2",
        "lab": "10.98.7.10",
        "HubGW": "10.98.7.11",
        "OnPrem": "10.98.7.12",
        "--address-base": "10.98.7.11",
    }


def test_the_dockerfile_base_defaults_to_python_slim() -> None:
    """Without ``--build-arg BASE`` (a plain ``docker build .``) the base is the registry's."""
    lines = [
        line.strip()
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines[:2] == ["ARG BASE=python:3.11-slim", "FROM ${BASE}"]
