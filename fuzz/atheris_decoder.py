"""Coverage-guided fuzzing of the framer and the decoder (atheris; issue 12 item 2).

Every input is one fuzzed TCP stream and the negotiated state it is read with.  The
first octet picks the :class:`~bgpemu.wire.CodecContext` (4-octet AS or not, ADD-PATH
receive for IPv4 / IPv6 unicast, Extended Message, external peer) and how the rest is
fed:

- *stream*: the rest goes through a :class:`~bgpemu.wire.Framer` in two pieces (the
  second octet says where to cut), and every whole message to ``Codec.decode``;
- *UPDATE* / *OPEN* / *NOTIFICATION* / *ROUTE-REFRESH*: the rest is one message body,
  given a valid header, so most inputs reach the body decoders.

The documented outcome of ``Framer.feed`` and ``Codec.decode`` is a message or a
:class:`~bgpemu.errors.MessageError` (RFC 4271 §6 / RFC 7606).  A finding is any other
exception, a MessageError that ``Codec.decode``'s safety net made out of another
exception (a decoder bug the session survives), a MessageError whose code is not one of
RFC 4271 §4.5's (or not 1 or 3 for an UPDATE), a hang (libFuzzer ``-timeout``), or a
decoded UPDATE that breaks the decoder's promises: after treat-as-withdraw no route is
announced and no attribute is left (RFC 7606 §2), the whole message is kept iff there
are issues (RFC 7606 §6), every prefix is canonical, and path identifiers come one per
prefix (RFC 7911 §3).

Run (atheris is not a test dependency: ``.venv/bin/pip install atheris==3.0.0``)::

    mkdir -p /tmp/fuzz-decoder
    .venv/bin/python fuzz/atheris_decoder.py --seeds /tmp/fuzz-decoder
    nice .venv/bin/python fuzz/atheris_decoder.py -timeout=10 -rss_limit_mb=2048 \\
        -max_total_time=660 -print_final_stats=1 /tmp/fuzz-decoder

``--seeds DIR`` writes the golden wire vectors of ``tests/data/wire`` and the frames of
the RFC 7606 table (``tests/unit/wire/test_rfc7606.py``) as a starting corpus.  A
finding is written as ``crash-*`` / ``timeout-*`` in the current directory; replay one
with ``.venv/bin/python fuzz/atheris_decoder.py FILE``.  ``--replay PATH...`` runs
inputs once without atheris, e.g. under ``coverage run`` (``fuzz/README.md``).
"""

from __future__ import annotations

import ipaddress
import struct
import sys
from pathlib import Path

from bgpemu.errors import MessageError
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST, Family
from bgpemu.wire import Codec, CodecContext, Framer, PathAttributes, Update, UpdateIssueAction

__all__ = ["CONTEXTS", "MODES", "one_input", "replay", "seed_inputs"]

_V4 = frozenset({IPV4_UNICAST})
_BOTH = frozenset({IPV4_UNICAST, IPV6_UNICAST})
CONTEXTS: tuple[CodecContext, ...] = (
    CodecContext(),
    CodecContext(four_octet_as=False),
    CodecContext(add_path_receive=_V4),
    CodecContext(add_path_receive=_BOTH, extended_message=True),
    CodecContext(extended_message=True, external=True),
    CodecContext(four_octet_as=False, add_path_receive=_BOTH, external=True),
)
"""The negotiated states the inputs are read with (first octet modulo this length)."""

MODES = ("stream", "update", "open", "notification", "route-refresh")
"""How the rest of the input is fed (first octet // len(CONTEXTS), modulo this length)."""
_BODY_TYPE = {"update": 2, "open": 1, "notification": 3, "route-refresh": 5}
_MARKER = b"\xff" * 16
_TAW = UpdateIssueAction.TREAT_AS_WITHDRAW


class FindingError(AssertionError):
    """The decoder broke one of its promises (not a MessageError outcome)."""


