"""Who may use the web view: the run's token, the Host and the Origin (pure).

The view listens on loopback by default, but any web page the user opens could try to
reach it: a cross-site page by a WebSocket to ``ws://127.0.0.1:8179/ws`` (browsers send
its ``Origin``), or a DNS-rebinding page whose host name resolves to 127.0.0.1 (its
requests carry its own ``Host``).  So:

* every run makes a random token (:func:`new_token`); the page URL carries it
  (``/?token=...``) and ``/ws`` and ``/api/*`` refuse a request without it (compared in
  constant time);
* on a loopback address, the ``Host`` header must name the server itself
  (``127.0.0.1:PORT``, ``localhost:PORT``, ``[::1]:PORT``): a rebinding page's host
  name is refused;
* a WebSocket's ``Origin``, when the client sends one (browsers always do), must be
  the server's own (``http://`` + the Host it was reached at).
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

__all__ = ["Access", "new_token", "query_token"]


def new_token() -> str:
    """A fresh random token (128 bits, URL-safe)."""
    return secrets.token_urlsafe(16)


def query_token(path: str) -> str | None:
    """The ``token`` of a request path's query string (``/ws?token=...``), if one."""
    values = parse_qs(urlsplit(path).query).get("token")
    return values[0] if values else None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Access:
    """The checks of one server listening on ``host``:``port`` with ``token``."""

    token: str
    host: str
    port: int

    @property
    def hosts(self) -> frozenset[str] | None:
        """The ``Host`` values accepted; None (any) when not listening on loopback (the
        token is the defence then: the machine's names cannot all be known)."""
        if not _loopback(self.host):
            return None
        names = {self.host, "127.0.0.1", "localhost", "[::1]"}
        if ":" in self.host:
            names.add(f"[{self.host}]")
        return frozenset(f"{name}:{self.port}" for name in names if ":" not in name or "[" in name)

    def token_ok(self, token: str | None) -> bool:
        """Whether ``token`` is this run's."""
        if token is None:
            return False
        return hmac.compare_digest(token.encode(), self.token.encode())

    def host_ok(self, host: str | None) -> bool:
        """Whether a request's ``Host`` header names this server."""
        allowed = self.hosts
        if allowed is None:
            return True
        return host is not None and host.lower() in allowed

    def origin_ok(self, origin: str | None, host: str | None) -> bool:
        """Whether a WebSocket's ``Origin`` is this server's own page (no ``Origin``: a
        client that is not a browser, allowed with the token)."""
        if origin is None:
            return True
        return (
            host is not None and self.host_ok(host) and origin.lower() == f"http://{host}".lower()
        )

    def refusal(self, path: str, host: str | None, origin: str | None) -> str | None:
        """Why a ``/ws`` or ``/api/*`` request is refused, or None when it may go on."""
        if not self.host_ok(host):
            return f"Host {host!r} is not this server's"
        if not self.token_ok(query_token(path)):
            return "missing or wrong token (use the URL bgpemu printed)"
        if not self.origin_ok(origin, host):
            return f"Origin {origin!r} is not this server's"
        return None
