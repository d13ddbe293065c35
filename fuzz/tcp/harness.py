"""Drive a running ``bgpemu speaker`` over TCP with the cases of :mod:`fuzz.tcp.cases`.

Theory of operation.  The speaker under test (SUT) runs as a real subprocess with one
*bystander* neighbour and ``workers`` fuzzing neighbours, each on its own 127.x.y.z
address.  A worker sends its cases on an established session in *rounds*::

    [withdraw the routes of the round judged last time] [cases ...] [sentinel UPDATE]

The sentinel announces the worker's sentinel prefix with a COMMUNITIES value equal to
the round number.  The SUT handles one session's messages in order, so when the
bystander sees the sentinel of round r, every case of round r has been processed, and
every route the SUT exported for round r - 1 is already in the bystander's stream: round
r - 1 is judged then (its prefixes are unique to it, see ``cases.Region``).  A case the
oracle says may reset the session is sent alone, after an empty round that judges the
previous one; OPEN and FSM-order cases run on a fresh connection of their own.

Counted throughout: SUT process exits (the harness restarts it), tracebacks in its
stderr, bystander session drops (NOTIFICATION or close), wrong outcomes (each with a
reproducer), and the SUT's resident memory over time.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import struct
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from fuzz.tcp import wire as w
from fuzz.tcp.cases import Case, Generator, Profile, sentinel_prefix
from fuzz.tcp.conn import Conn, establish, first
from fuzz.tcp.judge import judge_down, judge_up
from fuzz.tcp.options import (
    BYSTANDER_AS,
    CONNECT_TIMEOUT,
    ROUND_TIMEOUT,
    SUT_AS,
    Options,
)
from fuzz.tcp.oracle import Context, Nlri, Phase
from fuzz.tcp.report import Stats, write_json
from fuzz.tcp.sut import Sut, free_port

# -- the bystander ---------------------------------------------------------------------------


class Bystander:
    """A second configured peer that keeps exchanging routes and watches the SUT's exports."""

    def __init__(self, harness: Harness) -> None:
        self.h = harness
        self.conn: Conn | None = None
        self.up = asyncio.Event()
        self.stopping = False

    def open_message(self) -> bytes:
        caps = [
            w.cap_mp(w.AFI_IPV4, 1),
            w.cap_mp(w.AFI_IPV6, 1),
            w.capability(w.CAP_RR, b""),
            w.cap_as4(BYSTANDER_AS),
        ]
        if self.h.opts.bystander_extended:
            caps.append(w.capability(w.CAP_EXT_MSG, b""))
        body = w.open_body(BYSTANDER_AS, 30, bytes((10, 0, 0, 200)), w.cap_param(caps))
        return w.frame(w.OPEN, body)

    async def run(self) -> None:
        while not self.stopping:
            conn = await self.h.connect("bystander")
            if not await establish(conn, self.open_message()):
                await conn.close(cease=False)
                await asyncio.sleep(0.1)
                continue
            conn.on_update = self._on_update
            self.conn = conn
            self.up.set()
            flapper = asyncio.create_task(self._flap(conn), name="bystander-flap")
            await conn.closed.wait()
            flapper.cancel()
            self.up.clear()
            self.conn = None
            if not self.stopping:
                self.h.stats.bystander_drops += 1
                detail = f"{time.strftime('%H:%M:%S')} {conn.outcome()} {conn.bad_frame or ''}"
                self.h.stats.bystander_drop_details.append(detail.strip())
                await self.h.sut_alive()

    async def _flap(self, conn: Conn) -> None:
        """Announce and withdraw our own routes continuously (and so keep the hold timer)."""
        attrs = (
            w.attribute(0x40, w.ORIGIN, b"\0")
            + w.attribute(0x40, w.AS_PATH, bytes((2, 1)) + struct.pack("!I", BYSTANDER_AS))
            + w.attribute(0x40, w.NEXT_HOP, bytes((192, 0, 2, 200)))
        )
        k = 0
        while True:
            prefix = w.prefix_bytes((w.AFI_IPV4, 24, bytes((10, 200, k % 16))))
            if k // 16 % 2 == 0:
                conn.send(w.frame(w.UPDATE, w.update_body(b"", attrs, prefix)))
            else:
                conn.send(w.frame(w.UPDATE, w.update_body(prefix, b"", b"")))
            self.h.stats.bystander_updates += 1
            k += 1
            await asyncio.sleep(0.2)

    def _on_update(self, body: bytes) -> None:
        self.h.stats.bystander_received += 1
        received = w.decode_update(body)
        for prefix, attrs in received.announced.items():
            worker = self.h.owner(prefix)
            if worker is not None:
                worker.on_announce(prefix, attrs)
        for prefix in received.withdrawn:
            worker = self.h.owner(prefix)
            if worker is not None:
                worker.on_withdraw(prefix)


