"""The web view's plain GET requests: the page and its assets, and read-only JSON.

``websockets`` serves only GET; :func:`answer_get` answers each request that is not the
page's WebSocket (``/ws``, whose token the server checks at the handshake): the
``Host`` check of :mod:`bgpemu.web.access` first (a DNS-rebinding page's host name is
refused), then ``/api/*`` with the token, then a static file of the package
(``web/static`` or ``web/static/vendor``; no other path is read).  Every response says
``nosniff``, sends no referrer (the page URL holds the token) and carries a content
security policy that lets the page load only its own assets and connect only to its
own server.
"""

from __future__ import annotations

import http
import mimetypes
import re
from collections.abc import Callable
from importlib import resources

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from bgpemu.web.access import Access

__all__ = ["answer_get"]

_STATIC_NAME = re.compile(r"/(?:vendor/)?[A-Za-z0-9_-][A-Za-z0-9_.-]*")
"""A static file's path: a name in ``static/`` or ``static/vendor/`` (no ``..``)."""
_CSP = (
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
)


def _headers(content_type: str, length: int, *, cache: bool) -> Headers:
    headers = Headers()
    headers["Content-Type"] = content_type
    headers["Content-Length"] = str(length)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"  # the page URL holds the token
    headers["Content-Security-Policy"] = _CSP
    headers["Cache-Control"] = "max-age=300" if cache else "no-store"
    return headers


def _response(status: http.HTTPStatus, body: bytes, content_type: str, cache: bool) -> Response:
    return Response(
        status.value, status.phrase, _headers(content_type, len(body), cache=cache), body
    )


def _text(status: http.HTTPStatus, text: str) -> Response:
    return _response(status, (text + "\n").encode(), "text/plain; charset=utf-8", cache=False)


def _static(path: str) -> Response:
    """The package's static file at ``path`` (``/`` is ``index.html``), or 404."""
    name = "index.html" if path == "/" else path[1:]
    if not _STATIC_NAME.fullmatch(path if path != "/" else "/index.html") or ".." in name:
        return _text(http.HTTPStatus.NOT_FOUND, f"not found: {path}")
    try:
        body = resources.files("bgpemu.web").joinpath("static", name).read_bytes()
    except OSError:
        return _text(http.HTTPStatus.NOT_FOUND, f"not found: {path}")
    kind = mimetypes.guess_type(name)[0] or "text/plain"
    if kind.startswith("text/") or kind.endswith("javascript"):
        kind += "; charset=utf-8"
    return _response(http.HTTPStatus.OK, body, kind, cache=True)


def answer_get(request: Request, access: Access, snapshot: Callable[[], str]) -> Response | None:
    """The response to a GET ``request``, or None for the page's WebSocket handshake.

    ``snapshot`` gives ``/api/snapshot``'s JSON text (called only when the token and
    the origin are right)."""
    path = request.path.split("?", 1)[0]
    host = request.headers.get("Host")
    if not access.host_ok(host):
        return _text(http.HTTPStatus.FORBIDDEN, f"Host {host!r} is not this server's")
    if path == "/ws":
        return None  # the handshake goes on; the server checks the token on connection
    if path.startswith("/api/"):
        refusal = access.refusal(request.path, host, request.headers.get("Origin"))
        if refusal is not None:
            return _text(http.HTTPStatus.FORBIDDEN, refusal)
        if path == "/api/snapshot":
            body = snapshot().encode()
            return _response(http.HTTPStatus.OK, body, "application/json", cache=False)
        return _text(http.HTTPStatus.NOT_FOUND, f"no such API: {path}")
    if path == "/favicon.ico":  # none: said without a 404 in the browser's console
        return Response(http.HTTPStatus.NO_CONTENT.value, "No Content", Headers())
    return _static(path)
