"""GoBGP fixture: TOML config, ``gobgpd`` process, ``gobgp -j`` parsing (see daemons.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tests.helpers import free_port
from tests.integration._daemon_base import (
    GOBGP_POLL_INTERVAL,
    POLL_INTERVAL,
    _Daemon,
    _poll,
    _run_cli,
    require_binary,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class GoBgpNeighbor:
    """One ``[[neighbors]]`` entry; ``port`` is the peer's port (transport remote-port)."""

    address: str
    asn: int
    port: int = 179
    local_address: str | None = None
    passive: bool = False
    ipv4: bool = True
    ipv6: bool = True
    hold_time: int = 90
    keepalive_interval: int | None = None
    add_paths_receive: bool = False
    add_paths_send_max: int = 0
    ebgp_multihop_ttl: int | None = None
    # GoBGP sends End-of-RIB only when graceful restart is enabled for the neighbor.
    graceful_restart: bool = False
    restart_time: int = 120
    password: str | None = None
    """TCP-MD5 key (RFC 2385): GoBGP's ``auth-password``."""


def _toml_str(value: str) -> str:
    return json.dumps(value)


def gobgp_config(
    *,
    router_id: str,
    asn: int,
    port: int,
    local_address: str,
    neighbors: Sequence[GoBgpNeighbor],
) -> str:
    """GoBGP TOML: global AS / router-id / listen port / address, neighbors with v4+v6 unicast.

    Route refresh (RFC 2918) is always advertised by GoBGP.  ADD-PATH (RFC 7911) per neighbor
    via ``add_paths_receive`` / ``add_paths_send_max``.  Timers are shortened for tests
    (connect-retry 1 s, idle-hold-time-after-reset 1 s).
    """
    out = [
        "[global.config]",
        f"  as = {asn}",
        f"  router-id = {_toml_str(router_id)}",
        f"  port = {port}",
        f"  local-address-list = [{_toml_str(local_address)}]",
    ]
    for n in neighbors:
        out += [
            "",
            "[[neighbors]]",
            "  [neighbors.config]",
            f"    neighbor-address = {_toml_str(n.address)}",
            f"    peer-as = {n.asn}",
            *([f"    auth-password = {_toml_str(n.password)}"] if n.password is not None else []),
            "  [neighbors.transport.config]",
            f"    local-address = {_toml_str(n.local_address or local_address)}",
            f"    remote-port = {n.port}",
            f"    passive-mode = {'true' if n.passive else 'false'}",
            "  [neighbors.timers.config]",
            f"    hold-time = {n.hold_time}",
            f"    keepalive-interval = {n.keepalive_interval or max(1, n.hold_time // 3)}",
            "    connect-retry = 1",
            "    idle-hold-time-after-reset = 1",
        ]
        if n.ebgp_multihop_ttl is not None:
            out += [
                "  [neighbors.ebgp-multihop.config]",
                "    enabled = true",
                f"    multihop-ttl = {n.ebgp_multihop_ttl}",
            ]
        if n.graceful_restart:
            out += [
                "  [neighbors.graceful-restart.config]",
                "    enabled = true",
                f"    restart-time = {n.restart_time}",
            ]
        for enabled, family in ((n.ipv4, "ipv4-unicast"), (n.ipv6, "ipv6-unicast")):
            if not enabled:
                continue
            out += [
                "  [[neighbors.afi-safis]]",
                "    [neighbors.afi-safis.config]",
                f"      afi-safi-name = {_toml_str(family)}",
            ]
            if n.graceful_restart:
                out += [
                    "    [neighbors.afi-safis.mp-graceful-restart.config]",
                    "      enabled = true",
                ]
            if n.add_paths_receive or n.add_paths_send_max:
                out += [
                    "    [neighbors.afi-safis.add-paths.config]",
                    f"      receive = {'true' if n.add_paths_receive else 'false'}",
                    f"      send-max = {n.add_paths_send_max}",
                ]
    return "\n".join(out) + "\n"


