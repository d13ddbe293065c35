"""The lab's retained ``topology`` document read back into a network and its plan.

One reading for the whole web view: the graph (:mod:`bgpemu.web.view`) and the traffic
requests (:mod:`bgpemu.web.activity`) both load and plan the document as ``bgpemu
graph`` loads and plans a file (``parse_topology``, then ``compile_network``).  The
document's TCP-MD5 keys are redacted by the lab, so references to key files are not
followed (``KeySources(references=False)``).

And one compilation per document: the server compiles each ``topology`` document it
receives once (:func:`compile_topology`, in a thread, with the graph:
:func:`bgpemu.web.view.prepare_topology`) and the view hands the result, a
:class:`CompiledTopology`, to the graph and to the parts that use it (the traffic part's
trace, inject and endpoints requests).  A new document (a live topology change) is a new
compilation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bgpemu.azure.model import Network
from bgpemu.azure.plan import Plan
from bgpemu.config.keys import KeySources
from bgpemu.errors import BgpEmuError

__all__ = ["CompiledTopology", "compile_topology", "topology_model"]


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


@dataclass(frozen=True, slots=True)
class CompiledTopology:
    """A ``topology`` document and what it compiles to: its network and plan, or the
    error that says why it cannot be read (exactly one of ``model`` and ``error``)."""

    doc: dict[str, Any]
    model: tuple[Network, Plan] | None
    error: Exception | None


def compile_topology(doc: dict[str, Any]) -> CompiledTopology:
    """:func:`topology_model` of ``doc``, its failure kept (without its traceback: the
    parser's frames are not held), never raised: a bad document is reported, never a
    traceback."""
    try:
        return CompiledTopology(doc, topology_model(doc), None)
    except (BgpEmuError, ValueError, TypeError, RecursionError) as exc:
        return CompiledTopology(doc, None, exc.with_traceback(None))
