"""SessionConfig validation."""

from __future__ import annotations

from typing import Any

import pytest

from bgpemu.session import SessionConfig
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST
from bgpemu.wire.messages import AddPathMode

from .helpers import make_config


def test_config_defaults() -> None:
    cfg = make_config()
    assert (cfg.hold_time, cfg.connect_retry_time, cfg.idle_hold_time) == (90, 120.0, 5.0)
    assert cfg.families == (IPV4_UNICAST,)
    assert cfg.auto_restart
    assert not cfg.passive


@pytest.mark.parametrize("hold_time", [0, 3, 90, 65535])
def test_config_accepts_hold_time(hold_time: int) -> None:
    assert make_config(hold_time=hold_time).hold_time == hold_time


@pytest.mark.parametrize(
    "overrides",
    [
        {"hold_time": 1},
        {"hold_time": 2},
        {"hold_time": -1},
        {"hold_time": 65536},
        {"local_as": 0},
        {"peer_as": 2**32},
        {"bgp_identifier": "0.0.0.0"},
        {"bgp_identifier": "10.0.0"},
        {"bgp_identifier": "2001:db8::1"},
        {"connect_retry_time": 0.0},
        {"idle_hold_time": -1.0},
        {"families": ()},
        {"families": (IPV4_UNICAST, IPV4_UNICAST)},
        {"add_path": ((IPV6_UNICAST, AddPathMode.BOTH),)},
    ],
)
def test_config_rejects(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        make_config(**overrides)


def test_config_is_frozen_keyword_only() -> None:
    with pytest.raises(TypeError):
        SessionConfig(65001, 65002, "10.0.0.1")  # type: ignore[call-arg]
