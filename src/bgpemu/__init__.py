"""bgpemu: a BGP route-exchange emulator for hybrid Azure networks.

The package is layered (see ``docs/architecture.md``): a pure, sans-IO core
(``types``, ``errors``, ``wire``, ``session``, ``router``) under a thin asyncio
shell (``runtime``, ``cli``).
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
