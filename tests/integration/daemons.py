"""Real-daemon fixtures for interop tests: BIRD 2 and GoBGP as subprocesses.

Theory of operation
-------------------
Each daemon runs in its own work directory (config, control socket, pid file, logs) on a
loopback address chosen by the test and on unprivileged ports (``free_port``).  The helper
objects are context managers: leaving the ``with`` block (also on a failing test) stops the
daemon, SIGKILL as last resort, so no process outlives its test.

State is observed through the daemons' own CLIs (``birdc``, ``gobgp -j``) by polling every
``POLL_INTERVAL`` seconds; every ``wait_*`` has a timeout and fails the test with the daemon's
state output and log tail.  GoBGP's gRPC queries take a server lock, so it is polled more
slowly.

Measured quirks (BIRD 2.0.12, GoBGP 3.10.0, Debian 12) that shaped the configs:

* BIRD sessions over ``lo`` are ``multihop``: a ``direct`` session rejects next hops that are not
  on a connected network, and 127/8 next hops are useless anyway.  Received routes are kept and
  shown as ``unreachable`` (their next hop cannot be resolved), which is fine for tests.
* GoBGP treats 127/8 next hops as invalid (the UPDATE is treated as withdraw), so every exported
  route carries a documentation next hop (192.0.2.x / 2001:db8::x).
* BIRD keeps a next hop set explicitly in the export filter, even on eBGP; without that it would
  use its own session address (and for IPv6 over an IPv4 session it has none: "Missing next hop
  address").
* GoBGP keeps the next hop given to ``gobgp global rib add`` for locally originated routes.
* BIRD's defaults (connect delay 5 s, error wait 60-300 s) and GoBGP's idle hold after reset
  (30 s) are far too slow for tests; the generated configs shorten them.
* BIRD listens on 0.0.0.0 unless ``strict bind`` is set; the generated config sets it.
* BIRD holds the initial feed for ~2-3 s after Established (idle poll): allow for it in waits.
* End-of-RIB: BIRD sends it only with ``graceful restart`` not off (``"aware"`` is enough);
  GoBGP only with graceful restart enabled for the neighbor.
* GoBGP ``softresetin`` sends no ROUTE-REFRESH (local re-evaluation only); BIRD
  ``reload in`` sends one per channel.  ``gobgp neighbor X disable --reason`` drops the reason;
  the deprecated ``shutdown --reason`` puts it on the wire (RFC 8203).
* BIRD logs "Missing next hop address" for an IPv6 channel on an IPv4 session; harmless, the
  export filter sets the next hop.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from tests.helpers import free_port
from tests.integration._daemon_base import (
    DEBIAN_PACKAGES,
    POLL_INTERVAL,
    _Daemon,
    _poll,
    _run_cli,
    require_binary,
)
from tests.integration._gobgp import (
    GOBGP_SESSION_STATES,
    GoBgp,
    GoBgpNeighbor,
    GoBgpRoute,
    gobgp_config,
    parse_gobgp_rib,
)

__all__ = [
    "DEBIAN_PACKAGES",
    "GOBGP_SESSION_STATES",
    "Bird",
    "BirdNeighbor",
    "BirdRoute",
    "GoBgp",
    "GoBgpNeighbor",
    "GoBgpRoute",
    "bird_config",
    "free_port",
    "gobgp_config",
    "iter_log_lines",
    "parse_bird_routes",
    "parse_gobgp_rib",
    "require_binary",
]


# --------------------------------------------------------------------------------------- BIRD


@dataclass(frozen=True, slots=True, kw_only=True)
class BirdNeighbor:
    """One ``protocol bgp`` block.  ``local_port`` is BIRD's listening port for this session."""

    name: str
    address: str
    port: int
    asn: int
    local_address: str
    local_port: int | None = None
    passive: bool = False
    ipv4: bool = True
    ipv6: bool = True
    hold_time: int = 90
    keepalive_time: int | None = None
    add_paths: Literal["rx", "tx", "on"] | None = None
    # BIRD sends End-of-RIB only when graceful restart is not "off" ("aware" = helper only).
    graceful_restart: bool | Literal["off", "aware", "on"] = False
    extended_next_hop: bool = False
    password: str | None = None
    """TCP-MD5 key (RFC 2385): BIRD's ``password`` option."""


def _gr_mode(value: bool | str) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return value


