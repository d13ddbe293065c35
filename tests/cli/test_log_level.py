"""Long-running commands log at info by default, observers and one-shot commands at
warning (issue 15); ``--log-level`` overrides either."""

from __future__ import annotations

import pytest

from bgpemu.cli import parse

INFO = [
    ["lab", "up", "hub-spoke"],
    ["speaker", "--config", "a.yaml"],
    ["broker"],
]
WARNING = [
    ["solve", "--config", "a.yaml"],
    ["validate", "t.yaml"],
    ["diff", "t.yaml", "--change", "c.yaml"],
    ["routes", "A"],
    ["sessions"],
    ["watch"],
    ["fail", "node", "A"],
    ["announce", "A", "10.0.0.0/24"],
    ["trace", "t.yaml", "VM1", "VM2"],
    ["lab", "down", "--name", "demo"],
    ["lab", "status"],
]


@pytest.mark.parametrize("argv", INFO, ids=" ".join)
def test_long_running_commands_log_at_info(argv: list[str]) -> None:
    assert parse(argv).log_level == "info"


@pytest.mark.parametrize("argv", WARNING, ids=" ".join)
def test_observers_and_one_shot_commands_log_at_warning(argv: list[str]) -> None:
    assert parse(argv).log_level == "warning"


@pytest.mark.parametrize("argv", [INFO[0], WARNING[0]], ids=" ".join)
def test_the_option_overrides_the_default(argv: list[str]) -> None:
    assert parse(["--log-level", "debug", *argv]).log_level == "debug"
    assert parse(["--log-level", "error", *argv]).log_level == "error"
