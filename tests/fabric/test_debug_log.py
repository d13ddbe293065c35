"""The fabric's best-path log: on the ``bgpemu.fabric`` debug logger, not in ``Fabric.events``.

A large topology changes best paths tens of thousands of times (84,000 on vWAN
2 x 10 x 200); keeping a line for each in :attr:`Fabric.events` cost a second and the
memory of ``bgpemu solve`` although nobody read them.  They go to the debug log, as in
the TCP runtime (``bgpemu.runtime.speaker``), and are formatted only when it is enabled.
"""

from __future__ import annotations

import logging

import pytest

from bgpemu.fabric import Fabric

from .helpers import Node, build, v4

P = "10.1.0.0/24"
LOGGER = "bgpemu.fabric.fabric"


def _pair() -> Fabric:
    nodes = [Node("a", 1, 65001, routes=(v4(P),)), Node("b", 2, 65002)]
    return Fabric(build(nodes, [("a", "b")]))


def test_best_path_changes_are_not_kept_in_events() -> None:
    fabric = _pair()
    fabric.run_until_idle()
    texts = [text for _, _, text in fabric.events]
    assert any("established" in text.lower() for text in texts), texts  # the log still runs
    assert not [text for text in texts if "best path" in text]


def test_best_path_changes_go_to_the_debug_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    fabric = _pair()
    fabric.run_until_idle()
    lines = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert any(line.startswith(f"b: best path {P}: a (") for line in lines), lines
