"""``bgpemu solve`` on two cores: the fabric's convergence in two processes.

The fabric runs on one core until it may be split (:meth:`Fabric.run_to_split
<bgpemu.fabric.fabric.Fabric.run_to_split>`), then forks: each process runs its share
of the nodes (:mod:`bgpemu.fabric.shard`: the one-process order, exactly), the two
exchanging a summary and a round's new events through a pipe between two virtual
times.  Once idle, this process writes the report; the other serves what it needs of
its nodes (:class:`Elsewhere`): a node's Loc-RIB text, an Azure snapshot, the internal
errors of its sessions.  When the run cannot go on in two (a session between the
shares reset, the time limit; :class:`~bgpemu.fabric.shard.SplitRunError`), or the
other process fails, :func:`converge_split` returns None and the caller converges on
one core from the start: the result is the same either way.

Nothing is shared but the pipe: the forked process never writes to standard output
(it ends with ``os._exit``, whatever happens, so it never flushes the buffers it
inherited) and never returns into its caller.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from multiprocessing.connection import Connection, Pipe
from typing import Any, cast

from bgpemu.azure.converge import Split
from bgpemu.azure.model import Network
from bgpemu.azure.plan import Plan
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.cli._json_stream import EncodedArray, EncodedValue, item_encoder, member_chunks
from bgpemu.cli._split_views import LocalViews
from bgpemu.errors import BgpEmuError
from bgpemu.fabric import Fabric
from bgpemu.fabric.shard import LogKey, Shard, SplitRunError
from bgpemu.rib.loc_rib import LocRib
from bgpemu.router.table import EntryTexts, loc_rib_text

__all__ = ["Elsewhere", "SplitProcessError", "converge_split", "internal_errors", "loc_rib_array"]


class SplitProcessError(BgpEmuError):
    """The other process of a split run failed or ended (a bug in bgpemu): its last
    words, or what this process saw of it."""


def _failed(tag: object, answer: object) -> SplitProcessError:
    return SplitProcessError(str(answer) if tag == "failed" else f"unexpected answer {tag!r}")


def _exchange(conn: Connection, message: object, *, first: bool) -> object:
    """Send ``message`` and receive the other side's (the parent sends first)."""
    if first:
        conn.send(("ok", message))
        tag, theirs = conn.recv()
    else:
        tag, theirs = conn.recv()
        conn.send(("ok", message))
    if tag != "ok":
        raise _failed(tag, theirs)
    return theirs


def _run_share(shard: Shard, conn: Connection, limit: float, *, first: bool) -> None:
    rounds = shard.rounds(limit)
    message = next(rounds)
    while True:
        theirs = _exchange(conn, message, first=first)
        try:
            message = rounds.send(theirs)
        except StopIteration:
            return


