"""The supervisor <-> worker messages (bgpemu.lab.protocol): closed unions each way."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
import types
import typing
from pathlib import Path

from bgpemu.lab import protocol
from bgpemu.lab.supervisor import TcpLab
from bgpemu.topology import load_topology
from bgpemu.types import IPV4_UNICAST

TOPOLOGIES = Path(__file__).resolve().parents[3] / "topologies"


def _members(union: object) -> set[type]:
    found: set[type] = set()
    for arg in typing.get_args(union):
        found |= _members(arg) if isinstance(arg, types.UnionType) else {arg}
    return found


def test_every_message_is_in_exactly_one_direction() -> None:
    """A message class left out of both unions could be sent but never matched."""
    messages = {
        cls
        for _, cls in inspect.getmembers(protocol, inspect.isclass)
        if dataclasses.is_dataclass(cls) and cls.__module__ == protocol.__name__
    }
    to_worker = _members(protocol.ToWorker) - {protocol.Request} | _members(protocol.Command)
    from_worker = _members(protocol.FromWorker) - {protocol.Reply} | _members(protocol.Answer)
    assert not to_worker & from_worker
    assert messages == to_worker | from_worker | {protocol.Request, protocol.Reply}


def test_every_command_has_its_own_name() -> None:
    """The name errors give (``policy: ...``), one per command."""
    kinds = [cls.kind for cls in typing.get_args(protocol.Command)]
    assert len(kinds) == len(set(kinds)) == 12


def test_a_request_crosses_the_pipe_unchanged() -> None:
    request = protocol.Request(7, protocol.Withdraw("HubGW", IPV4_UNICAST, "10.1.0.0/16"))
    assert pickle.loads(pickle.dumps(request)) == request


def test_a_worker_is_given_only_its_share_of_the_plan() -> None:
    """Item 7: a worker gets its speakers' specs and endpoints, not the whole network
    to compile again (nor the whole plan)."""
    lab = TcpLab(load_topology(TOPOLOGIES / "hub-spoke-transit.yaml"))
    everything = {spec.name: spec for spec in lab.plan.speakers}
    group = sorted(everything)[:1]
    config = lab._worker_config(group)
    assert config.specs == tuple(everything[name] for name in group)
    assert dict(config.endpoints) == {name: lab.plan.endpoints[name] for name in group}
    assert not hasattr(config, "network")
    assert not hasattr(config, "plan")