def _bird_channel(kind: str, n: BirdNeighbor, export_filter: str) -> str:
    lines = [f"  {kind} {{", "    import all;", f"    export filter {export_filter};"]
    if n.add_paths is not None:
        lines.append(f"    add paths {n.add_paths};")
    if kind == "ipv4" and n.extended_next_hop:
        lines.append("    extended next hop on;")
    lines.append("  };")
    return "\n".join(lines)


def bird_config(
    *,
    router_id: str,
    asn: int,
    neighbors: Sequence[BirdNeighbor],
    routes_v4: Sequence[str] = (),
    routes_v6: Sequence[str] = (),
    next_hop_v4: str = "192.0.2.2",
    next_hop_v6: str = "2001:db8::2",
    communities: Sequence[tuple[int, int]] = (),
    large_communities: Sequence[tuple[int, int, int]] = (),
    med: int | None = None,
    reexport: bool = False,
    debug: str = "states, events",
) -> str:
    """BIRD 2 config: static ``blackhole`` routes exported to every neighbor, all routes imported.

    Exported static routes get NEXT_HOP ``next_hop_v4`` / ``next_hop_v6`` (set in the export
    filter, which BIRD honours even on eBGP), and the given MED, COMMUNITIES (RFC 1997) and
    LARGE_COMMUNITY (RFC 8092).  With ``reexport`` BGP-learned routes are passed on unchanged
    (apart from the usual eBGP AS prepend); otherwise only static routes are exported.
    Received routes land in ``master4`` / ``master6``.  Route refresh (RFC 2918) is on, graceful
    restart is off unless a neighbor asks for it -- and with it off BIRD sends no End-of-RIB
    (RFC 4724 §2); use ``graceful_restart="aware"`` when a test needs EoR.  The ``log`` line
    is added by :class:`Bird`.
    """
    out = [f"router id {router_id};"]
    if debug:
        spec = debug if debug in ("all", "off") else f"{{ {debug} }}"
        out.append(f"debug protocols {spec};")
    out.append("protocol device {}")
    if routes_v4:
        body = " ".join(f"route {ipaddress.IPv4Network(r)} blackhole;" for r in routes_v4)
        out.append(f"protocol static static4 {{ ipv4; {body} }}")
    if routes_v6:
        body = " ".join(f"route {ipaddress.IPv6Network(r)} blackhole;" for r in routes_v6)
        out.append(f"protocol static static6 {{ ipv6; {body} }}")
    attrs = []
    if med is not None:
        attrs.append(f"  bgp_med = {med};")
    attrs += [f"  bgp_community.add(({a},{v}));" for a, v in communities]
    attrs += [f"  bgp_large_community.add(({a},{b},{c}));" for a, b, c in large_communities]
    not_static = "accept;" if reexport else "reject;"
    out.append(
        "\n".join(
            [
                "filter bgpemu_export {",
                f"  if source != RTS_STATIC then {not_static}",
                f"  if net.type = NET_IP4 then bgp_next_hop = {next_hop_v4};",
                f"  else bgp_next_hop = {next_hop_v6};",
                *attrs,
                "  accept;",
                "}",
            ]
        )
    )
    for n in neighbors:
        local = f"  local {n.local_address}"
        if n.local_port is not None:
            local += f" port {n.local_port}"
        block = [
            f"protocol bgp {n.name} {{",
            f"{local} as {asn};",
            f"  neighbor {n.address} port {n.port} as {n.asn};",
            "  multihop;",
            "  strict bind on;",
            f"  hold time {n.hold_time};",
            "  connect delay time 1;",
            "  connect retry time 2;",
            "  error wait time 1, 4;",
            "  error forget time 10;",
            "  enable route refresh on;",
            f"  graceful restart {_gr_mode(n.graceful_restart)};",
        ]
        if n.keepalive_time is not None:
            block.append(f"  keepalive time {n.keepalive_time};")
        if n.passive:
            block.append("  passive on;")
        if n.password is not None:
            block.append(f"  password {json.dumps(n.password)};")
        if n.ipv4:
            block.append(_bird_channel("ipv4", n, "bgpemu_export"))
        if n.ipv6:
            block.append(_bird_channel("ipv6", n, "bgpemu_export"))
        block.append("}")
        out.append("\n".join(block))
    return "\n".join(line for line in out if line) + "\n"


