"""A subcommand pays only for its own modules (issue 13, "performance not worse"): ``bgpemu
solve`` imports neither the MQTT broker nor the lab, the web view or the observers, and
``lab up --no-web`` does not import the web server; the parser built for one command
describes it exactly as the whole parser does."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from bgpemu import cli

_PROBE = """
import json, sys
from bgpemu.cli import {entry}
try:
    {call}
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if m.startswith("bgpemu"))))
"""


def _imported(entry: str, call: str) -> set[str]:
    """The bgpemu modules a fresh interpreter holds after ``call``."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(entry=entry, call=call)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    names: list[str] = json.loads(done.stdout.splitlines()[-1])
    return set(names)


def test_solve_does_not_import_the_other_commands() -> None:
    modules = _imported("main", "main(['solve', '--help'])")
    assert "bgpemu.cli.solve" in modules
    for unwanted in (
        "bgpemu.mqttbroker",
        "bgpemu.cli.broker",
        "bgpemu.cli.lab",
        "bgpemu.cli.observe",
        "bgpemu.cli.web",
        "bgpemu.lab",
    ):
        assert unwanted not in modules, unwanted


def test_lab_without_web_view_does_not_import_the_web_server() -> None:
    call = (
        "import argparse; from bgpemu.cli._lab_web import check_web_options; "
        "check_web_options(argparse.Namespace(no_web=True, exit_after_converged=False, "
        "no_mqtt=False, web=None))"
    )
    modules = _imported("_lab_web", call)
    assert "bgpemu.cli._lab_web" in modules
    assert "bgpemu.web.server" not in modules


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no subcommands")


@pytest.mark.parametrize("command", sorted(cli.ONE_COMMAND_MODULES))
def test_the_parser_of_one_command_is_the_whole_parsers(command: str) -> None:
    whole = _commands(cli._parser())
    alone = _commands(cli._parser(command))
    assert list(alone) == [command]
    assert alone[command].format_help() == whole[command].format_help()


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["solve", "t.yaml"], "solve"),
        (["--log-level", "debug", "lab", "up", "x"], "lab"),
        (["--log-level=debug", "validate", "t.yaml"], "validate"),
        (["--log", "info", "broker"], "broker"),
        (["--version"], None),
        ([], None),
    ],
)
def test_the_command_is_found_past_the_global_options(argv: list[str], command: str | None) -> None:
    assert cli.command_of(argv) == command
