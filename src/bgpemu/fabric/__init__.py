"""The Fabric (L5): many Routers on in-memory links in deterministic virtual time."""

from bgpemu.fabric.fabric import ConvergenceError, Fabric
from bgpemu.fabric.links import Cut

__all__ = ["ConvergenceError", "Cut", "Fabric"]
