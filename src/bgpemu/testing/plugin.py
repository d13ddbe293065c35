"""The pytest plugin of bgpemu (entry point ``pytest11``: ``bgpemu = bgpemu.testing.plugin``).

Adds the ``--bgpemu-engine {fabric,tcp}`` option (default ``fabric``), the
``bgpemu_engine`` fixture (its value) and the ``bgpemu_lab`` fixture: a factory that
starts labs and stops every one of them at teardown, whatever the test's outcome::

    async def test_failover(bgpemu_lab):
        lab = await bgpemu_lab("topologies/er-vpn-backup.yaml")
        await lab.converged()

``bgpemu_lab(topology, engine=None, **options)`` takes :func:`bgpemu.testing.start_lab`'s
options; ``engine=None`` means the command line's engine.  ``bgpemu_lab`` is a
pytest-asyncio fixture (function scope): pytest-asyncio must be installed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from os import PathLike
from typing import Any

import pytest

from bgpemu.azure.model import Network
from bgpemu.testing.lab import ENGINES, Lab, start_lab

__all__ = ["LabFactory", "bgpemu_engine", "bgpemu_lab", "pytest_addoption"]

try:
    from pytest_asyncio import fixture as _async_fixture
except ImportError:  # the plugin loads in every pytest run: never break one without it
    _async_fixture = pytest.fixture  # type: ignore[assignment]

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
