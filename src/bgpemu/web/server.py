"""The web view's server: static files, read-only JSON and one WebSocket per page.

Theory of operation.  One ``websockets`` server (its asyncio API) listens on
127.0.0.1:8179 by default.  Plain GET requests are answered by
:func:`bgpemu.web.responses.answer_get`: the page and its assets from the package
(``web/static``), and ``/api/snapshot`` (the token is needed:
:mod:`bgpemu.web.access`).  ``/ws?token=...`` is the page's one WebSocket: the server
sends the :meth:`~bgpemu.web.view.LabView.snapshot` first, then pushes what the view
says changed; the page's requests (``tables``, ``table`` here,
the rest from :mod:`bgpemu.web.extensions`) each get a reply.

One :class:`~bgpemu.observe.mqtt.Follower` follows the lab's light documents and, on
demand, the few route tables pages have open (at most :data:`MAX_WATCHED`, the least
recently used dropped).  Each page has a bounded queue of messages; a page too slow to
take them gets a fresh snapshot instead of the backlog.  Nothing a page sends can end
the server: a bad frame, an unknown request or a field of the wrong type gets an error
reply naming it, a frame over :data:`~bgpemu.web.protocol.MAX_FRAME` closes that page
(1009), and an unexpected error while serving a request is logged and answered.
"""

from __future__ import annotations

import asyncio
import collections
import errno
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from bgpemu.observe.mqtt import Follower, send_control
from bgpemu.observe.payloads import control_payload
from bgpemu.observe.topics import LabTopics, parse_topic
from bgpemu.observe.url import BrokerAddress, parse_mqtt_url
from bgpemu.web.access import Access, new_token
from bgpemu.web.protocol import (
    MAX_FRAME,
    Handler,
    Part,
    RequestError,
    error_reply,
    integer_field,
    parse_request,
    reply,
    request_id,
    text_field,
)
from bgpemu.web.responses import answer_get
from bgpemu.web.tables import MAX_LIMIT, Cells, page_of, table_cells, table_list, table_topic
from bgpemu.web.view import LabView, Message, TopologyPreparer, decode

__all__ = ["DEFAULT_LISTEN", "MAX_WATCHED", "WebServer"]

logger = logging.getLogger(__name__)

DEFAULT_LISTEN = ("127.0.0.1", 8179)
MAX_WATCHED = 24
"""Route-table topics followed at once for open pages (least recently used dropped)."""
QUEUE = 2000
"""Messages waiting for one page before it is resynchronised with a snapshot."""
MAX_REQUESTS = 16
"""Requests of one page served at once; more are refused."""
TABLE_WAIT = 5.0
"""Seconds a table request waits for its retained document once subscribed."""
VIEWS_QUIET = 0.25
"""Seconds without a new Azure view document after which a node's views are all in."""
VIEWS_WAIT = 3.0
ELEMENTS_DELAY = 0.05
"""Seconds a new graph waits before it is pushed: a burst of changes (a lab starting, a
topology applied, the broker's retained documents) is one ``elements`` message, not one
per speaker."""
LARGE = 64 * 1024
"""Bytes from which a table document is decoded in a thread, not on the event loop."""
SMALL_LAB = 30
"""Speakers up to which the view follows the speakers' ``events`` deltas too."""
RESYNC_DELAY = 0.5
"""Seconds after a reconnection to the broker before the pages get a new snapshot."""


class _Page:
    """One open page: its connection and its queue of messages to send."""

    def __init__(self, connection: ServerConnection) -> None:
        self.connection = connection
        self.queue: asyncio.Queue[str] = asyncio.Queue(QUEUE)
        self.requests: set[asyncio.Task[None]] = set()
        """The page's requests being served (cancelled when it closes: nobody would read
        the answer; an injection already sent goes on in the lab)."""


class _Context:
    """What a request handler may use (:class:`bgpemu.web.protocol.Context`)."""

    def __init__(self, server: WebServer) -> None:
        self._server = server

    @property
    def lab(self) -> str:
        return self._server.lab

    @property
    def view(self) -> LabView:
        return self._server.view

    def now(self) -> float:
        return time.time()

    async def control(
        self, op: str, args: Mapping[str, Any], timeout: float, first: float | None = None
    ) -> list[dict[str, Any]]:
        payload = control_payload(uuid.uuid4().hex, op, **dict(args))
        wait = timeout if first is None else first
        return await send_control(self._server.address, self.lab, payload, timeout, first=wait)