# -- a fuzzing worker ------------------------------------------------------------------------


@dataclass
class Round:
    number: int
    cases: list[Case]


class Worker:
    """One fuzzing neighbour: its session, its rounds, its judgements."""

    def __init__(self, harness: Harness, k: int, profile: Profile, count: int) -> None:
        self.h = harness
        self.k = k
        self.name = f"fuzz{k}"
        self.profile = profile
        self.ctx = profile.ctx
        self.count = count
        self.gen = Generator(harness.opts.seed, k, profile)
        self.conn: Conn | None = None
        self.seen: dict[w.Prefix, dict[int, tuple[int, bytes]]] = {}
        self.sentinel = sentinel_prefix(k)
        self.tag = -1
        self.tag_event = asyncio.Event()
        self.round = 0
        self.pending: Round | None = None
        self.cleanup: list[Nlri] = []
        self.done = 0
        self.replay: list[Case] = []
        self.attempts: Counter[int] = Counter()

    # bystander callbacks
    def on_announce(self, prefix: w.Prefix, attrs: dict[int, tuple[int, bytes]]) -> None:
        if prefix == self.sentinel:
            value = attrs.get(w.COMMUNITIES, (0, b""))[1]
            if len(value) >= 4:
                self.tag = struct.unpack_from("!I", value, 0)[0]
                self.tag_event.set()
        else:
            self.seen[prefix] = attrs

    def on_withdraw(self, prefix: w.Prefix) -> None:
        # The judgement reads the final state; a withdrawal of an earlier use of the
        # region always precedes the round's own messages in the stream (module doc).
        self.seen.pop(prefix, None)

    # sessions
    async def _session(self) -> Conn:
        attempts = 0
        while self.conn is None or self.conn.closed.is_set():
            attempts += 1
            if attempts > 200:
                raise RuntimeError(f"{self.name}: no session with the speaker after 200 attempts")
            if self.conn is not None:
                await self._drop_session(cease=False)
            conn = await self.h.connect(self.name)
            if await establish(conn, self.profile.open_message()):
                self.conn = conn
                self.h.stats.reconnects += 1
                self.cleanup = []
                self.pending = None
                if await self._barrier([]) is None:  # the hello round: the sentinel exists
                    continue
            else:
                await conn.close(cease=False)
                await asyncio.sleep(0.05)
        return self.conn

    async def _drop_session(self, cease: bool = True) -> None:
        """Close the session; cases of a round not judged yet are run again alone."""
        if self.conn is not None:
            await self.conn.close(cease=cease)
            self.conn = None
        if self.pending is not None:
            self.replay.extend(self.pending.cases)
            self.pending = None
        self.cleanup = []

    def _sentinel_update(self, tag: int) -> bytes:
        size = 4 if self.ctx.four_octet else 2
        asn = self.profile.asn if size == 4 or self.profile.asn <= 0xFFFF else w.AS_TRANS
        path = bytes((2, 1)) + struct.pack("!I" if size == 4 else "!H", asn)
        attrs = (
            w.attribute(0x40, w.ORIGIN, b"\0")
            + w.attribute(0x40, w.AS_PATH, path)
            + w.attribute(0x40, w.NEXT_HOP, bytes((192, 0, 2, 100 + self.k)))
            + w.attribute(0xC0, w.COMMUNITIES, struct.pack("!I", tag))
        )
        path_id = 1 if (w.AFI_IPV4, 1) in self.ctx.add_path_rx else None
        return w.frame(w.UPDATE, w.update_body(b"", attrs, w.prefix_bytes(self.sentinel, path_id)))

    def _preannounce(self, case: Case) -> bytes:
        """For a share of the cases, a valid UPDATE of the same routes (same path
        identifiers) just before the case: treat-as-withdraw must then remove them
        (RFC 7606 §2), which a speaker that merely ignored the case would not do."""
        nlri = (*case.expect.field_nlri, *case.expect.mp_nlri)
        if not nlri:
            return b""
        draw = random.Random(f"pre/{self.h.opts.seed}/{self.k}/{case.index}").random()
        if draw >= self.h.opts.preannounce:
            return b""
        size = 4 if self.ctx.four_octet else 2
        asn = self.profile.asn if size == 4 or self.profile.asn <= 0xFFFF else w.AS_TRANS
        path = bytes((2, 1)) + struct.pack("!I" if size == 4 else "!H", asn)
        base = w.attribute(0x40, w.ORIGIN, b"\0") + w.attribute(0x40, w.AS_PATH, path)
        v4 = b"".join(w.prefix_bytes(p, pid) for p, pid in nlri if p[0] == w.AFI_IPV4)
        v6 = b"".join(w.prefix_bytes(p, pid) for p, pid in nlri if p[0] == w.AFI_IPV6)
        out = b""
        if v4:
            attrs = base + w.attribute(0x40, w.NEXT_HOP, bytes((192, 0, 2, 50)))
            out += w.frame(w.UPDATE, w.update_body(b"", attrs, v4))
        if v6:
            next_hop = b"\x20\x01\x0d\xb8" + bytes(11) + b"\x32"
            mp = w.attribute(0x80, w.MP_REACH, w.mp_reach(w.AFI_IPV6, 1, next_hop, v6))
            out += w.frame(w.UPDATE, w.update_body(b"", mp + base, b""))
        self.h.stats.preannounced += 1
        return out

    def _cleanup_updates(self) -> bytes:
        out = b""
        v4 = [n for n in self.cleanup if n[0][0] == w.AFI_IPV4]
        v6 = [n for n in self.cleanup if n[0][0] == w.AFI_IPV6]
        for i in range(0, len(v4), 200):
            data = b"".join(w.prefix_bytes(p, pid) for p, pid in v4[i : i + 200])
            out += w.frame(w.UPDATE, w.update_body(data, b"", b""))
        for i in range(0, len(v6), 100):
            data = b"".join(w.prefix_bytes(p, pid) for p, pid in v6[i : i + 100])
            attr = w.attribute(0x80, w.MP_UNREACH, w.mp_unreach(w.AFI_IPV6, 1, data))
            out += w.frame(w.UPDATE, w.update_body(b"", attr, b""))
        self.cleanup = []
        return out

    async def _barrier(self, cases: list[Case]) -> str | None:
        """Send one round; None once its sentinel is seen, else the connection's outcome."""
        conn = self.conn
        assert conn is not None
        self.round += 1
        number = self.round
        for case in cases:  # fresh prefixes: forget what an earlier use of the region showed
            for nlri, _ in (*case.expect.field_nlri, *case.expect.mp_nlri):
                self.seen.pop(nlri, None)
        conn.send(
            self._cleanup_updates()
            + b"".join(self._preannounce(c) + c.data for c in cases)
            + self._sentinel_update(number)
        )
        deadline = time.monotonic() + ROUND_TIMEOUT
        while self.tag != number:
            self.tag_event.clear()
            await first(max(0.0, deadline - time.monotonic()), self.tag_event, conn.closed)
            if self.tag == number:
                break
            if conn.closed.is_set():
                return conn.bad_frame or conn.outcome()
            if time.monotonic() >= deadline:
                self.h.stats.hangs += 1
                return "hang"
        previous, self.pending = self.pending, Round(number, cases)
        if previous is not None:
            self._judge_round(previous)
        return None

    def _judge_round(self, rnd: Round) -> None:
        for case in rnd.cases:
            outcome, problem = judge_up(case.expect, self.seen)
            if problem is not None and self._unobservable(case):
                outcome, problem = "up:unobservable", None
            self.h.stats.record(case, outcome, problem)
            self.cleanup.extend((*case.expect.field_nlri, *case.expect.mp_nlri))
        self.done += len(rnd.cases)

    def _unobservable(self, case: Case) -> bool:
        """A route the SUT may not pass to a bystander without Extended Message: its
        UPDATE would exceed 4,096 octets (RFC 8654 §4), so the bystander cannot see it.
        From a 2-octet session the AS path doubles in size toward the 4-octet bystander."""
        limit = w.MAX_LEN - 200 if self.ctx.four_octet else (w.MAX_LEN - 200) // 2
        return not self.h.opts.bystander_extended and len(case.data) > limit

    async def _flush(self, batch: list[Case]) -> None:
        if not batch:
            return
        await self._session()
        if await self._barrier(batch) is not None:  # the session went down: each alone
            self.replay.extend(batch)
            await self._drop_session(cease=False)

    async def _finalize(self) -> None:
        """An empty round, so that the pending round is judged."""
        if self.pending is None:
            return
        if self.conn is None or await self._barrier([]) is not None:
            await self._drop_session(cease=False)

    async def _single(self, case: Case) -> None:
        """One case alone on an established session (it may reset the session)."""
        await self._finalize()
        await self._session()
        result = await self._barrier([case])
        if result is None:
            return  # the session stayed up: judged with the next round
        self.h.stats.record(case, result, judge_down(case.expect, result))
        self.done += 1
        await self._drop_session(cease=False)
        await self.h.sut_alive()

    async def _replay(self) -> None:
        while self.replay:
            case = self.replay.pop(0)
            self.attempts[case.index] += 1
            if self.attempts[case.index] > 3:
                self.h.stats.record(case, "lost", "the session kept going down before a judgement")
                self.done += 1
                continue
            await self._single(case)

    async def _connection_case(self, case: Case) -> None:
        """OPEN and FSM-order cases: a fresh connection of their own."""
        await self._finalize()
        await self._drop_session()
        deadline = time.monotonic() + 2 * CONNECT_TIMEOUT
        for attempt in range(201):
            if attempt == 200 or time.monotonic() > deadline:
                self.h.stats.hangs += 1  # a speaker that accepts but never opens is hung
                self.h.stats.record(case, "hang", "the speaker never sent its OPEN")
                self.done += 1
                return
            conn = await self.h.connect(self.name)
            await first(CONNECT_TIMEOUT, conn.got_open, conn.closed)
            if conn.closed.is_set() or not conn.got_open.is_set():
                await conn.close(cease=False)
                await asyncio.sleep(0.02)
                continue
            break
        if case.phase is Phase.OPEN_CONFIRM:
            conn.send(self.profile.open_message())
            await first(CONNECT_TIMEOUT, conn.keepalive, conn.closed)
            conn.keepalive.clear()
        conn.send(case.data)
        if case.phase is Phase.OPEN_SENT and case.data[18:19] == bytes((w.OPEN,)):
            await first(ROUND_TIMEOUT, conn.keepalive, conn.closed)
        else:
            await first(ROUND_TIMEOUT, conn.closed)
        if conn.closed.is_set():
            outcome = conn.bad_frame or conn.outcome()
            problem = judge_down(case.expect, outcome)
        elif conn.keepalive.is_set():
            outcome = "established"
            problem = (
                None if case.expect.opens_session else "session established; expected NOTIFICATION"
            )
        else:
            outcome = "hang"
            self.h.stats.hangs += 1
            problem = "no answer"
        self.h.stats.record(case, outcome, problem)
        self.done += 1
        await conn.close(cease=not conn.closed.is_set())
        await self.h.sut_alive()

    async def run(self) -> None:
        batch: list[Case] = []
        for index in range(self.count):
            try:
                batch = await self._step(index, batch)
            except (OSError, RuntimeError, ValueError, AssertionError, struct.error) as exc:
                # A harness fault must not end a long run: count it, start a new session.
                self.h.stats.harness_errors.append(f"{self.name} case {index}: {exc!r}")
                batch = []
                self.pending = None
                self.replay = []
                await self._drop_session(cease=False)
        await self._flush(batch)
        await self._finalize()
        await self._replay()
        await self._finalize()
        await self._drop_session()

    async def _step(self, index: int, batch: list[Case]) -> list[Case]:
        """Send case ``index`` (or queue it in ``batch``); the batch still to send."""
        await self._replay()
        case = self.gen.case(index)
        if case.phase is not Phase.ESTABLISHED:
            await self._flush(batch)
            batch = []
            await self._connection_case(case)
        elif case.expect.may_reset():
            await self._flush(batch)
            batch = []
            await self._single(case)
        else:
            batch.append(case)
            if len(batch) >= self.h.opts.batch or (index + 1) % 64 == 0:
                await self._flush(batch)
                batch = []
        return batch