class Elsewhere:
    """The nodes the other process converged, read through the pipe."""

    def __init__(self, names: frozenset[str], conn: Connection, pid: int) -> None:
        self.names = names
        self._conn = conn
        self._pid = pid
        self._writing = False
        """A :meth:`write_members` whose answer is still to be read."""
        self._errors: dict[str, dict[str, int]] = {}
        self.views_done: frozenset[tuple[str, str]] = frozenset()
        """The Azure views (category, key) computed there (:meth:`make_views`), as
        known at the last :meth:`write_members`; :meth:`write_views` writes them."""

    def snapshot(self, name: str) -> RouterSnapshot:
        """Node ``name``'s snapshot (:func:`bgpemu.azure.snapshot.snapshot`), as the
        views read it (the plan's ``views_without_adj_rib_out`` leave out the
        Adj-RIBs-Out)."""
        return cast(RouterSnapshot, pickle.loads(cast(bytes, self._ask("snapshot", name))))

    def take_snapshots(self, names: Iterable[str]) -> None:
        """Have the snapshots of ``names`` taken there now, each until the next
        question, while this process writes something else (:meth:`snapshot` then
        answers at once)."""
        self._send(("take", sorted(names)))

    def make_views(self, now: float, level: int) -> None:
        """Have the Azure views at ``now`` that read only its nodes' snapshots made there
        now, in the report's order, each encoded as a member of an object at depth
        ``level`` (:func:`~bgpemu.cli._json_stream.encoded_value`), until the next
        question (:meth:`write_members` tells which, :attr:`views_done`)."""
        self._send(("make", (now, level)))

    def write_views(self, keys: list[tuple[str, str]], level: int, first: bool) -> int:
        """Have the other process write the views ``keys`` (consecutive members of one
        category's object at depth ``level``, not made here) straight to standard
        output, as :meth:`write_members` does the Loc-RIBs: those it made, and those it
        had not got to yet, up to the first that reads a node of this process (none
        after it).  How many it wrote."""
        return self._handoff(("views", (keys, level, first)))

    def internal_errors(self) -> dict[str, dict[str, int]]:
        """:func:`internal_errors` of its nodes (read with the event log when the run
        ended: no question then, which would wait for the snapshots being taken there)."""
        return self._errors

    def ended(self, logged: int) -> list[tuple[LogKey, tuple[float, str, str]]]:
        """At the end of the run: its entries of the event log from index ``logged``
        (:meth:`Shard.log_entries <bgpemu.fabric.shard.Shard.log_entries>`), and its
        internal-error counts kept for :meth:`internal_errors`."""
        log, self._errors = cast(
            "tuple[list[tuple[LogKey, tuple[float, str, str]]], dict[str, dict[str, int]]]",
            self._ask("ended", logged),
        )
        return log

    def loc_rib_array(self, name: str) -> EncodedArray:
        """Node ``name``'s Loc-RIB as :func:`loc_rib_array` gives it, encoded there and
        passed through the pipe (pieces as they come)."""
        return EncodedArray(partial(self._loc_rib_text, name))

    def _loc_rib_text(
        self, name: str, encode: Callable[[Any], str], separator: str
    ) -> Iterator[str]:
        """The pieces as they come: ``+`` and a piece's text, then ``.`` at the end (any
        other message is the other process's failure)."""
        self._written()
        self._send(("text", (name, separator)))
        while True:
            try:
                message = self._conn.recv_bytes()
            except (EOFError, OSError) as exc:
                raise SplitProcessError(f"it ended ({type(exc).__name__})") from None
            if message[:1] == b"+":
                yield message[1:].decode("ascii")
            elif message == b".":
                return
            else:
                raise _failed(*pickle.loads(message))

    def write_members(
        self, names: list[str], meanwhile: Callable[[], None], level: int, first: bool
    ) -> int:
        """Have the other process write the Loc-RIBs of ``names`` (consecutive nodes of
        the report's ``nodes``, at depth ``level``) straight to standard output, as
        :func:`~bgpemu.cli._json_stream.member_chunks` writes them (a
        :class:`~bgpemu.cli._json_stream.Handoff`: the caller put out everything before);
        run ``meanwhile`` while it writes, then wait for it.  Before it writes, it tells
        which views it made ahead (:attr:`views_done`): ``meanwhile`` need not make them."""
        self._send(("members", (names, level, first)))
        self.views_done = cast("frozenset[tuple[str, str]]", self._receive())
        return self._handoff(None, meanwhile)

    def _handoff(
        self, request: tuple[str, object] | None, meanwhile: Callable[[], None] = lambda: None
    ) -> int:
        """Send ``request`` (unless sent), run ``meanwhile``, wait for the end of the
        write; how many members were written."""
        if request is not None:
            self._written()
            self._send(request)
        self._writing = True
        meanwhile()
        return self._written()

    def _written(self) -> int:
        """Wait for the end of a :meth:`write_members` (any other question comes after);
        how many members it wrote."""
        if not self._writing:
            return 0
        self._writing = False
        return cast(int, self._receive())

    def table(self, name: str) -> list[dict[str, Any]]:
        """Node ``name``'s ``Router.table()``."""
        return cast("list[dict[str, Any]]", self._ask("table", name))

    def close(self) -> None:
        """End the other process and wait for it."""
        with contextlib.suppress(SplitProcessError):
            self._written()
        with contextlib.suppress(OSError):
            self._conn.send(("exit", None))
        self._conn.close()
        os.waitpid(self._pid, 0)

    def _ask(self, what: str, arg: object) -> object:
        self._written()
        self._send((what, arg))
        return self._receive()

    def _send(self, message: tuple[str, object]) -> None:
        try:
            self._conn.send(message)
        except OSError as exc:
            raise SplitProcessError(f"it no longer reads its pipe ({exc})") from None

    def _receive(self) -> object:
        """The other process's next answer (``("ok", answer)``); SplitProcessError with
        its last words when it failed, or when it ended."""
        try:
            tag, answer = self._conn.recv()
        except (EOFError, OSError) as exc:
            raise SplitProcessError(f"it ended ({type(exc).__name__})") from None
        if tag != "ok":
            raise _failed(tag, answer)
        return answer


