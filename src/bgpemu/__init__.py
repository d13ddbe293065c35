"""bgpemu: a BGP route-exchange emulator for hybrid Azure networks.

The package is layered (see ``docs/architecture.md``; ``lint-imports`` checks the
order): a pure, sans-IO core (``types``, ``errors``, ``wire``, ``session``, ``rib``,
``policy``, ``router``, ``fabric``, ``azure``, and the edge formats ``config`` and
``topology``) under a thin asyncio shell (``runtime``, ``observe``, ``lab``,
``testing``, ``cli``), beside the embedded MQTT broker (``mqttbroker``), which
knows nothing of BGP.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