def one_input(data: bytes) -> None:
    """Decode ``data`` as the first octet says; raise on anything but a documented outcome."""
    if not data:
        return
    context = CONTEXTS[data[0] % len(CONTEXTS)]
    mode = MODES[(data[0] // len(CONTEXTS)) % len(MODES)]
    rest = data[1:]
    codec = Codec(context)
    if mode == "stream":
        framer = Framer(context.max_message_size)
        cut = rest[0] if rest else 0
        try:
            frames = framer.feed(rest[1 : 1 + cut])
            frames += framer.feed(rest[1 + cut :])
        except MessageError as exc:
            _check_error(exc, None)
            return
    else:
        body = rest[: context.max_message_size - 19]
        frames = [_MARKER + struct.pack("!HB", 19 + len(body), _BODY_TYPE[mode]) + body]
    for frame in frames:
        try:
            message = codec.decode(frame)
        except MessageError as exc:
            _check_error(exc, frame[18])
            return  # the session is reset: nothing after this message is read
        if isinstance(message, Update):
            _check_update(message, frame)


def _check_error(error: MessageError, msg_type: int | None) -> None:
    """A NOTIFICATION the RFCs define: code 1-7 (RFC 4271 §4.5, RFC 7313 §5), one octet of
    subcode, bytes of data; an UPDATE body error is an UPDATE Message Error (code 3)."""
    if not 1 <= error.code <= 7 or not 0 <= error.subcode <= 255:
        raise FindingError(f"NOTIFICATION {error.code}/{error.subcode}: {error.reason}")
    if not isinstance(error.data, bytes):
        raise FindingError(f"NOTIFICATION data of type {type(error.data).__name__}")
    if error.__cause__ is not None:
        # Codec.decode's safety net: an exception of the decoder itself (a bug) turned
        # into the message type's generic error so the session survives it.
        raise FindingError(f"the decoder raised {error.__cause__!r}") from error
    if msg_type == 2 and error.code not in (1, 3):  # 1/2: an UPDATE shorter than 23
        raise FindingError(f"UPDATE answered with {error.code}/{error.subcode}")


def _check_update(update: Update, frame: bytes) -> None:
    """The promises of :class:`~bgpemu.wire.Update` and RFC 7606 §2, §6."""
    withdraw = any(issue.action == _TAW for issue in update.issues)
    if withdraw and (update.nlri or update.mp_reach is not None):
        raise FindingError("treat-as-withdraw left routes announced")
    if withdraw and update.attributes != PathAttributes():
        raise FindingError("treat-as-withdraw left attributes")
    if update.raw != (frame if update.issues else b""):
        raise FindingError("the malformed UPDATE is not kept whole (or a clean one is)")
    _check_prefixes(update.withdrawn, update.withdrawn_path_ids, IPV4_UNICAST)
    _check_prefixes(update.nlri, update.nlri_path_ids, IPV4_UNICAST)
    if update.mp_reach is not None:
        reach = update.mp_reach
        _check_prefixes(reach.nlri, reach.path_ids, reach.family)
    if update.mp_unreach is not None:
        unreach = update.mp_unreach
        _check_prefixes(unreach.withdrawn, unreach.path_ids, unreach.family)


def _check_prefixes(prefixes: tuple[str, ...], ids: tuple[int, ...] | None, fam: Family) -> None:
    if ids is not None and len(ids) != len(prefixes):
        raise FindingError(f"{len(ids)} path ids for {len(prefixes)} prefixes")
    version = 6 if fam == IPV6_UNICAST else 4
    for prefix in prefixes:
        net = ipaddress.ip_network(prefix)  # strict: host bits set is a ValueError
        if net.version != version or str(net) != prefix:
            raise FindingError(f"prefix {prefix!r} is not canonical {fam}")


def seed_inputs() -> list[bytes]:
    """Starting inputs: every golden wire vector, and every frame of the RFC 7606 table,
    each in stream mode with every context, and each UPDATE also as a body."""
    root = Path(__file__).resolve().parent.parent
    frames = [
        bytes.fromhex(path.read_text().strip())
        for path in sorted((root / "tests" / "data" / "wire").glob("*/*.hex"))
    ]
    sys.path.insert(0, str(root))
    try:
        from tests.unit.wire.test_rfc7606 import ROWS
    except ImportError:  # pytest not installed: the golden vectors are enough
        pass
    else:
        frames += [row.frame for row in ROWS.values()]
    finally:
        sys.path.remove(str(root))
    count = len(CONTEXTS)
    seeds = [bytes((index,)) + b"\x00" + frame for frame in frames for index in range(count)]
    seeds += [
        bytes((count + index,)) + frame[19:]
        for frame in frames
        if frame[18:19] == b"\x02"
        for index in range(count)
    ]
    return seeds


def replay(paths: list[str]) -> int:
    """Run every input of ``paths`` (files or corpus directories) once, without atheris
    (for ``coverage run``); the number of inputs run."""
    files = [f for p in map(Path, paths) for f in (sorted(p.iterdir()) if p.is_dir() else [p])]
    for file in files:
        one_input(file.read_bytes())
    return len(files)


def main() -> None:
    """``--seeds DIR`` writes the corpus, ``--replay PATH...`` runs inputs once; otherwise
    libFuzzer's command line (``-help=1``)."""
    if len(sys.argv) == 3 and sys.argv[1] == "--seeds":
        out = Path(sys.argv[2])
        out.mkdir(parents=True, exist_ok=True)
        for number, seed in enumerate(seed_inputs()):
            (out / f"seed-{number:04d}").write_bytes(seed)
        return
    if len(sys.argv) > 2 and sys.argv[1] == "--replay":
        print(f"{replay(sys.argv[2:])} inputs, no finding")
        return
    import atheris  # type: ignore[import-untyped]  # here: its test needs no atheris

    atheris.instrument_all()
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
