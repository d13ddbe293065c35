"""The lab's retained ``topology`` document read back into a network and its plan.

One reading for the whole web view: the graph (:mod:`bgpemu.web.view`) and the traffic
requests (:mod:`bgpemu.web.activity`) both load and plan the document as ``bgpemu
graph`` loads and plans a file (``parse_topology``, then ``compile_network``).  The
document's TCP-MD5 keys are redacted by the lab, so references to key files are not
followed (``KeySources(references=False)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bgpemu.azure.model import Network
from bgpemu.azure.plan import Plan
from bgpemu.config.keys import KeySources
from bgpemu.errors import BgpEmuError

__all__ = ["topology_model"]


def topology_model(doc: Mapping[str, Any]) -> tuple[Network, Plan]:
    """The network and plan of a ``topology`` document (pure; a vWAN of a hundred
    speakers takes about half a second).  Raises :class:`~bgpemu.errors.BgpEmuError`
    (a ``ConfigError`` with every problem for a topology that does not validate) when
    the document cannot be read."""
    from bgpemu.azure.roles import compile_network
    from bgpemu.topology import parse_topology

    text, file = doc.get("topology"), doc.get("file")
    if not isinstance(text, str):
        raise BgpEmuError("the topology document has no 'topology' text")
    name = file if isinstance(file, str) and file else "<topology>"
    network = parse_topology(text, f"topology document ({name})", KeySources(references=False))
    return network, compile_network(network)