# -- the harness -----------------------------------------------------------------------------


class Harness:
    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.stats = Stats()
        opts.workdir.mkdir(parents=True, exist_ok=True)
        for name in ("sut.stderr", "sut.stdout"):
            (opts.workdir / name).unlink(missing_ok=True)
        if not opts.port:
            opts.port = free_port()
        octet = opts.host_octet or 100 + opts.port % 120
        base = f"127.{octet}.{opts.port % 250}"
        self.addresses = {"sut": f"{base}.1", "bystander": f"{base}.2"}
        self.profiles = [profile(k) for k in range(opts.workers)]
        for k in range(opts.workers):
            self.addresses[f"fuzz{k}"] = f"{base}.{10 + k}"
        share = [
            opts.cases // opts.workers + (1 if k < opts.cases % opts.workers else 0)
            for k in range(opts.workers)
        ]
        self.workers = [Worker(self, k, p, share[k]) for k, p in enumerate(self.profiles)]
        self.sut = Sut(opts, self.addresses, self.profiles)
        self.bystander = Bystander(self)
        self._alive = asyncio.Event()

    def owner(self, prefix: w.Prefix) -> Worker | None:
        afi, _, octets = prefix
        k = (
            octets[1]
            if afi == w.AFI_IPV4
            else (octets[4] << 8 | octets[5])
            if len(octets) >= 6
            else -1
        ) - 16
        if afi == w.AFI_IPV4 and octets[:1] != b"\x0a":
            return None
        if afi == w.AFI_IPV6 and octets[:4] != b"\x20\x01\x0d\xb8":
            return None
        return self.workers[k] if 0 <= k < len(self.workers) else None

    async def connect(self, name: str) -> Conn:
        deadline = time.monotonic() + 120
        while True:
            await self.sut_alive()
            try:
                return await Conn.connect(
                    self.addresses["sut"], self.opts.port, self.addresses[name]
                )
            except OSError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.05)

    async def sut_alive(self) -> None:
        await self._alive.wait()

    async def _watch_sut(self) -> None:
        while not self.sut.stopping:
            assert self.sut.process is not None
            code = await self.sut.process.wait()
            if self.sut.stopping:
                return
            self._alive.clear()
            self.stats.deaths += 1
            self.stats.death_details.append(f"exit {code}:\n{self.sut.stderr_tail()}")
            self._say(f"the speaker exited with {code}; restarting it")
            await self.sut.start()
            self._alive.set()

    async def _sample(self) -> None:
        start = time.monotonic()
        last = 0.0
        while True:
            now = time.monotonic()
            rss = self.sut.rss_kb()
            if rss is not None:
                self.stats.rss.append((round(now - start, 1), rss))
            if self.opts.json_path is not None and int(now - start) % 60 == 59:
                write_json(self.report(now - start), self.opts.json_path)
            if self.opts.progress and now - last >= self.opts.progress:
                last = now
                done = sum(k.done for k in self.workers)
                rate = done / max(now - start, 1e-9)
                self._say(
                    f"{done}/{self.opts.cases} cases, {rate:.0f}/s, wrong {self.stats.wrong}, "
                    f"deaths {self.stats.deaths}, bystander drops {self.stats.bystander_drops}, "
                    f"rss {rss} kB"
                )
            await asyncio.sleep(1.0)

    def _say(self, text: str) -> None:
        if not self.opts.quiet:
            print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    async def run(self) -> dict[str, Any]:
        started = time.monotonic()
        await self.sut.start()
        self._alive.set()
        watcher = asyncio.create_task(self._watch_sut(), name="sut-watch")
        sampler = asyncio.create_task(self._sample(), name="sut-rss")
        bystander = asyncio.create_task(self.bystander.run(), name="bystander")
        try:
            await asyncio.wait_for(self.bystander.up.wait(), CONNECT_TIMEOUT)
            await asyncio.gather(*(k.run() for k in self.workers))
            await asyncio.sleep(0.5)  # a bystander drop caused by the last cases shows now
        finally:
            self.bystander.stopping = True
            self.sut.stopping = True
            for task in (sampler, bystander):
                task.cancel()
            if self.bystander.conn is not None:
                await self.bystander.conn.close()
            await self.sut.stop()
            # The watcher may be restarting the speaker right now: let it finish (never
            # cancel it inside the spawn, which would orphan the process), then stop the
            # speaker it started.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(watcher, 60)
            await self.sut.stop()
        self.stats.tracebacks = self.sut.tracebacks()
        return self.report(time.monotonic() - started)

    def report(self, duration: float) -> dict[str, Any]:
        s = self.stats
        rss = [kb for _, kb in s.rss]
        warm = rss[min(len(rss) - 1, 5)] if rss else None
        step = max(1, len(s.rss) // 200)
        return {
            "command": self.opts.command,
            "seed": self.opts.seed,
            "cases": s.cases,
            "workers": [p.name for p in self.profiles],
            "duration_s": round(duration, 1),
            "rate_per_s": round(s.cases / duration, 1) if duration else 0,
            "per_kind": dict(sorted(s.per_kind.items())),
            "outcomes": dict(sorted(s.outcomes.items())),
            "by_kind_outcome": {f"{k} {o}": n for (k, o), n in sorted(s.by_kind_outcome.items())},
            "wrong_outcomes": s.wrong,
            "wrong_by_rule": dict(s.wrong_by_rule.most_common()),
            "wrong_examples": s.wrong_examples,
            "process_deaths": s.deaths,
            "death_details": s.death_details,
            "tracebacks": s.tracebacks,
            "bystander_drops": s.bystander_drops,
            "bystander_drop_details": s.bystander_drop_details[:20],
            "bystander_updates_sent": s.bystander_updates,
            "bystander_updates_received": s.bystander_received,
            "session_establishments": s.reconnects,
            "hangs": s.hangs,
            "preannounced_cases": s.preannounced,
            "harness_errors": len(s.harness_errors),
            "harness_error_details": s.harness_errors[:20],
            "rss_kb": {
                "start": warm,
                "end": rss[-1] if rss else None,
                "max": max(rss) if rss else None,
                "samples": [list(x) for x in s.rss[::step]],
            },
            "sut_stderr": str(self.sut.stderr_path),
        }


def profile(k: int) -> Profile:
    """Even workers negotiate everything (4-octet AS, ADD-PATH, extended messages), odd
    ones nothing optional (2-octet AS_PATH with AS4_PATH, no ADD-PATH, 4,096 octets)."""
    families = frozenset({(w.AFI_IPV4, 1), (w.AFI_IPV6, 1)})
    bgp_id = bytes((10, 0, 1, 10 + k))
    if k % 2 == 0:
        asn = 4200000100 + k
        ctx = Context(asn, SUT_AS, True, True, families, families, True, True)
        return Profile(f"full{k}", asn, bgp_id, ctx)
    asn = 65100 + k
    return Profile(
        f"legacy{k}", asn, bgp_id, Context(asn, SUT_AS, False, False, frozenset(), families)
    )


async def run(opts: Options) -> dict[str, Any]:
    return await Harness(opts).run()


__all__ = ["Harness", "profile", "run"]