def converge_split(fabric: Fabric, max_time: float, network: Network, plan: Plan) -> Split | None:
    """Converge ``fabric`` (``network`` compiled as ``plan``) in two processes (see the
    module docstring); None when it must be done again on one core.  The
    :class:`Split`'s ``elsewhere`` must be closed."""
    start = fabric.now
    limit = start + max_time
    mine, theirs = fabric.halves()
    if not theirs or not fabric.run_to_split(mine, max_time):
        return Split(elapsed=fabric.now - start, elsewhere=None)
    ours, other = Pipe(duplex=True)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the forked process (its coverage is not collected)
        ours.close()
        _child(fabric, theirs, other, limit, LocalViews(network, plan, mine))
    other.close()
    logged = len(fabric.events)
    shard = fabric.split(mine)
    elsewhere = Elsewhere(theirs, ours, pid)
    try:
        _run_share(shard, ours, limit, first=True)
        their_log = elsewhere.ended(logged)
    except SplitRunError:
        elsewhere.close()
        return None
    except (SplitProcessError, EOFError, OSError) as exc:
        elsewhere.close()
        print(
            f"warning: the second process of the split run failed ({exc}); converging on one core",
            file=sys.stderr,
        )
        return None
    merged = sorted(shard.log_entries(logged) + their_log)
    fabric.events[logged:] = [entry for _, entry in merged]
    return Split(elapsed=fabric.now - start, elsewhere=elsewhere)


def _child(
    fabric: Fabric, names: frozenset[str], conn: Connection, limit: float, views: LocalViews
) -> None:
    """The forked process: run the share ``names``, then serve until told to exit."""
    code = 0
    try:
        logged = len(fabric.events)
        shard = fabric.split(names)
        try:
            _run_share(shard, conn, limit, first=False)
        except SplitRunError:
            return
        _serve(fabric, shard, conn, logged, views)
    except (EOFError, OSError, KeyboardInterrupt):
        code = 1
    except BaseException:  # a bug: the parent converges on one core and says so
        code = 1
        with contextlib.suppress(OSError):
            conn.send(("failed", traceback.format_exc(limit=-3)))
    finally:
        os._exit(code)


