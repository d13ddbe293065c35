"""Only for running these examples from a source checkout (``PYTHONPATH=src``) whose installed
metadata predates bgpemu's pytest entry point: an installed bgpemu registers the plugin
(``bgpemu.testing.plugin``) by itself and this hook then does nothing.  Your own test
suite needs no conftest."""

from __future__ import annotations

import importlib

import pytest


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    plugin = importlib.import_module("bgpemu.testing.plugin")
    if not pluginmanager.is_registered(plugin):
        pluginmanager.register(plugin, "bgpemu")