@dataclass(frozen=True, slots=True, kw_only=True)
class BirdRoute:
    """One route parsed from ``show route all``; BGP attributes are None/empty when absent."""

    prefix: str
    protocol: str
    dest: str
    primary: bool
    from_address: str | None = None
    origin: str | None = None
    as_path: list[int] = field(default_factory=list)
    next_hop: str | None = None
    med: int | None = None
    local_pref: int | None = None
    communities: list[tuple[int, int]] = field(default_factory=list)
    large_communities: list[tuple[int, int, int]] = field(default_factory=list)
    ext_communities: list[str] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)


def _int_tuples(text: str) -> list[tuple[int, ...]]:
    """``"(1,2) (3, 4, 5)"`` -> ``[(1, 2), (3, 4, 5)]``."""
    groups = [g.strip(" ,") for g in text.replace(")", "(").split("(")]
    return [tuple(int(x) for x in g.replace(",", " ").split()) for g in groups if g]


def _bird_route(prefix: str, head: str, attrs: dict[str, str]) -> BirdRoute:
    # head: "unreachable [gobgp 2026-01-01 10:00:00.000 from 127.0.0.62] * (100) [AS65001i]"
    dest, _, rest = head.partition("[")
    proto_part, _, tail = rest.partition("]")
    proto_words = proto_part.split()
    from_address = None
    if "from" in proto_words:
        from_address = proto_words[proto_words.index("from") + 1]
    as_path_text = attrs.get("BGP.as_path", "")
    med = attrs.get("BGP.med")
    local_pref = attrs.get("BGP.local_pref")
    next_hop = attrs.get("BGP.next_hop")
    return BirdRoute(
        prefix=prefix,
        protocol=proto_words[0] if proto_words else "",
        dest=dest.strip(),
        primary=tail.lstrip().startswith("*"),
        from_address=from_address,
        origin=attrs.get("BGP.origin"),
        as_path=[int(x) for x in as_path_text.replace("{", " ").replace("}", " ").split()],
        next_hop=next_hop.split()[0] if next_hop else None,
        med=int(med) if med is not None else None,
        local_pref=int(local_pref) if local_pref is not None else None,
        communities=[(t[0], t[1]) for t in _int_tuples(attrs.get("BGP.community", ""))],
        large_communities=[
            (t[0], t[1], t[2]) for t in _int_tuples(attrs.get("BGP.large_community", ""))
        ],
        ext_communities=[
            ":".join(p.strip() for p in g.split(","))
            for g in attrs.get("BGP.ext_community", "").replace(")", "(").split("(")
            if g.strip()
        ],
        attrs=dict(attrs),
    )


def parse_bird_routes(text: str) -> dict[str, BirdRoute]:
    """Parse ``birdc show route all`` output: prefix -> primary route (else the first listed)."""
    found: dict[str, BirdRoute] = {}
    prefix = ""
    head: str | None = None
    attrs: dict[str, str] = {}

    def flush() -> None:
        if head is None:
            return
        route = _bird_route(prefix, head, attrs)
        if prefix not in found or (route.primary and not found[prefix].primary):
            found[prefix] = route

    for line in text.splitlines():
        if not line.strip() or line.startswith(("Table ", "BIRD ")):
            continue
        if line.startswith("\t"):
            key, sep, value = line.strip().partition(":")
            if sep and not key.startswith("via"):
                attrs[key.strip()] = value.strip()
            continue
        flush()
        attrs = {}
        if line.startswith(" "):  # another route for the same prefix
            head = line.strip()
        else:
            prefix, _, rest = line.partition(" ")
            head = rest.strip()
    flush()
    return found