class WebServer:
    """Serves the web view of lab ``lab`` on the broker at ``address`` (see the module
    docstring); ``async with`` it, or :meth:`serve` until cancelled."""

    def __init__(
        self,
        address: str | BrokerAddress,
        lab: str,
        *,
        listen: tuple[str, int] = DEFAULT_LISTEN,
        token: str | None = None,
        parts: Sequence[Part] | None = None,
        requests: Mapping[str, Handler] | None = None,
        fallback: bool = False,
    ) -> None:
        self.address = parse_mqtt_url(address) if isinstance(address, str) else address
        self.lab = lab
        self.listen = listen
        self.fallback = fallback
        """When the port is taken, listen on a free one instead (``lab up``'s default)."""
        self.token = token or new_token()
        if parts is None or requests is None:
            from bgpemu.web import extensions

            parts = [make() for make in extensions.PARTS] if parts is None else parts
            requests = extensions.REQUESTS if requests is None else requests
        self.view = LabView(lab, parts)
        core: dict[str, Handler] = {"tables": self._tables, "table": self._table}
        clash = sorted(set(core) & set(requests))
        if clash:
            raise ValueError(f"web requests {', '.join(clash)} are the core's (docs/web.md)")
        self.handlers: dict[str, Handler] = {**dict(requests), **core}
        topics = LabTopics(lab=lab)
        self._follower = Follower(
            self.address,
            [
                topics.state,
                topics.topology,
                topics.events,
                f"{topics.base}/traffic/+",
                f"{topics.base}/nodes/+/status",
                f"{topics.base}/nodes/+/info",
                f"{topics.base}/nodes/+/sessions",
            ],
            self._on_message,
            self._on_connection,
        )
        self._watched: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._cells: dict[str, tuple[dict[str, Any], Cells]] = {}
        """The rows of each followed table, as of its document (the same object)."""
        self._pages: set[_Page] = set()
        self._arrived = asyncio.Event()
        self._views_arrived = asyncio.Event()
        """Set (and replaced) for every Azure view document: a node's views are all in
        once none came for a while, whatever else the lab publishes meanwhile."""
        self._server: Server | None = None
        self._context = _Context(self)
        self._resync: asyncio.TimerHandle | None = None
        self._elements_push: asyncio.TimerHandle | None = None
        self._topology_topic = topics.topology
        self._state_topic = topics.state
        self._events_filter = f"{topics.base}/nodes/+/events"
        self._events_followed = False
        self._topology = b""
        self._preparer = TopologyPreparer()
        self._topology_busy = False
        self._topology_wanted = asyncio.Event()
        self._tasks: asyncio.TaskGroup | None = None
        self._topology_task: asyncio.Task[None] | None = None
        self._large: dict[str, bytes] = {}
        self._large_wanted = asyncio.Event()
        self._large_task: asyncio.Task[None] | None = None
        self._was_connected = False
        self.broker_connected = False
        self.access = Access(self.token, listen[0], listen[1])

    # --- life ------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port it listens on (the one chosen when asked for port 0)."""
        if self._server is None:
            return self.listen[1]
        sockets = list(self._server.sockets)
        return int(sockets[0].getsockname()[1]) if sockets else self.listen[1]

    @property
    def url(self) -> str:
        """The page's URL, token included."""
        host = self.listen[0]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}/?token={self.token}"

    async def __aenter__(self) -> WebServer:
        self._tasks = asyncio.TaskGroup()
        await self._tasks.__aenter__()
        self._topology_task = self._tasks.create_task(self._topologies(), name="web topology")
        self._large_task = self._tasks.create_task(
            self._large_documents(), name="web large documents"
        )
        await self._follower.__aenter__()
        try:
            try:
                self._server = await self._listen(self.listen[1])
            except OSError as exc:
                if not self.fallback or exc.errno != errno.EADDRINUSE:
                    raise
                logger.info("web: port %d is taken; listening on a free one", self.listen[1])
                self._server = await self._listen(0)
        except BaseException:
            await self._follower.__aexit__(None, None, None)
            await self._stop_tasks()
            raise
        self.access = Access(self.token, self.listen[0], self.port)
        return self

    async def _listen(self, port: int) -> Server:
        return await serve(
            self._connection,
            self.listen[0],
            port,
            process_request=self._process_request,
            max_size=MAX_FRAME,
            server_header=None,
        )

    async def __aexit__(self, *exc: object) -> None:
        for timer in (self._resync, self._elements_push):
            if timer is not None:
                timer.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        await self._follower.__aexit__(None, None, None)
        await self._stop_tasks()

    async def _stop_tasks(self) -> None:
        for task in (self._topology_task, self._large_task):
            if task is not None:
                task.cancel()
        if self._tasks is not None:
            tasks, self._tasks = self._tasks, None
            await tasks.__aexit__(None, None, None)

    async def serve(self, ready: Callable[[WebServer], None] | None = None) -> None:
        """Serve until cancelled; ``ready`` is called once listening."""
        async with self:
            if ready is not None:
                ready(self)
            await asyncio.Future()

    # --- MQTT in ----------------------------------------------------------------------

    def _on_message(self, topic: str, payload: bytes) -> None:
        if topic == self._topology_topic:  # loaded and planned in a thread: _topologies
            self._topology = payload
            self._topology_busy = True
            self._topology_wanted.set()
            return
        if len(payload) > LARGE and self.view.is_table(topic):  # decoded in a thread
            self._large[topic] = payload
            self._large_wanted.set()
            return
        if topic.endswith("/events") and len(payload) > LARGE:
            return  # a delta of many routes: its sessions document follows
        try:
            messages = self.view.receive(topic, payload, time.time())
        except Exception:  # architecture decision 12: a document never ends the view
            logger.exception("web: the document of %s could not be taken", topic)
            messages = []
        self._push(messages, "/azure/" in topic)
        if topic == self._state_topic:
            self._follow_events()

    def _follow_events(self) -> None:
        """Follow the speakers' ``events`` deltas while the lab has at most
        :data:`SMALL_LAB` speakers: their session entries reach the page tens of
        milliseconds before the ``sessions`` documents; a larger lab's deltas (every
        route change) would cost more than they save."""
        nodes = (self.view.state or {}).get("nodes")
        small = isinstance(nodes, list) and len(nodes) <= SMALL_LAB
        if small == self._events_followed or self._tasks is None:
            return
        self._events_followed = small
        change = self._follower.subscribe if small else self._follower.unsubscribe
        self._tasks.create_task(change(self._events_filter), name="web events subscription")

    def _push(self, messages: list[Message], views: bool = False) -> None:
        for message in messages:
            if message.get("type") == "elements":
                self._elements_later()
            else:
                self._broadcast(message)
        arrived, self._arrived = self._arrived, asyncio.Event()
        arrived.set()
        if views:
            arrived, self._views_arrived = self._views_arrived, asyncio.Event()
            arrived.set()

    async def _large_documents(self) -> None:
        """Decode the large table documents in a thread (a vWAN hub's Loc-RIB is 8 MB of
        JSON, 0.2 s: with ``lab up`` the loop is the lab's own), the newest of a topic
        only: one replaced while it was decoded is decoded again."""
        while True:
            await self._large_wanted.wait()
            self._large_wanted.clear()
            while self._large:
                topic, payload = self._large.popitem()
                doc = await asyncio.to_thread(decode, payload)
                if topic in self._large:
                    continue  # a newer document came meanwhile
                try:
                    messages = self.view.receive_decoded(topic, doc, time.time())
                except Exception:  # architecture decision 12: a document never ends the view
                    logger.exception("web: the document of %s could not be taken", topic)
                    messages = []
                self._push(messages, "/azure/" in topic)

    async def _topologies(self) -> None:
        """Take the newest ``topology`` document, loaded and planned in a thread (a second
        for a vWAN of a hundred speakers: the lab's own loop, when ``lab up`` runs the
        view, is not held; the same document again is taken as it was prepared:
        :class:`~bgpemu.web.view.TopologyPreparer`); one that a newer one replaced
        meanwhile is skipped."""
        ref = parse_topic(self._topology_topic)
        assert ref is not None
        while True:
            await self._topology_wanted.wait()
            self._topology_wanted.clear()
            try:
                topology = await asyncio.to_thread(self._preparer.prepare, self._topology)
                if self._topology_wanted.is_set():
                    continue  # a newer document came meanwhile
                messages = self.view.take_topology(ref, topology, time.time())
            except Exception:  # architecture decision 12: a document never ends the view
                logger.exception("web: the lab's topology document could not be taken")
                messages = []
            self._topology_busy = self._topology_wanted.is_set()
            self._push(messages)

    def _elements_later(self) -> None:
        if self._elements_push is None:
            loop = asyncio.get_running_loop()
            self._elements_push = loop.call_later(ELEMENTS_DELAY, self._push_elements)

    def _push_elements(self) -> None:
        """The graph as it is now (states included), once for a burst of changes."""
        self._elements_push = None
        self._broadcast({"type": "elements", "elements": self.view.snapshot()["elements"]})

    def _on_connection(self, connected: bool) -> None:
        self.broker_connected = connected
        self._broadcast({"type": "broker", "connected": connected, "url": self.address.url})
        if connected and self._was_connected:
            loop = asyncio.get_running_loop()
            if self._resync is not None:
                self._resync.cancel()
            self._resync = loop.call_later(RESYNC_DELAY, self._snapshot_all)
        self._was_connected = self._was_connected or connected

    def _snapshot_all(self) -> None:
        for page in list(self._pages):
            self._resynchronise(page)

    # --- pages out --------------------------------------------------------------------

    def _encode(self, message: Message) -> str:
        return json.dumps(message, separators=(",", ":"), ensure_ascii=False)

    def _broadcast(self, message: Message) -> None:
        if not self._pages:
            return
        text = self._encode(message)
        for page in list(self._pages):
            self._put(page, text)

    def _put(self, page: _Page, text: str) -> None:
        try:
            page.queue.put_nowait(text)
        except asyncio.QueueFull:
            logger.info("web: a page is too slow; it gets a new snapshot")
            self._resynchronise(page)

    def _resynchronise(self, page: _Page) -> None:
        while not page.queue.empty():
            page.queue.get_nowait()
        page.queue.put_nowait(self._encode(self._snapshot()))

    def _snapshot(self) -> Message:
        message = self.view.snapshot()
        message["broker"] = {"connected": self.broker_connected, "url": self.address.url}
        return message

    # --- HTTP (bgpemu.web.responses) -------------------------------------------------

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        return answer_get(request, self.access, lambda: self._encode(self._snapshot()))

    # --- WebSocket --------------------------------------------------------------------

    async def _connection(self, connection: ServerConnection) -> None:
        request = connection.request
        assert request is not None  # a handler runs after the handshake
        refusal = self.access.refusal(
            request.path, request.headers.get("Host"), request.headers.get("Origin")
        )
        if refusal is not None:
            await connection.close(1008, refusal[:120])
            return
        page = _Page(connection)
        page.queue.put_nowait(self._encode(self._snapshot()))
        self._pages.add(page)
        try:
            async with asyncio.TaskGroup() as tg:
                sender = tg.create_task(self._send(page), name="web page sender")
                try:
                    await self._receive(page, tg)
                finally:
                    sender.cancel()
                    for task in page.requests:
                        task.cancel()
        except* ConnectionClosed:
            pass
        finally:
            self._pages.discard(page)

    async def _send(self, page: _Page) -> None:
        while True:
            text = await page.queue.get()
            await page.connection.send(text)

    async def _receive(self, page: _Page, tg: asyncio.TaskGroup) -> None:
        async for frame in page.connection:
            try:
                ident, request = parse_request(frame)
            except RequestError as exc:
                self._put(page, self._encode(error_reply(request_id(exc), str(exc))))
                continue
            if len(page.requests) >= MAX_REQUESTS:
                message = f"too many requests at once (at most {MAX_REQUESTS}); wait for replies"
                self._put(page, self._encode(error_reply(ident, message)))
                continue
            task = tg.create_task(self._serve(page, ident, request), name=f"web request {ident}")
            page.requests.add(task)
            task.add_done_callback(page.requests.discard)

    async def _serve(self, page: _Page, ident: int, request: Mapping[str, Any]) -> None:
        name = request["request"]
        try:
            handler = self.handlers.get(name)
            if handler is None:
                known = ", ".join(sorted(self.handlers))
                raise RequestError(f"request: unknown request {name!r:.60} (one of: {known})")
            answer = reply(ident, await handler(self._context, request))
        except RequestError as exc:
            answer = error_reply(ident, str(exc))
        except TimeoutError:
            answer = error_reply(ident, f"{name}: the lab did not answer in time")
        except Exception as exc:  # architecture decision 12: a request never ends the server
            logger.exception("web: request %s (%s) failed", ident, name)
            answer = error_reply(ident, f"{name}: internal error: {type(exc).__name__}: {exc}")
        try:
            text = self._encode(answer)
        except (TypeError, ValueError) as exc:  # a handler's answer that is not JSON
            logger.error("web: request %s (%s): answer not JSON: %s", ident, name, exc)
            text = self._encode(error_reply(ident, f"{name}: internal error: answer not JSON"))
        self._put(page, text)

    # --- the core requests: a node's tables --------------------------------------------

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``predicate()`` holds, re-checked after every MQTT message; False
        after ``timeout`` seconds."""
        try:
            async with asyncio.timeout(timeout):
                while not predicate():
                    await self._arrived.wait()
        except TimeoutError:
            return False
        return True

    async def settled(self, timeout: float, quiet: float = VIEWS_QUIET) -> bool:
        """Wait until the lab's state is in and the broker's retained documents have come
        (none for ``quiet`` seconds), at most ``timeout`` seconds: a URL printed after
        this shows the whole lab at once.  False if the lab published no state."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if not await self.wait_until(
            lambda: self.view.state is not None and not self._topology_busy, timeout
        ):
            return False
        await self._quiet(max(0.0, deadline - loop.time()), quiet)
        return True

    async def _quiet(
        self, timeout: float, quiet: float = VIEWS_QUIET, *, views: bool = False
    ) -> None:
        """Wait until no MQTT message (``views``: no Azure view document) came for
        ``quiet`` seconds, at most ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            arrived = self._views_arrived if views else self._arrived
            try:
                async with asyncio.timeout(min(quiet, max(0.0, deadline - loop.time()))):
                    await arrived.wait()
            except TimeoutError:
                return

    async def _watch(self, key: str) -> bool:
        """Follow table ``key`` (relative to the lab); True if it was followed already."""
        if key in self._watched:
            self._watched.move_to_end(key)
            return True
        self._watched[key] = None
        self.view.watch([key])
        while len(self._watched) > MAX_WATCHED:
            old, _ = self._watched.popitem(last=False)
            self.view.forget(old)
            await self._follower.unsubscribe(f"{LabTopics(lab=self.lab).base}/{old}")
        await self._follower.subscribe(f"{LabTopics(lab=self.lab).base}/{key}")
        return False

    async def _azure_views(self, node: str | None) -> None:
        """Follow the Azure views of topology node ``node``; the first time, wait until
        its retained documents are in (none for :data:`VIEWS_QUIET` seconds)."""
        if node is None:
            return
        key = f"nodes/{node}/azure/+"
        if await self._watch(key):
            return
        await self._quiet(VIEWS_WAIT, views=True)

    async def _tables(self, _ctx: Any, request: Mapping[str, Any]) -> Any:
        node = text_field(request, "node")
        owner = self.view_node(node)  # RequestError for a node not drawn
        tables = table_list(self.view, node)
        if tables and tables[0]["id"] == "rib/loc":
            # The page opens the first table next: its document is on its way meanwhile.
            await self._watch(table_topic(self.view, node, "rib/loc"))
        await self._azure_views(owner)
        return table_list(self.view, node)

    def view_node(self, node: str) -> str | None:
        """The topology node whose Azure views element ``node`` shows (RequestError for
        an element that is not drawn)."""
        from bgpemu.web.tables import azure_node

        return azure_node(self.view, node)

    async def _table(self, _ctx: Any, request: Mapping[str, Any]) -> Any:
        node = text_field(request, "node")
        table = text_field(request, "table")
        text = text_field(request, "filter", default="", max_length=100)
        offset = integer_field(request, "offset", default=0, low=0, high=10**9)
        limit = integer_field(request, "limit", default=100, low=1, high=MAX_LIMIT)
        key = table_topic(self.view, node, table)
        if key.startswith(f"nodes/{self.view_node(node)}/azure/"):
            await self._azure_views(self.view_node(node))
        else:
            await self._watch(key)
        if not await self.wait_until(lambda: key in self.view.tables, TABLE_WAIT):
            raise RequestError(f"table: {table!r} of {node!r} is not published (yet)")
        doc = self.view.tables[key]
        cached = self._cells.get(key)
        if cached is None or cached[0] is not doc:  # typing a filter re-reads one document
            # In threads: 40,000 routes are 0.1 s to convert, and as much to filter by an
            # address; the loop is the lab's own under lab up.
            cached = (doc, await asyncio.to_thread(table_cells, table, doc))
            self._cells[key] = cached
            for old in [k for k in self._cells if k not in self.view.tables]:
                del self._cells[old]
        return await asyncio.to_thread(page_of, cached[1], text, offset, limit)