def _serve(fabric: Fabric, shard: Shard, conn: Connection, logged: int, views: LocalViews) -> None:
    texts = EntryTexts()
    snaps = views.snapshots(fabric)
    prepared: dict[str, bytes] = {}
    made: dict[tuple[str, str], EncodedValue | None] = {}
    """The views computed (:meth:`LocalViews.made`), until written."""
    pending: Iterator[tuple[tuple[str, str], EncodedValue | None]] = iter(())

    def snapshotted(name: str) -> bytes:
        return pickle.dumps(snaps[name], 5)

    def view_members(keys: list[tuple[str, str]]) -> Iterator[tuple[str, EncodedValue]]:
        for wanted in keys:  # up to the first that reads a node of the parent
            if wanted not in made:  # not got to yet: made now
                for key, text in pending:
                    made[key] = text
                    if key == wanted:
                        break
            text = made.pop(wanted, None)
            if text is None:
                return
            yield wanted[1], text

    answers: dict[str, Callable[[Any], object]] = {
        "ended": lambda start: (shard.log_entries(start), internal_errors(fabric, shard.mine)),
        "table": lambda name: fabric.router(name).table(),
    }
    while True:
        what, arg = conn.recv()
        if what == "exit":
            return
        if what == "take":
            for name in arg:
                if conn.poll():
                    break
                prepared[name] = snapshotted(name)
            continue
        if what == "make":
            now, level = arg
            pending = (
                ((category, key), text)
                for category, members in views.made(snaps, now, level)
                for key, text in members
            )
            for key, text in pending:
                made[key] = text
                if conn.poll():
                    break
            continue
        if what == "snapshot":
            taken = prepared.pop(arg, None)
            conn.send(("ok", taken if taken is not None else snapshotted(arg)))
            continue
        if what == "members":
            names, level, first = arg
            conn.send(("ok", frozenset(key for key, text in made.items() if text is not None)))
            loc_ribs = ((name, loc_rib_array(fabric.router(name).loc_rib, texts)) for name in names)
            conn.send(("ok", _write(loc_ribs, level, first)))
            continue
        if what == "views":
            keys, level, first = arg
            conn.send(("ok", _write(view_members(keys), level, first)))
            continue
        if what == "text":
            name, separator = arg
            array = loc_rib_array(fabric.router(name).loc_rib, texts)
            for piece in array.items(item_encoder(separator), separator):
                conn.send_bytes(b"+" + piece.encode("ascii"))
            conn.send_bytes(b".")
            continue
        conn.send(("ok", answers[what](arg)))


def _write(members: Iterable[tuple[str, Any]], level: int, first: bool) -> int:
    """``members`` of an object at depth ``level`` (Loc-RIBs of the report's ``nodes``,
    views of a category), straight to standard output as :func:`~bgpemu.cli._json_stream.
    member_chunks` writes them: file descriptor 1, shared with the parent, which put out
    everything before and waits meanwhile.  How many were written."""
    count = 0
    with open(1, "wb", buffering=1 << 20, closefd=False) as out:
        for key, value in members:
            for piece in member_chunks(key, value, level, first and count == 0):
                out.write(cast(str, piece).encode("ascii"))
            count += 1
    return count


def loc_rib_array(loc_rib: LocRib, texts: EntryTexts) -> EncodedArray:
    """A node's Loc-RIB as the report's array: the text of ``Router.table()``
    (:func:`~bgpemu.router.table.loc_rib_text`, each group of entries encoded once per
    report through ``texts``), in either process of a split run."""
    return EncodedArray(partial(_loc_rib_text, loc_rib, texts))


def _loc_rib_text(
    loc_rib: LocRib, texts: EntryTexts, encode: Callable[[Any], str], separator: str
) -> Iterator[str]:
    return loc_rib_text(loc_rib.stored_entries(), encode, separator, texts)


def internal_errors(fabric: Fabric, names: Iterable[str]) -> dict[str, dict[str, int]]:
    """node -> neighbour -> internal errors counted, for the sessions of ``names`` that
    had any (architecture decision 12: each reset its session)."""
    counts: dict[str, dict[str, int]] = {}
    for name in sorted(names):
        for neighbor, session in fabric.sessions(name).items():
            if session.counters.internal_errors:
                counts.setdefault(name, {})[neighbor] = session.counters.internal_errors
    return counts