class Bird(_Daemon):
    """BIRD 2 as ``bird -f -c <conf> -s <sock> -P <pid>`` in ``workdir``."""

    def __init__(self, workdir: Path, config: str, name: str = "bird") -> None:
        super().__init__(workdir, name)
        self.bird = require_binary("bird")
        self.birdc_path = require_binary("birdc")
        self.config = config
        self.config_path = workdir / f"{name}.conf"
        self.socket_path = workdir / f"{name}.ctl"
        self.pid_path = workdir / f"{name}.pid"
        self.log_path = workdir / f"{name}.log"

    def start(self) -> None:
        self.config_path.write_text(f'log "{self.log_path}" all;\n{self.config}')
        check = subprocess.run(
            [self.bird, "-p", "-c", str(self.config_path)],
            capture_output=True,
            text=True,
            check=False,
        )
        if check.returncode != 0:
            pytest.fail(
                f"BIRD rejected {self.config_path}: {check.stderr.strip()}\n{self.config}",
                pytrace=False,
            )
        self.socket_path.unlink(missing_ok=True)
        self._spawn(
            [
                self.bird,
                "-f",
                "-c",
                str(self.config_path),
                "-s",
                str(self.socket_path),
                "-P",
                str(self.pid_path),
            ]
        )

        def ready() -> bool | None:
            self._check_alive()
            try:
                self.birdc("show status")
            except RuntimeError:
                return None
            return True

        _poll(
            ready,
            timeout=10.0,
            interval=POLL_INTERVAL,
            on_timeout=lambda: self.fail("BIRD control socket did not come up"),
        )

    def birdc(self, *cmd: str) -> str:
        """Run one ``birdc`` command; return its output without the ``BIRD x ready.`` banner."""
        out = _run_cli(
            [self.birdc_path, "-s", str(self.socket_path), *cmd], f"birdc {' '.join(cmd)}"
        )
        lines = out.splitlines()
        if lines and lines[0].startswith("BIRD ") and lines[0].endswith("ready."):
            lines = lines[1:]
        return "\n".join(lines)

    def protocol_state(self, name: str) -> str:
        """BGP state of protocol ``name``: Established, Active, Connect, Idle, Down, ..."""
        out = self.birdc("show protocols all", name)
        for line in out.splitlines():
            if line.strip().startswith("BGP state:"):
                return line.split(":", 1)[1].strip()
        # Fall back to the summary line: Name Proto Table State Since Info
        for line in out.splitlines():
            words = line.split()
            if words and words[0] == name:
                return words[-1]
        raise RuntimeError(f"no protocol {name!r} in BIRD:\n{out}")

    def routes(self, table: str = "master4") -> dict[str, BirdRoute]:
        return parse_bird_routes(self.birdc("show route all table", table))

    def wait_established(self, name: str, timeout: float = 15.0) -> None:
        def probe() -> bool | None:
            self._check_alive()
            return True if self.protocol_state(name) == "Established" else None

        _poll(
            probe,
            timeout=timeout,
            interval=POLL_INTERVAL,
            on_timeout=lambda: self.fail(f"BIRD protocol {name} not Established in {timeout} s"),
        )

    def wait_state(self, name: str, states: Sequence[str], timeout: float = 15.0) -> str:
        """Wait until protocol ``name`` is in one of ``states``; return that state."""

        def probe() -> str | None:
            self._check_alive()
            state = self.protocol_state(name)
            return state if state in states else None

        return _poll(
            probe,
            timeout=timeout,
            interval=POLL_INTERVAL,
            on_timeout=lambda: self.fail(f"BIRD protocol {name} not in {list(states)}"),
        )

    def wait_routes(
        self,
        table: str,
        predicate: Callable[[dict[str, BirdRoute]], bool],
        timeout: float = 15.0,
    ) -> dict[str, BirdRoute]:
        def probe() -> dict[str, BirdRoute] | None:
            self._check_alive()
            routes = self.routes(table)
            return routes if predicate(routes) else None

        return _poll(
            probe,
            timeout=timeout,
            interval=POLL_INTERVAL,
            on_timeout=lambda: self.fail(
                f"BIRD table {table}: predicate not met in {timeout} s; routes:\n"
                + self.birdc("show route all table", table)
            ),
        )

    def reload_in(self, protocol: str) -> None:
        """``birdc reload in <p>``: BIRD sends ROUTE-REFRESH (RFC 2918) to that peer."""
        self.birdc("reload in", protocol)

    def disable(self, protocol: str, message: str | None = None) -> None:
        """``birdc disable <p> ["msg"]``: Cease / Administrative Shutdown (RFC 8203 message)."""
        self.birdc("disable", protocol, *([f'"{message}"'] if message else []))

    def enable(self, protocol: str) -> None:
        self.birdc("enable", protocol)

    def log_text(self) -> str:
        parts = []
        for path in (self.log_path, self.output_path):
            if path.exists():
                parts.append(path.read_text(errors="replace"))
        return "".join(parts)

    def state_text(self) -> str:
        return self.birdc("show protocols all")


def iter_log_lines(daemon: Bird | GoBgp, needle: str) -> Iterator[str]:
    """Lines of the daemon's log containing ``needle``."""
    return (line for line in daemon.log_text().splitlines() if needle in line)
