"""The page <-> server protocol of the web view: one JSON message per WebSocket frame (pure).

The page sends requests ``{"id": N, "request": NAME, ...}``; the server answers each with
``{"type": "reply", "id": N, "ok": true, "data": ...}`` or ``{"type": "reply", "id": N,
"ok": false, "error": "<message naming the field>"}`` (docs/web.md).  Everything a page
sends is checked here before anything acts on it: a frame that is not JSON, not an
object, without an integer ``id`` or a known ``request``, or with a field of the wrong
type gets an error reply naming it, never a traceback.

The extension points of the view (docs/web.md, "Extension points"): a :class:`Part`
follows lab-level documents and adds to the snapshot (a :class:`TopologyPart` is also
handed the lab's compiled topology, compiled once for the whole view); a :data:`Handler`
serves a request given a :class:`Context`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from bgpemu.errors import BgpEmuError
from bgpemu.observe.topics import TopicRef

if TYPE_CHECKING:
    from bgpemu.web.topology_doc import CompiledTopology

__all__ = [
    "MAX_FRAME",
    "MAX_ID",
    "Context",
    "Handler",
    "Part",
    "RequestError",
    "TopologyPart",
    "error_reply",
    "integer_field",
    "parse_request",
    "reply",
    "request_id",
    "text_field",
]

MAX_FRAME = 64 * 1024
"""The largest frame a page may send (bytes); the server refuses (closes 1009) a larger one."""

MAX_ID = 2**53 - 1
"""The largest request ``id`` (JavaScript's largest safe integer)."""

Message = dict[str, Any]


class RequestError(BgpEmuError):
    """A page request that cannot be served; the message names the field and says why.
    ``ident`` is the request's ``id`` when :func:`parse_request` could read it."""

    def __init__(self, message: str, ident: int | None = None) -> None:
        super().__init__(message)
        self.ident = ident


class Part(Protocol):
    """A piece of the view that follows lab-level documents (W-act: timeline, traffic)."""

    def receive(self, ref: TopicRef, doc: dict[str, Any] | None, now: float) -> list[Message]:
        """Take a document (None: the retained one was cleared); the messages to push."""
        ...

    def snapshot(self) -> dict[str, Any]:
        """What this part adds to the ``snapshot`` message (e.g. ``{"timeline": [...]}``)."""
        ...


@runtime_checkable
class TopologyPart(Part, Protocol):
    """A part that uses the lab's topology compiled (its network and plan): the view
    hands it the compilation the server made of a ``topology`` document for the graph
    (:func:`bgpemu.web.topology_doc.compile_topology`, once per document) instead of
    the document alone (:meth:`Part.receive` still gets a cleared one, None)."""

    def receive_topology(
        self, ref: TopicRef, compiled: CompiledTopology, now: float
    ) -> list[Message]:
        """Take a ``topology`` document with its compilation; the messages to push."""
        ...


class Context(Protocol):
    """What a request handler may use."""

    @property
    def lab(self) -> str: ...

    @property
    def view(self) -> Any:
        """The :class:`~bgpemu.web.view.LabView`."""
        ...

    def now(self) -> float:
        """Unix time."""
        ...

    async def control(
        self, op: str, args: Mapping[str, Any], timeout: float, first: float | None = None
    ) -> list[dict[str, Any]]:
        """Send ``op`` to the lab's ``control`` topic; its answering events (TimeoutError
        when the last did not come within ``timeout`` seconds, or the first within
        ``first`` when given: an injection's ``injected`` comes at once, its convergence
        may take minutes)."""
        ...


Handler = Callable[[Context, Mapping[str, Any]], Awaitable[Any]]
"""Serves one request: the reply's ``data``, or :class:`RequestError`."""


def parse_request(frame: str | bytes) -> tuple[int, Mapping[str, Any]]:
    """``(id, request)`` of a frame; RequestError (with the ``id`` when one was read) for a
    frame that is not a JSON object with an integer ``id`` and a string ``request``."""
    if len(frame) > MAX_FRAME:
        raise RequestError(f"frame of {len(frame)} bytes: at most {MAX_FRAME}")
    try:
        message = json.loads(frame)
    except (ValueError, RecursionError):
        raise RequestError("not JSON: a request is a JSON object") from None
    if not isinstance(message, dict):
        raise RequestError(f"a request is a JSON object, not {type(message).__name__}")
    ident = message.get("id")
    if isinstance(ident, bool) or not isinstance(ident, int) or not 0 <= ident <= MAX_ID:
        raise RequestError(f"id: an integer from 0 to {MAX_ID} is required, not {ident!r:.40}")
    name = message.get("request")
    if not isinstance(name, str) or not name:
        raise RequestError("request: the name of the request (a string) is required", ident)
    return ident, message


def request_id(exc: RequestError) -> int | None:
    """The ``id`` of the request a :func:`parse_request` error is about, if it was read."""
    return exc.ident


def text_field(
    request: Mapping[str, Any], name: str, *, default: str | None = None, max_length: int = 200
) -> str:
    """The string field ``name`` (``default`` when absent; RequestError otherwise)."""
    value = request.get(name, default)
    if value is None:
        raise RequestError(f"{name}: required (a string)")
    if not isinstance(value, str):
        raise RequestError(f"{name}: a string, not {type(value).__name__}")
    if len(value) > max_length:
        raise RequestError(f"{name}: at most {max_length} characters")
    return value


def integer_field(
    request: Mapping[str, Any], name: str, *, default: int, low: int, high: int
) -> int:
    """The integer field ``name`` within ``[low, high]`` (``default`` when absent)."""
    value = request.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise RequestError(f"{name}: an integer, not {value!r:.40}")
    if not low <= value <= high:
        raise RequestError(f"{name}: from {low} to {high}, not {value}")
    return value


def reply(ident: int, data: Any) -> Message:
    """A successful answer to request ``ident``."""
    return {"type": "reply", "id": ident, "ok": True, "data": data}


def error_reply(ident: int | None, error: str) -> Message:
    """A refusal of request ``ident`` (None: the frame had no readable id)."""
    return {"type": "reply", "id": ident, "ok": False, "error": error}
