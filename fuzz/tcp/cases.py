"""Seeded generation of malformed and mutated BGP messages, one case at a time.

A case is the bytes of one message (as the speaker under test will frame it) and the
FSM phase it is sent in.  Case ``i`` of worker ``k`` depends only on (seed, k, i), so a
reproducer is that triple plus the hex bytes printed in the summary.  Every route a
case announces or withdraws lies in the case's own *region* (a /24 and a /64 reserved
for it), so that cases batched on one session, and parallel workers, never observe
each other's routes; a mutation that leaves the region is drawn again.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from dataclasses import dataclass

from fuzz.tcp import wire as w
from fuzz.tcp.oracle import SURELY_UNKNOWN, Context, Expectation, Nlri, Phase, judge

KINDS = {
    # kind: relative weight
    "update": 500,
    "update_raw": 80,
    "mp": 120,
    "withdraw": 50,
    "extended": 10,
    "header": 30,
    "keepalive": 20,
    "route_refresh": 50,
    "notification": 5,
    "open": 60,
    "fsm": 15,
}


@dataclass(frozen=True, slots=True)
class Region:
    """The routes one case may touch: 10.a.b.0/24 and 2001:db8:x:y::/64."""

    v4: bytes  # three octets
    v6: bytes  # eight octets

    def owns(self, nlri: Nlri) -> bool:
        (afi, length, octets), _ = nlri
        if afi == w.AFI_IPV4:
            return length >= 24 and octets[:3] == self.v4
        return afi == w.AFI_IPV6 and length >= 64 and octets[:8] == self.v6


@dataclass(frozen=True, slots=True)
class Case:
    worker: int
    index: int
    kind: str
    phase: Phase
    data: bytes
    expect: Expectation


@dataclass(frozen=True, slots=True)
class Profile:
    """How the fuzzing peer opens its session (what it advertises) and what that gives."""

    name: str
    asn: int
    bgp_id: bytes
    ctx: Context

    def open_caps(self) -> list[bytes]:
        caps = [w.cap_mp(w.AFI_IPV4, 1), w.cap_mp(w.AFI_IPV6, 1), w.capability(w.CAP_RR, b"")]
        if self.ctx.enhanced_refresh:
            caps.append(w.capability(w.CAP_ERR, b""))
        if self.ctx.four_octet:
            caps.append(w.cap_as4(self.asn))
        if self.ctx.add_path_rx:
            caps.append(w.cap_add_path([(w.AFI_IPV4, 1, 3), (w.AFI_IPV6, 1, 3)]))
        if self.ctx.extended:
            caps.append(w.capability(w.CAP_EXT_MSG, b""))
        return caps

    def open_message(self, hold: int = 0) -> bytes:
        my_as = self.asn if self.asn <= 0xFFFF else w.AS_TRANS
        params = w.cap_param(self.open_caps())
        return w.frame(w.OPEN, w.open_body(my_as, hold, self.bgp_id, params))


def region_for(worker: int, index: int) -> Region:
    """Slot ``index % 64`` of pool ``(index // 64) % 3`` of ``worker``'s /16 and /48."""
    third = ((index // 64) % 3) * 64 + index % 64
    return Region(
        bytes((10, 16 + worker, third)),
        b"\x20\x01\x0d\xb8" + struct.pack("!HH", 16 + worker, third),
    )


def sentinel_prefix(worker: int) -> w.Prefix:
    return (w.AFI_IPV4, 24, bytes((10, 16 + worker, 255)))


class Generator:
    """The cases of one worker: ``case(i)`` is a pure function of (seed, worker, i)."""

    def __init__(self, seed: int, worker: int, profile: Profile) -> None:
        self.seed = seed
        self.worker = worker
        self.profile = profile
        self.ctx = profile.ctx
        self._kinds = list(KINDS)
        self._weights = [KINDS[k] for k in self._kinds]

    def case(self, index: int, kind: str | None = None) -> Case:
        rng = random.Random(f"{self.seed}/{self.worker}/{index}")
        kind = kind or rng.choices(self._kinds, self._weights)[0]
        region = region_for(self.worker, index)
        for _ in range(8):
            phase, data = getattr(self, f"_{kind}")(rng, region)
            exp = judge(data, self.ctx, phase)
            if all(region.owns(n) for n in (*exp.field_nlri, *exp.mp_nlri, *exp.withdrawn)):
                return Case(self.worker, index, kind, phase, data, exp)
        phase, data = Phase.ESTABLISHED, w.frame(w.UPDATE, self._valid(rng, region).body())
        return Case(self.worker, index, kind, phase, data, judge(data, self.ctx, phase))

    # -- building blocks -------------------------------------------------------------------

    def _asn(self, rng: random.Random) -> int:
        while True:
            asn = rng.choice((rng.randint(1, 64495), rng.randint(64512, 65534)))
            if self.ctx.four_octet and rng.random() < 0.3:
                asn = rng.randint(65536, 4294967294)
            if asn != self.ctx.local_as:
                return asn

    def _path_value(self, segments: list[tuple[int, list[int]]], size: int) -> bytes:
        fmt = "I" if size == 4 else "H"
        out = b""
        for seg_type, asns in segments:
            out += bytes((seg_type, len(asns))) + struct.pack(f"!{len(asns)}{fmt}", *asns)
        return out

    def _nlri(self, rng: random.Random, region: Region, afi: int, count: int) -> list[Nlri]:
        out: list[Nlri] = []
        add_path = (afi, 1) in self.ctx.add_path_rx
        base, bits = (region.v4, 24) if afi == w.AFI_IPV4 else (region.v6, 64)
        size = 4 if afi == w.AFI_IPV4 else 16
        for _ in range(count):
            extra = rng.choice((0, 1, 4, 8)) if afi == w.AFI_IPV4 else rng.choice((0, 16, 32, 64))
            length = bits + extra
            host = rng.getrandbits(extra) << (size * 8 - length) if extra else 0
            full = int.from_bytes(base.ljust(size, b"\0"), "big") | host
            octets = full.to_bytes(size, "big")[: (length + 7) // 8]
            out.append(((afi, length, octets), rng.randint(1, 8) if add_path else None))
        return out

    def _valid(self, rng: random.Random, region: Region) -> _Update:
        u = _Update(self.ctx)
        size = 4 if self.ctx.four_octet else 2
        peer = self.profile.asn if size == 4 or self.profile.asn <= 0xFFFF else w.AS_TRANS
        path = [peer] + [self._asn(rng) for _ in range(rng.randint(0, 4))]
        as4: list[int] | None = None
        if size == 2 and any(a > 0xFFFF for a in path):
            as4 = list(path)
        path2 = [a if a <= 0xFFFF else w.AS_TRANS for a in path] if size == 2 else path
        if size == 2 and rng.random() < 0.15:
            as4 = [self._asn(rng) for _ in range(rng.randint(1, len(path2)))]
            path2 = (
                path2[:1]
                + [w.AS_TRANS] * (len(path2) - 1)
                + ([w.AS_TRANS] if len(path2) == 1 else [])
            )
        u.attrs.append(Attr(0x40, w.ORIGIN, bytes((rng.randint(0, 2),))))
        u.attrs.append(Attr(0x40, w.AS_PATH, self._path_value([(w.AS_SEQUENCE, path2)], size)))
        field = rng.random() < 0.75
        mp = not field or rng.random() < 0.3
        if field:
            u.attrs.append(Attr(0x40, w.NEXT_HOP, bytes((192, 0, 2, rng.randint(1, 254)))))
            u.nlri = self._nlri(rng, region, w.AFI_IPV4, rng.randint(1, 3))
        if mp:
            if rng.random() < 0.85:
                nh = b"\x20\x01\x0d\xb8" + bytes(11) + bytes((rng.randint(1, 254),))
                if rng.random() < 0.2:
                    nh += b"\xfe\x80" + bytes(13) + b"\x01"
                u.mp_reach = (
                    w.AFI_IPV6,
                    1,
                    nh,
                    self._nlri(rng, region, w.AFI_IPV6, rng.randint(1, 3)),
                )
            else:
                nh = bytes((198, 51, 100, rng.randint(1, 254)))
                u.mp_reach = (
                    w.AFI_IPV4,
                    1,
                    nh,
                    self._nlri(rng, region, w.AFI_IPV4, rng.randint(1, 2)),
                )
        if as4 is not None:
            u.attrs.append(Attr(0xC0, w.AS4_PATH, self._path_value([(w.AS_SEQUENCE, as4)], 4)))
        makers: list[tuple[int, Callable[[], bytes]]] = [
            (w.MED, lambda: struct.pack("!I", rng.getrandbits(32))),
            (w.ATOMIC_AGGREGATE, lambda: b""),
            (
                w.AGGREGATOR,
                lambda: (
                    struct.pack(
                        "!I" if size == 4 else "!H",
                        self._asn(rng) & (0xFFFFFFFF if size == 4 else 0xFFFF),
                    )
                    + bytes((192, 0, 2, 9))
                ),
            ),
            (w.COMMUNITIES, lambda: rng.randbytes(4 * rng.randint(1, 4))),
            (w.LARGE_COMMUNITIES, lambda: rng.randbytes(12 * rng.randint(1, 2))),
            (w.EXT_COMMUNITIES, lambda: rng.randbytes(8 * rng.randint(1, 2))),
            (w.LOCAL_PREF, lambda: struct.pack("!I", 100)),
        ]
        for code, maker in makers:
            if rng.random() < 0.25:
                flags = {w.MED: 0x80, w.ATOMIC_AGGREGATE: 0x40, w.LOCAL_PREF: 0x40}.get(code, 0xC0)
                u.attrs.append(Attr(flags, code, maker()))
        if rng.random() < 0.2:
            flags = rng.choice((0xC0, 0x80, 0xE0))
            u.attrs.append(
                Attr(flags, rng.choice(sorted(SURELY_UNKNOWN)), rng.randbytes(rng.randint(0, 12)))
            )
        if rng.random() < 0.3:
            rng.shuffle(u.attrs)
        return u

    # -- kinds -----------------------------------------------------------------------------

    def _update(self, rng: random.Random, region: Region) -> tuple[Phase, bytes]:
        u = self._valid(rng, region)
        for _ in range(rng.choice((0, 1, 1, 1, 2, 2, 3))):
            rng.choice(_MUTATIONS)(self, rng, u, region)
        return Phase.ESTABLISHED, w.frame(w.UPDATE, u.body())

    def _mp(self, rng: random.Random, region: Region) -> tuple[Phase, bytes]:
        u = self._valid(rng, region)
        if u.mp_reach is None:
            nh = b"\x20\x01\x0d\xb8" + bytes(11) + b"\x07"
            u.mp_reach = (w.AFI_IPV6, 1, nh, self._nlri(rng, region, w.AFI_IPV6, 2))
        if rng.random() < 0.3:
            afi = rng.choice((w.AFI_IPV4, w.AFI_IPV6))
            u.mp_unreach = (afi, 1, self._nlri(rng, region, afi, rng.randint(0, 2)))
        for _ in range(rng.choice((0, 1, 1, 2))):
            rng.choice(_MP_MUTATIONS)(self, rng, u, region)
        return Phase.ESTABLISHED, w.frame(w.UPDATE, u.body())

    def _update_raw(self, rng: random.Random, region: Region) -> tuple[Phase, bytes]:
        body = bytearray(self._valid(rng, region).body())
        for _ in range(rng.randint(1, 4)):
            op = rng.randrange(5)
            pos = rng.randrange(len(body)) if body else 0
            if op == 0 and body:
                body[pos] ^= 1 << rng.randrange(8)
            elif op == 1 and body:
                body[pos] = rng.choice((0, 1, 0x7F, 0x80, 0xFF, rng.randrange(256)))
            elif op == 2:
                body.insert(pos, rng.randrange(256))
            elif op == 3 and body:
                del body[pos]
            elif body:
                del body[pos:]
        return Phase.ESTABLISHED, w.frame(w.UPDATE, bytes(body))

    def _withdraw(self, rng: random.Random, region: Region) -> tuple[Phase, bytes]:
        u = _Update(self.ctx)
        choice = rng.randrange(4)
        if choice == 0:
            u.withdrawn = self._nlri(rng, region, w.AFI_IPV4, rng.randint(1, 3))
        elif choice == 1:
            u.mp_unreach = (w.AFI_IPV6, 1, self._nlri(rng, region, w.AFI_IPV6, rng.randint(1, 3)))
        elif choice == 2:
            u.mp_unreach = (rng.choice((w.AFI_IPV4, w.AFI_IPV6)), 1, [])  # End-of-RIB (RFC 4724)
        return Phase.ESTABLISHED, w.frame(w.UPDATE, u.body())  # choice 3: empty (End-of-RIB)

    def _extended(self, rng: random.Random, region: Region) -> tuple[Phase, bytes]:
        u = self._valid(rng, region)
        size = 4 if self.ctx.four_octet else 2
        count = rng.randint(900, 2000 if size == 4 else 3000)
        peer = self.profile.asn if size == 4 or self.profile.asn <= 0xFFFF else w.AS_TRANS
        asns = [peer] + [
            self._asn(rng) & (0xFFFF if size == 2 else 0xFFFFFFFF) or 1 for _ in range(count)
        ]
        asns = [a if a != self.ctx.local_as else 1 for a in asns]
        segments = [(w.AS_SEQUENCE, asns[i : i + 255]) for i in range(0, len(asns), 255)]
        for attr in u.attrs:
            if attr.code == w.AS_PATH:
                attr.value = self._path_value(segments, size)
        u.attrs = [a for a in u.attrs if a.code != w.AS4_PATH]
        return Phase.ESTABLISHED, w.frame(w.UPDATE, u.body())

    def _header(self, rng: random.Random, region: Region) -> tuple[Phase, bytes]:
        base = rng.choice((w.keepalive(), w.frame(w.UPDATE, self._valid(rng, region).body())))
        data = bytearray(base)
        op = rng.randrange(4)
        if op == 0:
            data[rng.randrange(16)] ^= 1 << rng.randrange(8)
        elif op == 1:
            data[18] = rng.choice((0, 6, 7, 128, 255, rng.randint(6, 255)))
        elif op == 2:
            data[18] = rng.choice((w.OPEN, w.UPDATE, w.NOTIFICATION, w.KEEPALIVE, w.ROUTE_REFRESH))
        else:
            length = rng.choice((0, 1, 18, 20, 22, 23, 4096, 4097, 65535, rng.randint(0, 5000)))
            limit = w.MAX_EXT_LEN if self.ctx.extended else w.MAX_LEN
            struct.pack_into("!H", data, 16, length)
            if w.HEADER <= length <= limit:
                data = data[:length] + bytearray(rng.randbytes(max(0, length - len(data))))
        return Phase.ESTABLISHED, bytes(data)

    def _keepalive(self, rng: random.Random, region: Region) -> tuple[Phase, bytes]:
        body = b"" if rng.random() < 0.3 else rng.randbytes(rng.randint(1, 8))
        return Phase.ESTABLISHED, w.frame(w.KEEPALIVE, body)

    def _route_refresh(self, rng: random.Random, region: Region) -> tuple[Phase, bytes]:
        afi = rng.choice((1, 1, 2, 2, 3, 25, rng.randrange(65536)))
        safi = rng.choice((1, 1, 1, 2, 128, rng.randrange(256)))
        subtype = rng.choice((0, 0, 0, 1, 2, rng.randrange(256)))
        data = w.route_refresh(afi, safi, subtype)
        if rng.random() < 0.2:
            body = (
                data[19:] + rng.randbytes(rng.randint(1, 4)) if rng.random() < 0.5 else data[19:22]
            )
            data = w.frame(w.ROUTE_REFRESH, body)
        return Phase.ESTABLISHED, data

    def _notification(self, rng: random.Random, region: Region) -> tuple[Phase, bytes]:
        if rng.random() < 0.2:
            return Phase.ESTABLISHED, w.frame(w.NOTIFICATION, rng.randbytes(rng.randint(0, 1)))
        body = bytes((rng.randint(0, 8), rng.randint(0, 12))) + rng.randbytes(rng.randint(0, 6))
        return Phase.ESTABLISHED, w.frame(w.NOTIFICATION, body)

    def _open(self, rng: random.Random, region: Region) -> tuple[Phase, bytes]:
        p = self.profile
        version, hold, bgp_id = 4, rng.choice((0, 3, 90, 65535)), p.bgp_id
        my_as = p.asn if p.asn <= 0xFFFF else w.AS_TRANS
        caps = p.open_caps()
        params: list[bytes] | None = None
        op = rng.randrange(12)
        if op == 0:
            version = rng.choice((0, 1, 2, 3, 5, 255))
        elif op == 1:
            hold = rng.choice((1, 2))
        elif op == 2:
            bgp_id = rng.choice((bytes(4), b"\xe0\0\0\x01", b"\xff\xff\xff\xff", rng.randbytes(4)))
        elif op == 3:
            my_as = rng.choice((0, my_as + 1, w.AS_TRANS, rng.randrange(65536)))
        elif op == 4:
            caps = [c for c in caps if rng.random() < 0.6]
        elif op == 5:
            caps.insert(
                rng.randrange(len(caps) + 1),
                w.capability(rng.randrange(256), rng.randbytes(rng.randint(0, 6))),
            )
        elif op == 6:
            i = rng.randrange(len(caps))
            cap = bytearray(caps[i])
            if len(cap) > 2 and rng.random() < 0.5:
                cap[2 + rng.randrange(len(cap) - 2)] ^= 0xFF
            else:
                cap[1] = (cap[1] + rng.choice((-1, 1, 3))) % 256
            caps[i] = bytes(cap)
        elif op == 7:
            params = [w.cap_param(caps), bytes((rng.choice((1, 3, 4, 255)), 2)) + rng.randbytes(2)]
        elif op == 8:
            params = [w.cap_param([c]) for c in caps]  # one capability per parameter
        elif op == 9:
            params = [w.cap_param(caps)[: -rng.randint(1, 3)]]  # parameter cut short
        elif op == 10:
            caps = [w.cap_as4(rng.choice((p.asn + 1, 0, w.AS_TRANS, rng.getrandbits(32))))] + [
                c for c in caps if c[0] != w.CAP_AS4
            ]
        params_bytes = b"".join(params) if params is not None else w.cap_param(caps)
        body = w.open_body(my_as, hold, bgp_id, params_bytes, version=version)
        if op == 11:
            body = body[:9] + bytes(((body[9] + rng.choice((-2, -1, 1, 5))) % 256,)) + body[10:]
        return Phase.OPEN_SENT, w.frame(w.OPEN, body)

    def _fsm(self, rng: random.Random, region: Region) -> tuple[Phase, bytes]:
        update = w.frame(w.UPDATE, self._valid(rng, region).body())
        choice = rng.randrange(6)
        if choice == 0:
            return Phase.OPEN_SENT, update
        if choice == 1:
            return Phase.OPEN_SENT, w.keepalive()
        if choice == 2:
            return Phase.OPEN_SENT, w.route_refresh(1, 1)
        if choice == 3:
            return Phase.OPEN_CONFIRM, update
        if choice == 4:
            return Phase.OPEN_CONFIRM, w.route_refresh(1, 1)
        return Phase.ESTABLISHED, self.profile.open_message()


@dataclass(slots=True)
class Attr:
    """One path attribute being built: mutations edit it before it is encoded."""

    flags: int
    code: int
    value: bytes


class _Update:
    """A structured UPDATE that mutations edit before it is encoded."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.attrs: list[Attr] = []
        self.raw_attrs: bytes | None = None
        self.nlri: list[Nlri] = []
        self.withdrawn: list[Nlri] = []
        self.mp_reach: tuple[int, int, bytes, list[Nlri]] | None = None
        self.mp_unreach: tuple[int, int, list[Nlri]] | None = None
        self.mp_first = True
        self.nlri_suffix = b""
        self.alen_delta = 0
        self.wlen_delta = 0

    @staticmethod
    def encode_nlri(items: list[Nlri]) -> bytes:
        return b"".join(w.prefix_bytes(p, pid) for p, pid in items)

    def attr_block(self) -> bytes:
        """The path attributes as encoded (or as overridden by a mutation)."""
        if self.raw_attrs is not None:
            return self.raw_attrs
        attrs = [w.attribute(a.flags, a.code, a.value) for a in self.attrs]
        mp: list[bytes] = []
        if self.mp_reach is not None:
            afi, safi, nh, items = self.mp_reach
            value = w.mp_reach(afi, safi, nh, self.encode_nlri(items))
            mp.append(w.attribute(0x80, w.MP_REACH, value))
        if self.mp_unreach is not None:
            afi, safi, items = self.mp_unreach
            value = w.mp_unreach(afi, safi, self.encode_nlri(items))
            mp.append(w.attribute(0x80, w.MP_UNREACH, value))
        return b"".join(mp + attrs) if self.mp_first else b"".join(attrs + mp)

    def body(self) -> bytes:
        attr_bytes = self.attr_block()
        withdrawn = self.encode_nlri(self.withdrawn)
        nlri = self.encode_nlri(self.nlri) + self.nlri_suffix
        return (
            struct.pack("!H", max(0, len(withdrawn) + self.wlen_delta) & 0xFFFF)
            + withdrawn
            + struct.pack("!H", max(0, len(attr_bytes) + self.alen_delta) & 0xFFFF)
            + attr_bytes
            + nlri
        )


def _pick(rng: random.Random, u: _Update) -> Attr | None:
    return rng.choice(u.attrs) if u.attrs else None


def _m_flags(g: Generator, rng: random.Random, u: _Update, r: Region) -> None:
    if (a := _pick(rng, u)) is not None:
        a.flags ^= rng.choice((w.OPTIONAL, w.TRANSITIVE, w.PARTIAL, w.EXTENDED, 0x0F))


def _m_length(g: Generator, rng: random.Random, u: _Update, r: Region) -> None:
    if (a := _pick(rng, u)) is not None:
        value = a.value
        op = rng.randrange(3)
        a.value = (
            value[: rng.randrange(len(value) + 1)]
            if op == 0 and value
            else (value + rng.randbytes(rng.randint(1, 5)) if op == 1 else b"")
        )


def _m_value(g: Generator, rng: random.Random, u: _Update, r: Region) -> None:
    if (a := _pick(rng, u)) is not None:
        value = bytearray(a.value)
        if value:
            value[rng.randrange(len(value))] = rng.randrange(256)
        a.value = bytes(value)


def _m_duplicate(g: Generator, rng: random.Random, u: _Update, r: Region) -> None:
    if (a := _pick(rng, u)) is not None:
        copy = Attr(a.flags, a.code, a.value)
        if rng.random() < 0.5:
            copy.value = rng.randbytes(len(a.value))
        u.attrs.insert(rng.randrange(len(u.attrs) + 1), copy)


def _m_drop(g: Generator, rng: random.Random, u: _Update, r: Region) -> None:
    if u.attrs:
        del u.attrs[rng.randrange(len(u.attrs))]


def _m_unknown(g: Generator, rng: random.Random, u: _Update, r: Region) -> None:
    code = rng.choice((rng.randrange(256), rng.choice(sorted(SURELY_UNKNOWN)), 0, 255, 11, 26))
    flags = rng.choice((0x00, 0x40, 0x80, 0xC0, 0xE0, 0x50))
    u.attrs.insert(
        rng.randrange(len(u.attrs) + 1), Attr(flags, code, rng.randbytes(rng.randint(0, 10)))
    )


def _m_as_path(g: Generator, rng: random.Random, u: _Update, r: Region) -> None:
    size = 4 if g.ctx.four_octet else 2
    fmt = "!I" if size == 4 else "!H"
    for a in u.attrs:
        if a.code == w.AS_PATH:
            value = bytearray(a.value)
            op = rng.randrange(8)
            if op == 0 and value:
                value[0] = rng.choice((0, 3, 4, 5, 1, 255))
            elif op == 1 and len(value) > 1:
                value[1] = rng.choice(
                    (0, (value[1] + 1) % 256, value[1] - 1 if value[1] else 9, 255)
                )
            elif op == 2:
                value += bytes((rng.randrange(256),))
            elif op == 3:
                value += bytes((2, 1)) + struct.pack(fmt, g.ctx.local_as)
            elif op == 4 and len(value) >= 2 + size:
                value[2 : 2 + size] = struct.pack(fmt, rng.choice((0, 1, 64999)))
            elif op == 5:
                value = (
                    bytearray(bytes((rng.choice((1, 3, 4)), 1)) + struct.pack(fmt, 65001)) + value
                )
            elif op == 6:
                value = bytearray()
            else:
                value += bytes((1, 2)) + struct.pack(fmt, 65001) + struct.pack(fmt, 65002)
            a.value = bytes(value)


def _m_origin_nexthop(g: Generator, rng: random.Random, u: _Update, r: Region) -> None:
    for a in u.attrs:
        if a.code == w.ORIGIN and rng.random() < 0.5:
            a.value = bytes((rng.choice((3, 4, 255)),))
        elif a.code == w.NEXT_HOP:
            a.value = rng.choice(
                (bytes(4), b"\x7f\0\0\x01", b"\xe0\0\0\x05", b"\xff" * 4, b"\xc0\0\x02")
            )


def _m_nlri(g: Generator, rng: random.Random, u: _Update, r: Region) -> None:
    op = rng.randrange(4)
    if op == 0:
        u.nlri_suffix = bytes((rng.choice((33, 40, 255)),)) + rng.randbytes(4)
    elif op == 1:
        u.nlri_suffix = bytes((24,)) + b"\x0a"  # prefix cut short
    elif op == 2 and g.ctx.add_path_rx:
        u.nlri_suffix = b"\0\0\0"  # a path identifier cut short
    else:
        u.withdrawn = g._nlri(rng, r, w.AFI_IPV4, 1)
        if rng.random() < 0.5:
            u.wlen_delta = rng.choice((-1, 1, 100))


def _m_lengths(g: Generator, rng: random.Random, u: _Update, r: Region) -> None:
    op = rng.choice((0, 1, 2, 2, 3, 3, 3))
    if op == 0:
        u.alen_delta = rng.choice((1, 2, 3, 500))
    elif op == 1:
        u.alen_delta = -rng.choice((1, 2, 3))
    elif op == 2:
        u.raw_attrs = u.attr_block() + rng.randbytes(rng.randint(1, 3))  # §4: header truncated
    else:
        block = bytearray(u.attr_block())
        # Raise one attribute's length byte so that it overruns the block (RFC 7606 §4).
        i, offsets = 0, []
        while i + 4 <= len(block):
            offsets.append(i)
            ext = block[i] & w.EXTENDED
            n = struct.unpack_from("!H", block, i + 2)[0] if ext else block[i + 2]
            i += (4 if ext else 3) + n
        if offsets:
            at = rng.choice(offsets)
            if block[at] & w.EXTENDED:
                struct.pack_into("!H", block, at + 2, len(block) + rng.randint(0, 40))
            else:
                block[at + 2] = min(255, block[at + 2] + rng.randint(1, 255))
            u.raw_attrs = bytes(block)


def _mp_nexthop(g: Generator, rng: random.Random, u: _Update, r: Region) -> None:
    if u.mp_reach is not None:
        afi, safi, nh, items = u.mp_reach
        nh = rng.choice(
            (
                nh[: rng.randrange(len(nh) + 1)],
                nh + b"\0" * rng.randint(1, 3),
                bytes(16),
                b"\xff" + nh[1:],
            )
        )
        u.mp_reach = (afi, safi, nh, items)


def _mp_family(g: Generator, rng: random.Random, u: _Update, r: Region) -> None:
    if u.mp_reach is not None:
        afi, safi, nh, items = u.mp_reach
        u.mp_reach = (
            rng.choice((afi, 3, 25, 16388)),
            rng.choice((safi, 2, 4, 128, 133)),
            nh,
            items,
        )


def _mp_nlri(g: Generator, rng: random.Random, u: _Update, r: Region) -> None:
    if u.mp_reach is not None:
        afi, safi, nh, items = u.mp_reach
        bad = ((afi, rng.choice((129, 200, 255)), bytes(16)), items[0][1]) if items else None
        if bad is not None:
            u.mp_reach = (afi, safi, nh, [*items, bad])


def _mp_dup(g: Generator, rng: random.Random, u: _Update, r: Region) -> None:
    if u.mp_reach is not None:
        afi, safi, nh, items = u.mp_reach
        value = w.mp_reach(afi, safi, nh, _Update.encode_nlri(items[:1]))
        u.attrs.append(Attr(0x80, rng.choice((w.MP_REACH, w.MP_UNREACH)), value))


def _mp_flags(g: Generator, rng: random.Random, u: _Update, r: Region) -> None:
    if u.mp_reach is not None:
        afi, safi, nh, items = u.mp_reach
        u.attrs.append(
            Attr(
                rng.choice((0x40, 0xC0, 0x00)),
                w.MP_REACH,
                w.mp_reach(afi, safi, nh, _Update.encode_nlri(items)),
            )
        )
        u.mp_reach = None


def _mp_order(g: Generator, rng: random.Random, u: _Update, r: Region) -> None:
    u.mp_first = not u.mp_first


_MUTATIONS = [
    _m_flags,
    _m_length,
    _m_length,
    _m_value,
    _m_duplicate,
    _m_drop,
    _m_unknown,
    _m_as_path,
    _m_as_path,
    _m_origin_nexthop,
    _m_nlri,
    _m_lengths,
    _m_lengths,
]
_MP_MUTATIONS = [
    _mp_nexthop,
    _mp_family,
    _mp_nlri,
    _mp_dup,
    _mp_flags,
    _mp_order,
    _m_length,
    _m_flags,
]
