"""The pytest plugin of bgpemu (entry point ``pytest11``: ``bgpemu = bgpemu.testing.plugin``).

Adds the ``--bgpemu-engine {fabric,tcp}`` option (default ``fabric``), the
``bgpemu_engine`` fixture (its value) and the ``bgpemu_lab`` fixture: a factory that
starts labs and stops every one of them at teardown, whatever the test's outcome::

    async def test_failover(bgpemu_lab):
        lab = await bgpemu_lab("er-vpn-backup")
        await lab.converged()

``bgpemu_lab(topology, engine=None, **options)`` takes :func:`bgpemu.testing.start_lab`'s
options; ``engine=None`` means the command line's engine.  ``bgpemu_lab`` is a
pytest-asyncio fixture (function scope): pytest-asyncio must be installed
(``pip install bgpemu[pytest]`` installs it).

No configuration is needed (no ``asyncio_mode = auto``): an ``async def`` test that
requests a bgpemu fixture, or whose module uses ``bgpemu`` (``from bgpemu.testing
import start_lab``), is marked ``@pytest.mark.asyncio`` at collection unless it already
carries a mark of an async framework (``asyncio``, ``anyio``, ``trio``).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from os import PathLike
from types import ModuleType
from typing import Any

import pytest

from bgpemu.azure.model import Network
from bgpemu.testing.lab import ENGINES, Lab, start_lab

__all__ = [
    "LabFactory",
    "bgpemu_engine",
    "bgpemu_lab",
    "pytest_addoption",
    "pytest_pycollect_makeitem",
]

try:
    from pytest_asyncio import fixture as _async_fixture

    _HAS_PYTEST_ASYNCIO = True
except ImportError:  # the plugin loads in every pytest run: never break one without it
    _async_fixture = pytest.fixture  # type: ignore[assignment]
    _HAS_PYTEST_ASYNCIO = False

_FIXTURES = frozenset({"bgpemu_lab", "bgpemu_engine"})
_ASYNC_MARKS = frozenset({"asyncio", "anyio", "trio"})

LabFactory = Callable[..., Awaitable[Lab]]
"""``await bgpemu_lab(topology, engine=None, **options) -> Lab``."""


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--bgpemu-engine``."""
    group = parser.getgroup("bgpemu", "bgpemu labs")
    group.addoption(
        "--bgpemu-engine",
        choices=ENGINES,
        default="fabric",
        help="engine of the labs started by the bgpemu_lab fixture (default: fabric)",
    )


def _uses_bgpemu(function: Callable[..., Any]) -> bool:
    """The test requests a bgpemu fixture, or its module holds something of bgpemu."""
    parameters = inspect.signature(function).parameters
    if _FIXTURES.intersection(parameters):
        return True
    for value in vars(inspect.getmodule(function) or ModuleType("_")).values():
        name = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", "")
        if isinstance(name, str) and (name == "bgpemu" or name.startswith("bgpemu.")):
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    """Mark a bgpemu ``async def`` test ``asyncio`` (module docstring), before pytest-asyncio
    sees it; collects nothing itself."""
    if not _HAS_PYTEST_ASYNCIO or not inspect.iscoroutinefunction(obj):
        return
    if not isinstance(collector, pytest.Module | pytest.Class):
        return
    if not collector.funcnamefilter(name):
        return
    marks = {mark.name for mark in getattr(obj, "pytestmark", [])}
    marks.update(mark.name for mark in collector.iter_markers())
    if marks & _ASYNC_MARKS or not _uses_bgpemu(obj):
        return
    pytest.mark.asyncio(obj)


@pytest.fixture
def bgpemu_engine(request: pytest.FixtureRequest) -> str:
    """The engine chosen on the command line (``--bgpemu-engine``)."""
    engine: str = request.config.getoption("--bgpemu-engine")
    return engine


@_async_fixture
async def bgpemu_lab(bgpemu_engine: str) -> AsyncIterator[LabFactory]:
    """A factory of started labs, all stopped cleanly at teardown."""
    labs: list[Lab] = []

    async def factory(
        topology: str | PathLike[str] | Network, engine: str | None = None, **options: Any
    ) -> Lab:
        lab = await start_lab(topology, engine or bgpemu_engine, **options)
        labs.append(lab)
        return lab

    try:
        yield factory
    finally:
        for lab in reversed(labs):
            await lab.stop()
