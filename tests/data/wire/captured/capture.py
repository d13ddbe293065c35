"""Capture golden BGP wire vectors from real BIRD 2 and GoBGP sessions (run by hand, not in CI).

    cd /work/main && .venv/bin/python -m tests.data.wire.captured.capture [--out DIR]

Uses nothing from bgpemu: plain sockets and ``struct``.  The daemons are run with the
integration helpers (tests/integration/daemons.py).  This script plays a minimal BGP speaker:
it connects to each daemon (the daemons are passive), sends a hand-built OPEN (4-octet AS
RFC 6793, MP IPv4+IPv6 unicast RFC 4760, route refresh RFC 2918, ADD-PATH receive RFC 7911 on
the GoBGP ADD-PATH session) and a KEEPALIVE, then records every message the daemon sends.
One message per ``<name>.hex`` file (lowercase hex, one line) plus ``captured.json`` with a
decoding of each file made by the small decoder below; README.md documents them.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.integration.daemons import (
    Bird,
    BirdNeighbor,
    GoBgp,
    GoBgpNeighbor,
    bird_config,
    free_port,
    gobgp_config,
)

MARKER = b"\xff" * 16
AS_TRANS = 23456
OPEN, UPDATE, NOTIFICATION, KEEPALIVE, ROUTE_REFRESH = 1, 2, 3, 4, 5

BIRD_IP, BIRD_AS = "127.0.0.63", 4200000063
GOBGP_IP, GOBGP_AS = "127.0.0.64", 4200000064
US_BIRD, US_GOBGP, US_GOBGP_AP = "127.0.0.65", "127.0.0.66", "127.0.0.67"
US_AS = 4200000065


# ------------------------------------------------------------------------------ encoding


def message(kind: int, body: bytes = b"") -> bytes:
    return MARKER + struct.pack("!HB", 19 + len(body), kind) + body


def capability(code: int, value: bytes = b"") -> bytes:
    return struct.pack("!BB", code, len(value)) + value


def build_open(
    asn: int, bgp_id: str, *, add_path_receive: bool, graceful_restart: bool = False
) -> bytes:
    caps = [
        capability(1, struct.pack("!HBB", 1, 0, 1)),
        capability(1, struct.pack("!HBB", 2, 0, 1)),
        capability(2),
        capability(65, struct.pack("!I", asn)),
    ]
    if add_path_receive:  # RFC 7911 §4: AFI, SAFI, Send/Receive (1 = receive)
        caps.append(capability(69, struct.pack("!HBB", 1, 1, 1) + struct.pack("!HBB", 2, 1, 1)))
    if graceful_restart:  # RFC 4724 §3: restart time 120 s, no AFI tuples ("GR aware")
        caps.append(capability(64, struct.pack("!H", 120)))
    blob = b"".join(caps)
    params = struct.pack("!BB", 2, len(blob)) + blob
    my_as = asn if asn <= 0xFFFF else AS_TRANS
    body = struct.pack("!BHH4sB", 4, my_as, 90, socket.inet_aton(bgp_id), len(params)) + params
    return message(OPEN, body)


# ------------------------------------------------------------------------------ session


@dataclass
class Peer:
    """A connected socket plus every message received on it, in order."""

    sock: socket.socket
    received: list[bytes]
    buffer: bytes = b""

    @classmethod
    def connect(cls, local: str, remote: str, port: int) -> Peer:
        sock = socket.create_connection((remote, port), timeout=10, source_address=(local, 0))
        return cls(sock=sock, received=[])

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _read_one(self, deadline: float) -> bytes | None:
        while True:
            if len(self.buffer) >= 19:
                (length,) = struct.unpack("!H", self.buffer[16:18])
                if len(self.buffer) >= length:
                    msg, self.buffer = self.buffer[:length], self.buffer[length:]
                    self.received.append(msg)
                    return msg
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                return None
            if not chunk:
                return None
            self.buffer += chunk

    def wait_for(self, match: Callable[[bytes], bool], timeout: float = 10.0) -> bytes:
        deadline = time.monotonic() + timeout
        while True:
            msg = self._read_one(deadline)
            if msg is None:
                kinds = [kind_of(m) for m in self.received]
                raise TimeoutError(f"expected message did not arrive; got types {kinds}")
            if match(msg):
                return msg

    def drain(self, quiet: float = 1.5) -> None:
        """Read until no message arrives for ``quiet`` seconds."""
        while self._read_one(time.monotonic() + quiet) is not None:
            pass


def kind_of(msg: bytes) -> int:
    return msg[18]


# ------------------------------------------------------------------------------ decoding


def _prefixes(data: bytes, afi: int, add_path: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    i = 0
    size = 4 if afi == 1 else 16
    while i < len(data):
        path_id = None
        if add_path:
            (path_id,) = struct.unpack("!I", data[i : i + 4])
            i += 4
        plen = data[i]
        nbytes = (plen + 7) // 8
        raw = data[i + 1 : i + 1 + nbytes] + b"\x00" * (size - nbytes)
        i += 1 + nbytes
        net = ipaddress.ip_network((raw, plen)) if afi == 1 else None
        if afi == 2:
            net = ipaddress.IPv6Network((raw, plen))
        entry: dict[str, Any] = {"prefix": str(net)}
        if add_path:
            entry["path_id"] = path_id
        out.append(entry)
    return out


def _attr(code: int, flags: int, v: bytes, add_path: bool) -> dict[str, Any]:
    d: dict[str, Any] = {"type": code, "flags": f"0x{flags:02x}"}
    if code == 1:
        d["origin"] = {0: "IGP", 1: "EGP", 2: "INCOMPLETE"}[v[0]]
    elif code == 2:
        segs = []
        i = 0
        while i < len(v):
            stype, n = v[i], v[i + 1]
            asns = list(struct.unpack(f"!{n}I", v[i + 2 : i + 2 + 4 * n]))
            segs.append({"type": {1: "AS_SET", 2: "AS_SEQUENCE"}.get(stype, stype), "asns": asns})
            i += 2 + 4 * n
        d["as_path"] = segs
    elif code == 3:
        d["next_hop"] = socket.inet_ntoa(v)
    elif code in (4, 5):
        d["med" if code == 4 else "local_pref"] = struct.unpack("!I", v)[0]
    elif code == 8:
        d["communities"] = [[c >> 16, c & 0xFFFF] for c in struct.unpack(f"!{len(v) // 4}I", v)]
    elif code == 16:
        d["ext_communities"] = [v[i : i + 8].hex() for i in range(0, len(v), 8)]
    elif code == 32:
        d["large_communities"] = [
            list(struct.unpack("!III", v[i : i + 12])) for i in range(0, len(v), 12)
        ]
    elif code == 14:
        afi, safi, nhlen = struct.unpack("!HBB", v[:4])
        nh = v[4 : 4 + nhlen]
        hops = [str(ipaddress.ip_address(nh[i : i + 16])) for i in range(0, len(nh), 16)]
        if afi == 1 and nhlen == 4:
            hops = [socket.inet_ntoa(nh)]
        reserved = v[4 + nhlen]
        d["mp_reach"] = {
            "afi": afi,
            "safi": safi,
            "next_hop_len": nhlen,
            "next_hops": hops,
            "reserved": reserved,
            "nlri": _prefixes(v[5 + nhlen :], afi, add_path),
        }
    elif code == 15:
        afi, safi = struct.unpack("!HB", v[:3])
        d["mp_unreach"] = {"afi": afi, "safi": safi, "withdrawn": _prefixes(v[3:], afi, add_path)}
    else:
        d["raw"] = v.hex()
    return d


def decode(msg: bytes, *, add_path: bool = False) -> dict[str, Any]:
    length, kind = struct.unpack("!HB", msg[16:19])
    body = msg[19:]
    d: dict[str, Any] = {"length": length, "type": kind}
    if kind == OPEN:
        version, my_as, hold, bgp_id, plen = struct.unpack("!BHH4sB", body[:10])
        caps: list[dict[str, Any]] = []
        i = 10
        while i < 10 + plen:
            ptype, pl = body[i], body[i + 1]
            j = i + 2
            params: list[dict[str, Any]] = []
            while ptype == 2 and j < i + 2 + pl:
                code, cl = body[j], body[j + 1]
                params.append({"code": code, "value": body[j + 2 : j + 2 + cl].hex()})
                j += 2 + cl
            caps.append({"param_type": ptype, "capabilities": params})
            i += 2 + pl
        d.update(
            version=version,
            my_as=my_as,
            hold_time=hold,
            bgp_id=socket.inet_ntoa(bgp_id),
            opt_params_len=plen,
            opt_params=caps,
        )
    elif kind == UPDATE:
        (wlen,) = struct.unpack("!H", body[:2])
        withdrawn = _prefixes(body[2 : 2 + wlen], 1, add_path)
        (alen,) = struct.unpack("!H", body[2 + wlen : 4 + wlen])
        attrs_raw = body[4 + wlen : 4 + wlen + alen]
        attrs = []
        i = 0
        while i < len(attrs_raw):
            flags, code = attrs_raw[i], attrs_raw[i + 1]
            if flags & 0x10:
                (al,) = struct.unpack("!H", attrs_raw[i + 2 : i + 4])
                start = i + 4
            else:
                al, start = attrs_raw[i + 2], i + 3
            attrs.append(_attr(code, flags, attrs_raw[start : start + al], add_path))
            i = start + al
        d.update(
            withdrawn=withdrawn,
            attributes=attrs,
            nlri=_prefixes(body[4 + wlen + alen :], 1, add_path),
        )
    elif kind == NOTIFICATION:
        d.update(code=body[0], subcode=body[1], data=body[2:].hex())
    elif kind == ROUTE_REFRESH:
        afi, sub, safi = struct.unpack("!HBB", body)
        d.update(afi=afi, subtype=sub, safi=safi)
    return d


def is_update_with(pred: Callable[[dict[str, Any]], bool]) -> Callable[[bytes], bool]:
    return lambda m: kind_of(m) == UPDATE and pred(decode(m))


def eor_afi(msg: bytes, *, add_path: bool = False) -> int | None:
    """AFI of an End-of-RIB marker (RFC 4724 §2), else None."""
    if kind_of(msg) != UPDATE:
        return None
    d = decode(msg, add_path=add_path)
    if not d["withdrawn"] and not d["nlri"] and not d["attributes"]:
        return 1
    attrs = d["attributes"]
    if len(attrs) == 1 and "mp_unreach" in attrs[0] and not attrs[0]["mp_unreach"]["withdrawn"]:
        return int(attrs[0]["mp_unreach"]["afi"])
    return None


# ------------------------------------------------------------------------------ capture


class Store:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.decoded: dict[str, Any] = {}

    def save(
        self, name: str, msg: bytes, *, daemon: str, trigger: str, add_path: bool = False
    ) -> None:
        (self.out / f"{name}.hex").write_text(msg.hex() + "\n")
        self.decoded[name] = {
            "daemon": daemon,
            "trigger": trigger,
            "add_path": add_path,
            "length": len(msg),
            "decoded": decode(msg, add_path=add_path),
        }
        print(f"saved {name}: {len(msg)} bytes")

    def finish(self) -> None:
        path = self.out / "captured.json"
        path.write_text(json.dumps(self.decoded, indent=2, sort_keys=True) + "\n")


def handshake(peer: Peer, open_msg: bytes) -> tuple[bytes, bytes]:
    peer.send(open_msg)
    their_open = peer.wait_for(lambda m: kind_of(m) == OPEN)
    peer.send(message(KEEPALIVE))
    their_keepalive = peer.wait_for(lambda m: kind_of(m) == KEEPALIVE)
    return their_open, their_keepalive


def capture_bird(work: Path, store: Store) -> None:
    port, our_port = free_port(BIRD_IP), free_port(US_BIRD)
    conf = bird_config(
        router_id=BIRD_IP,
        asn=BIRD_AS,
        neighbors=[
            BirdNeighbor(
                name="capture",
                address=US_BIRD,
                port=our_port,
                asn=US_AS,
                local_address=BIRD_IP,
                local_port=port,
                passive=True,
                graceful_restart="aware",
            )
        ],
        routes_v4=["10.63.1.0/24", "10.63.2.0/24", "10.63.3.0/24"],
        routes_v6=["2001:db8:63::/48"],
        communities=[(65063, 1), (65063, 2)],
        large_communities=[(BIRD_AS, 7, 8)],
        med=50,
    )
    with Bird(work / "bird", conf) as bird:
        v = bird.birdc("show status").splitlines()[0]
        peer = Peer.connect(US_BIRD, BIRD_IP, port)
        their_open, keepalive = handshake(
            peer, build_open(US_AS, US_BIRD, add_path_receive=False, graceful_restart=True)
        )
        store.save("bird_open", their_open, daemon=v, trigger="OPEN sent by BIRD on connect")
        store.save("bird_keepalive", keepalive, daemon=v, trigger="KEEPALIVE after OPEN exchange")
        # BIRD 2.0.12 holds the initial feed for ~3 s (idle poll) and sends End-of-RIB only
        # to a peer that advertised Graceful Restart, hence cap 64 in our OPEN.
        peer.wait_for(lambda m: eor_afi(m) == 1, timeout=15.0)
        if not any(eor_afi(m) == 2 for m in peer.received):
            peer.wait_for(lambda m: eor_afi(m) == 2, timeout=15.0)
        peer.drain(1.0)
        for msg in peer.received:
            if kind_of(msg) != UPDATE:
                continue
            afi = eor_afi(msg)
            if afi is not None:
                name = "bird_eor_ipv4" if afi == 1 else "bird_eor_ipv6"
                store.save(name, msg, daemon=v, trigger="End-of-RIB after initial feed")
            elif decode(msg)["nlri"]:
                store.save("bird_update_ipv4", msg, daemon=v, trigger="initial feed, static routes")
            else:
                store.save("bird_update_ipv6", msg, daemon=v, trigger="initial feed, static routes")
        start = len(peer.received)
        bird.reload_in("capture")
        peer.wait_for(lambda m: kind_of(m) == ROUTE_REFRESH)
        peer.drain(1.0)
        refreshes = [m for m in peer.received[start:] if kind_of(m) == ROUTE_REFRESH]
        for msg in refreshes:
            afi = decode(msg)["afi"]
            name = "bird_route_refresh" if afi == 1 else "bird_route_refresh_ipv6"
            store.save(name, msg, daemon=v, trigger="birdc reload in capture")
        bird.disable("capture", "bgpemu capture")
        note = peer.wait_for(lambda m: kind_of(m) == NOTIFICATION)
        store.save(
            "bird_notification_cease",
            note,
            daemon=v,
            trigger='birdc disable capture "bgpemu capture"',
        )
        peer.sock.close()


def capture_gobgp(work: Path, store: Store) -> None:
    port = free_port(GOBGP_IP)
    conf = gobgp_config(
        router_id=GOBGP_IP,
        asn=GOBGP_AS,
        port=port,
        local_address=GOBGP_IP,
        neighbors=[
            GoBgpNeighbor(address=US_GOBGP, asn=US_AS, passive=True, graceful_restart=True),
            GoBgpNeighbor(
                address=US_GOBGP_AP,
                asn=US_AS,
                passive=True,
                add_paths_receive=True,
                add_paths_send_max=8,
            ),
        ],
    )
    with GoBgp(work / "gobgp", conf) as gobgp:
        v = subprocess.run(
            [gobgp.gobgpd, "--version"], capture_output=True, text=True, check=True
        ).stdout.strip()
        common: dict[str, Any] = {
            "origin": "igp",
            "as_path": [65001, 65002],
            "med": 20,
            "communities": [(65064, 1), (65064, 2)],
            "large_communities": [(GOBGP_AS, 1, 2)],
        }
        gobgp.add_route("10.64.1.0/24", "192.0.2.4", **common)
        gobgp.add_route("10.64.2.0/24", "192.0.2.4", **common)
        gobgp.add_route("10.64.3.0/24", "192.0.2.4", origin="igp", route_targets=["65064:100"])
        gobgp.add_route("2001:db8:64::/48", "2001:db8::4", origin="igp", med=30)
        gobgp.add_route("10.64.9.0/24", "192.0.2.4", origin="igp", identifier=1)
        gobgp.add_route("10.64.9.0/24", "192.0.2.5", origin="igp", identifier=2)

        plain = Peer.connect(US_GOBGP, GOBGP_IP, port)
        their_open, keepalive = handshake(
            plain, build_open(US_AS, US_GOBGP, add_path_receive=False, graceful_restart=True)
        )
        store.save(
            "gobgp_open_plain", their_open, daemon=v, trigger="OPEN to a peer without ADD-PATH"
        )
        store.save("gobgp_keepalive", keepalive, daemon=v, trigger="KEEPALIVE after OPEN exchange")
        plain.drain()
        for msg in plain.received:
            if kind_of(msg) != UPDATE:
                continue
            afi = eor_afi(msg)
            d = decode(msg)
            codes = {a["type"] for a in d["attributes"]}
            if afi is not None:
                name = "gobgp_eor_ipv4" if afi == 1 else "gobgp_eor_ipv6"
                store.save(name, msg, daemon=v, trigger="End-of-RIB after initial feed")
            elif 16 in codes:
                store.save(
                    "gobgp_update_extcommunity", msg, daemon=v, trigger="gobgp global rib add"
                )
            elif 14 in codes:
                store.save("gobgp_update_ipv6", msg, daemon=v, trigger="gobgp global rib add")
            elif {p["prefix"] for p in d["nlri"]} & {"10.64.1.0/24", "10.64.2.0/24"}:
                store.save("gobgp_update_ipv4", msg, daemon=v, trigger="gobgp global rib add")
            elif any(p["prefix"] == "10.64.9.0/24" for p in d["nlri"]):
                store.save("gobgp_update_ipv4_best", msg, daemon=v, trigger="best of 2 local paths")

        ap = Peer.connect(US_GOBGP_AP, GOBGP_IP, port)
        their_open, _ = handshake(ap, build_open(US_AS, US_GOBGP_AP, add_path_receive=True))
        store.save("gobgp_open", their_open, daemon=v, trigger="OPEN to a peer with ADD-PATH")
        ap.drain()
        n = 0
        for msg in ap.received:
            if kind_of(msg) != UPDATE or eor_afi(msg, add_path=True) is not None:
                continue
            if 14 in {a["type"] for a in decode(msg, add_path=True)["attributes"]}:
                store.save(
                    "gobgp_update_ipv6_addpath",
                    msg,
                    add_path=True,
                    daemon=v,
                    trigger="ADD-PATH session, IPv6 route",
                )
                continue
            nlri = decode(msg, add_path=True)["nlri"]
            if any(p["prefix"] == "10.64.9.0/24" for p in nlri):
                n += 1
                name = "gobgp_update_ipv4_addpath" + ("" if n == 1 else f"_{n}")
                store.save(
                    name, msg, add_path=True, daemon=v, trigger="ADD-PATH session, 2 local paths"
                )

        gobgp.disable_neighbor(US_GOBGP, reason="bgpemu capture")
        note = plain.wait_for(lambda m: kind_of(m) == NOTIFICATION)
        store.save(
            "gobgp_notification",
            note,
            daemon=v,
            trigger='gobgp neighbor 127.0.0.66 shutdown --reason "bgpemu capture"',
        )
        plain.sock.close()
        ap.sock.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    parser.add_argument("--work", type=Path, help="keep daemon configs and logs here")
    args = parser.parse_args()
    store = Store(args.out)
    with tempfile.TemporaryDirectory(prefix="bgpemu-capture-") as tmp:
        work = args.work or Path(tmp)
        capture_bird(work, store)
        capture_gobgp(work, store)
    store.finish()


if __name__ == "__main__":
    main()