GOBGP_SESSION_STATES: Mapping[int, str] = {
    0: "unknown",
    1: "idle",
    2: "connect",
    3: "active",
    4: "opensent",
    5: "openconfirm",
    6: "established",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class GoBgpRoute:
    """One path from ``gobgp ... -j``; communities as (asn, value), origin 0=IGP 1=EGP 2=?."""

    prefix: str
    next_hop: str | None
    as_path: list[int] = field(default_factory=list)
    origin: int | None = None
    med: int | None = None
    local_pref: int | None = None
    communities: list[tuple[int, int]] = field(default_factory=list)
    large_communities: list[tuple[int, int, int]] = field(default_factory=list)
    ext_communities: list[str] = field(default_factory=list)
    path_id: int | None = None
    best: bool = False
    stale: bool = False
    neighbor_ip: str | None = None
    attrs: list[dict[str, Any]] = field(default_factory=list)


def _gobgp_route(prefix: str, path: Mapping[str, Any]) -> GoBgpRoute:
    as_path: list[int] = []
    next_hop = None
    origin = med = local_pref = None
    communities: list[tuple[int, int]] = []
    large: list[tuple[int, int, int]] = []
    ext: list[str] = []
    for attr in path.get("attrs", []):
        kind = attr.get("type")
        if kind == 1:
            origin = int(attr["value"])
        elif kind == 2:
            for seg in attr.get("as_paths", []):
                as_path += [int(a) for a in seg.get("asns", [])]
        elif kind == 3:
            next_hop = str(attr["nexthop"])
        elif kind == 4:
            med = int(attr["metric"])
        elif kind == 5:
            local_pref = int(attr["value"])
        elif kind == 8:
            communities = [(c >> 16, c & 0xFFFF) for c in attr.get("communities", [])]
        elif kind == 14:
            next_hop = str(attr["nexthop"])
        elif kind == 16:
            ext = [
                f"{e.get('type')}:{e.get('subtype')}:{e.get('value')}"
                for e in attr.get("value", [])
            ]
        elif kind == 32:
            large = [
                (int(v["ASN"]), int(v["LocalData1"]), int(v["LocalData2"]))
                for v in attr.get("value", [])
            ]
    path_id = path.get("id", path.get("path-id", path.get("identifier")))
    return GoBgpRoute(
        prefix=prefix,
        next_hop=next_hop,
        as_path=as_path,
        origin=origin,
        med=med,
        local_pref=local_pref,
        communities=communities,
        large_communities=large,
        ext_communities=ext,
        path_id=int(path_id) if path_id is not None else None,
        best=bool(path.get("best", False)),
        stale=bool(path.get("stale", False)),
        neighbor_ip=path.get("neighbor-ip"),
        attrs=list(path.get("attrs", [])),
    )


def parse_gobgp_rib(text: str) -> dict[str, list[GoBgpRoute]]:
    """Parse ``gobgp ... rib -j`` output: prefix -> all paths (best first)."""
    data = json.loads(text) if text.strip() else {}
    result: dict[str, list[GoBgpRoute]] = {}
    for prefix, paths in (data or {}).items():
        routes = [_gobgp_route(prefix, p) for p in paths]
        result[prefix] = sorted(routes, key=lambda r: not r.best)
    return result


def _family(prefix_or_family: str) -> str:
    if prefix_or_family in ("ipv4", "ipv6"):
        return prefix_or_family
    return "ipv6" if ":" in prefix_or_family else "ipv4"


class GoBgp(_Daemon):
    """``gobgpd -f <conf> -t toml --api-hosts 127.0.0.1:<api_port>``, driven with ``gobgp -p``."""

    def __init__(
        self,
        workdir: Path,
        config: str,
        name: str = "gobgp",
        *,
        api_port: int | None = None,
        log_level: str = "info",
    ) -> None:
        super().__init__(workdir, name)
        self.gobgpd = require_binary("gobgpd")
        self.gobgp_path = require_binary("gobgp")
        self.config = config
        self.config_path = workdir / f"{name}.toml"
        self.api_port = api_port if api_port is not None else free_port("127.0.0.1")
        self.log_level = log_level

    def start(self) -> None:
        self.config_path.write_text(self.config)
        self._spawn(
            [
                self.gobgpd,
                "-f",
                str(self.config_path),
                "-t",
                "toml",
                "--api-hosts",
                f"127.0.0.1:{self.api_port}",
                "--pprof-disable",
                "-p",
                "-l",
                self.log_level,
            ]
        )

        wants_peers = "[[neighbors]]" in self.config

        def ready() -> bool | None:
            self._check_alive()
            try:
                out = self.gobgp("neighbor", "-j")
            except RuntimeError:
                return None
            # The config file is applied just after the API comes up: wait for the peers.
            has_peers = out.strip() not in ("", "null", "[]")
            return True if has_peers or not wants_peers else None

        _poll(
            ready,
            timeout=10.0,
            interval=POLL_INTERVAL,
            on_timeout=lambda: self.fail("gobgpd API did not come up"),
        )

    def gobgp(self, *args: str) -> str:
        """Run ``gobgp -u 127.0.0.1 -p <api_port> <args>`` and return stdout."""
        argv = [self.gobgp_path, "-u", "127.0.0.1", "-p", str(self.api_port), *args]
        return _run_cli(argv, f"gobgp {' '.join(args)}")

    def neighbor_info(self, address: str) -> dict[str, Any]:
        info: dict[str, Any] = json.loads(self.gobgp("neighbor", address, "-j"))
        return info

    def message_counters(self, address: str) -> dict[str, dict[str, int]]:
        """``{"received": {...}, "sent": {...}}`` per message type (update, open, keepalive,
        refresh, notification, total); GoBGP omits zero counters, so use ``.get(k, 0)``."""
        messages = self.neighbor_info(address).get("state", {}).get("messages", {})
        return {
            d: {k: int(v) for k, v in messages.get(d, {}).items() if isinstance(v, int)}
            for d in ("received", "sent")
        }

    def neighbor_state(self, address: str) -> str:
        """Session state: idle, connect, active, opensent, openconfirm, established."""
        raw = self.neighbor_info(address).get("state", {}).get("session_state", 0)
        if isinstance(raw, str):
            return raw.lower().removeprefix("session_state_")
        return GOBGP_SESSION_STATES.get(int(raw), str(raw))

    def rib_paths(self, family: str = "ipv4") -> dict[str, list[GoBgpRoute]]:
        return parse_gobgp_rib(self.gobgp("global", "rib", "-a", family, "-j"))

    def rib(self, family: str = "ipv4") -> dict[str, GoBgpRoute]:
        """Global (Loc-)RIB: prefix -> best path."""
        return {p: paths[0] for p, paths in self.rib_paths(family).items() if paths}

    def adj_in(self, neighbor: str, family: str = "ipv4") -> dict[str, list[GoBgpRoute]]:
        """Adj-RIB-In of ``neighbor``: prefix -> every path received (several with ADD-PATH)."""
        return parse_gobgp_rib(self.gobgp("neighbor", neighbor, "adj-in", "-a", family, "-j"))

    def adj_out(self, neighbor: str, family: str = "ipv4") -> dict[str, list[GoBgpRoute]]:
        return parse_gobgp_rib(self.gobgp("neighbor", neighbor, "adj-out", "-a", family, "-j"))

    def add_route(
        self,
        prefix: str,
        next_hop: str,
        *,
        family: str | None = None,
        as_path: Sequence[int] = (),
        origin: Literal["igp", "egp", "incomplete"] | None = None,
        med: int | None = None,
        local_pref: int | None = None,
        communities: Sequence[tuple[int, int]] = (),
        large_communities: Sequence[tuple[int, int, int]] = (),
        route_targets: Sequence[str] = (),
        identifier: int | None = None,
    ) -> None:
        """``gobgp global rib add``; ``route_targets`` like ``"65000:100"`` (ext. community)."""
        args = ["global", "rib", "-a", family or _family(prefix), "add", prefix]
        if identifier is not None:
            args += ["identifier", str(identifier)]
        if origin is not None:
            args += ["origin", origin]
        if as_path:
            args += ["aspath", ",".join(str(a) for a in as_path)]
        args += ["nexthop", next_hop]
        if med is not None:
            args += ["med", str(med)]
        if local_pref is not None:
            args += ["local-pref", str(local_pref)]
        if communities:
            args += ["community", ",".join(f"{a}:{v}" for a, v in communities)]
        if large_communities:
            args += ["large-community", ",".join(f"{a}:{b}:{c}" for a, b, c in large_communities)]
        if route_targets:
            args += ["rt", *route_targets]
        self.gobgp(*args)

    def del_route(
        self, prefix: str, *, family: str | None = None, identifier: int | None = None
    ) -> None:
        args = ["global", "rib", "-a", family or _family(prefix), "del", prefix]
        if identifier is not None:
            args += ["identifier", str(identifier)]
        self.gobgp(*args)

    def softreset_in(self, neighbor: str, family: str | None = None) -> None:
        """``gobgp neighbor X softresetin``: re-run import policy over the kept Adj-RIB-In.

        Measured on GoBGP 3.10: this sends NO ROUTE-REFRESH on the wire (GoBGP always keeps
        the Adj-RIB-In and never originates ROUTE-REFRESH); it does answer a received one.
        """
        self.gobgp("neighbor", neighbor, "softresetin", *(["-a", family] if family else []))

    def disable_neighbor(self, neighbor: str, reason: str | None = None) -> None:
        """Cease / Administrative Shutdown with an optional RFC 8203 communication.

        GoBGP 3.10 drops ``--reason`` on ``disable``; only the deprecated ``shutdown`` command
        puts it on the wire, so that one is used when a reason is given.
        """
        if reason:
            self.gobgp("neighbor", neighbor, "shutdown", "--reason", reason)
        else:
            self.gobgp("neighbor", neighbor, "disable")

    def enable_neighbor(self, neighbor: str) -> None:
        self.gobgp("neighbor", neighbor, "enable")

    def wait_established(self, neighbor: str, timeout: float = 15.0) -> None:
        self.wait_state(neighbor, ("established",), timeout)

    def wait_state(self, neighbor: str, states: Sequence[str], timeout: float = 15.0) -> str:
        def probe() -> str | None:
            self._check_alive()
            state = self.neighbor_state(neighbor)
            return state if state in states else None

        return _poll(
            probe,
            timeout=timeout,
            interval=GOBGP_POLL_INTERVAL,
            on_timeout=lambda: self.fail(
                f"GoBGP neighbor {neighbor} not in {list(states)} after {timeout} s"
            ),
        )

    def wait_routes(
        self,
        family: str,
        predicate: Callable[[dict[str, GoBgpRoute]], bool],
        timeout: float = 15.0,
    ) -> dict[str, GoBgpRoute]:
        def probe() -> dict[str, GoBgpRoute] | None:
            self._check_alive()
            routes = self.rib(family)
            return routes if predicate(routes) else None

        return _poll(
            probe,
            timeout=timeout,
            interval=GOBGP_POLL_INTERVAL,
            on_timeout=lambda: self.fail(
                f"GoBGP rib {family}: predicate not met in {timeout} s; rib:\n"
                + self.gobgp("global", "rib", "-a", family)
            ),
        )

    def log_text(self) -> str:
        return self.output_path.read_text(errors="replace") if self.output_path.exists() else ""

    def state_text(self) -> str:
        return self.gobgp("neighbor")
