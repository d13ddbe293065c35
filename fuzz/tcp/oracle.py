"""The expected outcome of one message, written from the RFCs and not from bgpemu.

Given the bytes the harness sends and the session they are sent on, :func:`judge` says
what a conforming speaker may do.  Each rule found in the message is a *finding* with
the set of actions the RFC allows for it (usually one; several where the RFC leaves
latitude: MAY, SHOULD, "AFI/SAFI disable or session reset").  Actions are ordered
(RFC 7606 §2, strongest last)::

    ACCEPT < DISCARD (attribute discard) < WITHDRAW (treat-as-withdraw) < RESET

and RFC 7606 §3 (h) says the strongest applies when errors combine; so the outcomes a
speaker may show are every allowed action at least as strong as the strongest finding's
weakest choice.  A RESET carries the NOTIFICATION (code, subcode) pairs that fit; the
pair ``CLOSE`` means "the connection is closed without a NOTIFICATION" (the answer to a
NOTIFICATION, RFC 4271 §6.4).  Subcode ``ANY`` accepts every subcode of the code.

Rules encoded (each finding carries its citation in ``reasons``):

* header: RFC 4271 §6.1 (marker 1/1, length 1/2, type 1/3), RFC 8654 §4 (the 4,096
  octet limit only lifts for UPDATE, NOTIFICATION and ROUTE-REFRESH when the
  extended-message capability was exchanged), RFC 7313 §5 (ROUTE-REFRESH length 7/1);
* FSM: RFC 4271 §8.2.2 (a message other than OPEN or NOTIFICATION in OpenSent, or an
  OPEN in Established, is an FSM error, code 5; RFC 6608 subcodes accepted);
* OPEN: RFC 4271 §6.2 (version 2/1, peer AS 2/2, BGP Identifier 2/3 with RFC 6286,
  optional parameter 2/4, hold time 2/6, malformed recognized parameter 2/0), RFC 5492
  (unknown capabilities are ignored, 2/7 allowed for a missing one), RFC 6793 §4.1;
* UPDATE: RFC 4271 §6.3 as revised by RFC 7606 §3-§7, RFC 4760 §3-§4 and §7,
  RFC 6793 §6 (AS4_PATH / AS4_AGGREGATOR), RFC 7911 §3 (path identifiers),
  RFC 8092 §6 (LARGE_COMMUNITY), RFC 4271 §9.1.2 (AS loop), §5 (unrecognized
  optional transitive attributes passed on with the Partial bit).
* ROUTE-REFRESH: RFC 2918 §4 (unknown AFI/SAFI ignored), RFC 7313 §5 (unknown subtype
  ignored); KEEPALIVE: RFC 4271 §4.4 (exactly 19 octets); NOTIFICATION: §6.4.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass, field

from fuzz.tcp import wire as w

ANY = -1
CLOSE = (0, 0)

Code = tuple[int, int]
Nlri = tuple[w.Prefix, int | None]
"""One parsed NLRI: the prefix and its ADD-PATH path identifier (None without ADD-PATH)."""


class Action(enum.IntEnum):
    """RFC 7606 §2 approaches, weakest first."""

    ACCEPT = 0
    DISCARD = 1
    WITHDRAW = 2
    RESET = 3


class Phase(enum.Enum):
    """Where in the FSM the case is sent (RFC 4271 §8.2.2)."""

    OPEN_SENT = "open_sent"  # a fresh connection: the speaker waits for our OPEN
    OPEN_CONFIRM = "open_confirm"  # our OPEN was accepted, our KEEPALIVE not yet sent
    ESTABLISHED = "established"


class Scope(enum.Enum):
    """Which routes a finding is about: all of the UPDATE's, or one of its NLRI groups."""

    ALL = "all"
    FIELD = "field"  # the NLRI field (IPv4 unicast)
    MP = "mp"  # MP_REACH_NLRI's NLRI


@dataclass(frozen=True, slots=True)
class Context:
    """What the session negotiated: the parser of an UPDATE depends on it."""

    peer_as: int
    local_as: int
    four_octet: bool
    extended: bool
    add_path_rx: frozenset[tuple[int, int]]
    families: frozenset[tuple[int, int]]
    route_refresh: bool = True
    enhanced_refresh: bool = False


@dataclass(frozen=True, slots=True)
class Finding:
    actions: frozenset[Action]
    reason: str
    codes: frozenset[Code] = frozenset()
    scope: Scope = Scope.ALL
    attr: int | None = None  # the attribute a DISCARD is about


@dataclass
class Expectation:
    """What the speaker may do with one case, and the routes to look for."""

    findings: list[Finding] = field(default_factory=list)
    field_nlri: list[Nlri] = field(default_factory=list)
    mp_nlri: list[Nlri] = field(default_factory=list)
    withdrawn: list[Nlri] = field(default_factory=list)
    parsed: bool = True  # False: the routes could not be located (no install check)
    partial: set[int] = field(default_factory=set)  # unknown transitive: forwarded, Partial
    absent: set[int] = field(default_factory=set)  # must not be forwarded
    opens_session: bool = False  # a valid OPEN: the session is expected to come up

    def add(
        self,
        actions: set[Action] | frozenset[Action],
        reason: str,
        codes: set[Code] | frozenset[Code] = frozenset(),
        scope: Scope = Scope.ALL,
        attr: int | None = None,
    ) -> None:
        self.findings.append(Finding(frozenset(actions), reason, frozenset(codes), scope, attr))

    def possible(self, scope: Scope | None = None) -> set[Action]:
        """Every action the speaker may take (for ``scope``'s routes, or overall)."""
        chosen = [f for f in self.findings if scope is None or f.scope in (Scope.ALL, scope)]
        if not chosen:
            return {Action.ACCEPT}
        floor = max(min(f.actions) for f in chosen)
        return {a for f in chosen for a in f.actions if a >= floor}

    def codes(self) -> set[Code]:
        return {c for f in self.findings if Action.RESET in f.actions for c in f.codes}

    def may_reset(self) -> bool:
        return Action.RESET in self.possible()

    def must_reset(self) -> bool:
        return self.possible() == {Action.RESET}

    def reasons(self) -> list[str]:
        return [f.reason for f in self.findings]

    def code_ok(self, code: Code) -> bool:
        return (
            any(c == code or (c[0] == code[0] and c[1] == ANY) for c in self.codes())
            and self.may_reset()
        )


# -- header (RFC 4271 §6.1) ----------------------------------------------------------------

_MIN = {w.OPEN: 29, w.UPDATE: 23, w.NOTIFICATION: 21, w.KEEPALIVE: 19, w.ROUTE_REFRESH: 23}


def judge(data: bytes, ctx: Context, phase: Phase) -> Expectation:
    """The expectation for ``data`` (one message as framed by the speaker) in ``phase``."""
    exp = Expectation()
    if len(data) < w.HEADER:
        exp.add({Action.RESET}, "harness: short frame", {(1, ANY)})
        exp.parsed = False
        return exp
    marker, (length, kind), body = data[:16], struct.unpack_from("!HB", data, 16), data[19:]
    exp.parsed = kind == w.UPDATE
    if marker != w.MARKER:
        exp.add({Action.RESET}, "RFC 4271 §6.1: marker not all ones", {(1, 1)})
        exp.parsed = False
        return exp
    extended = ctx.extended and phase is Phase.ESTABLISHED
    limit = w.MAX_EXT_LEN if extended and kind not in (w.OPEN, w.KEEPALIVE) else w.MAX_LEN
    if length < w.HEADER or length > limit:
        exp.add({Action.RESET}, f"RFC 4271 §6.1 / RFC 8654 §4: length {length}", {(1, 2)})
        exp.parsed = False
        return exp
    if kind not in _MIN or (kind == w.ROUTE_REFRESH and not ctx.route_refresh):
        exp.add({Action.RESET}, f"RFC 4271 §6.1: message type {kind}", {(1, 3)})
        exp.parsed = False
        return exp
    if kind == w.NOTIFICATION:
        # RFC 4271 §6.4: the connection closes; no NOTIFICATION answers a NOTIFICATION.
        codes = {CLOSE} if length >= _MIN[kind] else {CLOSE, (1, 2)}
        exp.add({Action.RESET}, "RFC 4271 §6.4: NOTIFICATION closes the connection", codes)
        exp.parsed = False
        return exp
    if kind == w.ROUTE_REFRESH and length != 23:
        exp.add({Action.RESET}, "RFC 2918 §3 / RFC 7313 §5: ROUTE-REFRESH length", {(1, 2), (7, 1)})
        return exp
    if length < _MIN[kind] or (kind == w.KEEPALIVE and length != 19):
        exp.add({Action.RESET}, f"RFC 4271 §6.1: length {length} for type {kind}", {(1, 2)})
        exp.parsed = False
        return exp
    if phase is not Phase.ESTABLISHED:
        if kind == w.OPEN and phase is Phase.OPEN_SENT:
            _judge_open(body, ctx, exp)
            return exp
        sub = 1 if phase is Phase.OPEN_SENT else 2
        exp.add(
            {Action.RESET}, f"RFC 4271 §8.2.2: type {kind} in {phase.value}", {(5, 0), (5, sub)}
        )
        exp.parsed = False
        return exp
    if kind == w.OPEN:
        exp.add(
            {Action.RESET},
            "RFC 4271 §8.2.2: OPEN in Established (RFC 6608 5/3; a collision Cease 6/7)",
            {(5, 0), (5, 3), (6, 7)},
        )
        exp.parsed = False
    elif kind == w.UPDATE:
        _judge_update(body, ctx, exp)
    elif kind == w.ROUTE_REFRESH:
        exp.parsed = False  # RFC 2918 §4, RFC 7313 §5: an unknown AFI/SAFI or subtype is ignored
    else:
        exp.parsed = False  # a KEEPALIVE
    return exp


# -- OPEN (RFC 4271 §6.2, RFC 5492, RFC 6793) -----------------------------------------------


def _judge_open(body: bytes, ctx: Context, exp: Expectation) -> None:
    exp.parsed = False
    version, my_as, hold, bgp_id, opt_len = struct.unpack_from("!BHH4sB", body, 0)
    if version != 4:
        exp.add({Action.RESET}, "RFC 4271 §6.2: version", {(2, 1)})
    if hold in (1, 2):
        exp.add({Action.RESET}, "RFC 4271 §6.2: hold time 1 or 2", {(2, 6)})
    if bgp_id == b"\0\0\0\0":
        exp.add({Action.RESET}, "RFC 6286 §2.2: BGP Identifier 0", {(2, 3)})
    elif bgp_id[0] >= 224:
        exp.add({Action.ACCEPT, Action.RESET}, "RFC 4271 §6.2 vs RFC 6286: identifier", {(2, 3)})
    params = body[10:]
    cap_as: int | None = None
    caps_seen: set[int] = set()
    malformed = False
    if opt_len == 255 and params[:1] == b"\xff":
        # RFC 9072 extended optional parameters: not in the brief's RFC list; allow either.
        exp.add({Action.ACCEPT, Action.RESET}, "RFC 9072: extended optional parameters", {(2, ANY)})
        return
    if opt_len != len(params):
        exp.add({Action.RESET}, "RFC 4271 §6.2: Optional Parameters Length", {(2, 0), (1, 2)})
        params = params[:opt_len]
        malformed = True
    i = 0
    while i < len(params):
        if i + 2 > len(params) or i + 2 + params[i + 1] > len(params):
            exp.add({Action.RESET}, "RFC 4271 §6.2: optional parameter overruns", {(2, 0)})
            malformed = True
            break
        ptype, plen = params[i], params[i + 1]
        value = params[i + 2 : i + 2 + plen]
        i += 2 + plen
        if ptype != 2:
            exp.add({Action.RESET}, f"RFC 4271 §6.2: optional parameter {ptype}", {(2, 4)})
            continue
        j = 0
        while j < len(value):
            if j + 2 > len(value) or j + 2 + value[j + 1] > len(value):
                exp.add({Action.RESET}, "RFC 5492 §4: capability overruns", {(2, 0)})
                malformed = True
                break
            code, clen = value[j], value[j + 1]
            cval = value[j + 2 : j + 2 + clen]
            j += 2 + clen
            caps_seen.add(code)
            if code == w.CAP_MP and clen == 4:
                afi, _, safi = struct.unpack("!HBB", cval)
                caps_seen.add(-(afi << 8 | safi))  # the families offered, as negative keys
            if code == w.CAP_AS4:
                if clen == 4:
                    cap_as = struct.unpack("!I", cval)[0]
                else:
                    exp.add(
                        {Action.ACCEPT, Action.RESET}, "RFC 6793 §3: capability length", {(2, ANY)}
                    )
            elif code not in (w.CAP_MP, w.CAP_ADD_PATH, w.CAP_RR, w.CAP_ERR, w.CAP_EXT_MSG):
                # RFC 5492 §4: ignored if not supported; a speaker that supports it (e.g.
                # Graceful Restart, code 64) may find its value malformed (RFC 4271 §6.2: 2/0).
                exp.add({Action.ACCEPT, Action.RESET}, f"RFC 5492 §4: capability {code}", {(2, 0)})
            else:
                expected = {w.CAP_MP: 4, w.CAP_RR: 0, w.CAP_ERR: 0, w.CAP_EXT_MSG: 0}
                bad = clen % 4 != 0 if code == w.CAP_ADD_PATH else clen != expected[code]
                if bad:
                    exp.add(
                        {Action.ACCEPT, Action.RESET},
                        f"RFC 5492 / capability {code}: malformed value (no rule)",
                        {(2, ANY)},
                    )
    if malformed:
        return
    peer_as = cap_as if cap_as is not None else my_as
    if peer_as != ctx.peer_as:
        exp.add({Action.RESET}, "RFC 4271 §6.2 / RFC 6793 §4.1: peer AS", {(2, 2)})
    elif cap_as is not None and my_as != (cap_as if cap_as <= 0xFFFF else w.AS_TRANS):
        exp.add({Action.ACCEPT, Action.RESET}, "RFC 6793 §4.1: My AS vs capability", {(2, 2)})
    # RFC 5492 §5: a speaker may refuse a peer that lacks a capability it needs (2/7).
    base = {w.CAP_RR, -(1 << 8 | 1), -(2 << 8 | 1)} | ({w.CAP_AS4} if ctx.four_octet else set())
    if not base <= caps_seen or (cap_as is None and ctx.peer_as > 0xFFFF):
        exp.add({Action.ACCEPT, Action.RESET}, "RFC 5492 §5: capability missing", {(2, 7), (2, 2)})
    if not exp.may_reset() or not exp.must_reset():
        exp.opens_session = True


# -- UPDATE (RFC 4271 §6.3, RFC 7606) -------------------------------------------------------

_NLRI_RESET = {(3, 1), (3, 10)}
_MP_RESET = {(3, ANY)}

# (optional, transitive) per recognized attribute (RFC 4271 §5, RFC 4760, RFC 6793 ...).
_FLAGS = {
    w.ORIGIN: (0, 1),
    w.AS_PATH: (0, 1),
    w.NEXT_HOP: (0, 1),
    w.MED: (1, 0),
    w.LOCAL_PREF: (0, 1),
    w.ATOMIC_AGGREGATE: (0, 1),
    w.AGGREGATOR: (1, 1),
    w.COMMUNITIES: (1, 1),
    w.ORIGINATOR_ID: (1, 0),
    w.CLUSTER_LIST: (1, 0),
    w.MP_REACH: (1, 0),
    w.MP_UNREACH: (1, 0),
    w.AS4_PATH: (1, 1),
    w.AS4_AGGREGATOR: (1, 1),
    w.LARGE_COMMUNITIES: (1, 1),
}
_WELL_KNOWN = {w.ORIGIN, w.AS_PATH, w.NEXT_HOP, w.LOCAL_PREF, w.ATOMIC_AGGREGATE}
# Type codes the harness treats as surely unrecognized: no IANA assignment in use.
SURELY_UNKNOWN = frozenset(range(50, 128)) | frozenset(range(129, 240))


def _prefixes(data: bytes, afi: int, add_path: bool) -> list[Nlri] | None:
    """Parse an NLRI list (RFC 4271 §4.3, RFC 4760 §5, RFC 7911 §3); None if malformed."""
    out: list[Nlri] = []
    limit = 32 if afi == w.AFI_IPV4 else 128
    i = 0
    while i < len(data):
        path_id = None
        if add_path:
            if i + 5 > len(data):
                return None
            path_id = struct.unpack_from("!I", data, i)[0]
            i += 4
        if i >= len(data):
            return None
        length = data[i]
        size = (length + 7) // 8
        if length > limit or i + 1 + size > len(data):
            return None
        out.append(((afi, length, w.masked(data[i + 1 : i + 1 + size], length)), path_id))
        i += 1 + size
    return out


def _as_path(value: bytes, size: int) -> list[tuple[int, list[int]]] | None:
    """RFC 7606 §7.2: segments, or None when malformed."""
    segments: list[tuple[int, list[int]]] = []
    i = 0
    while i < len(value):
        if i + 2 > len(value):
            return None  # underrun: a single octet left
        seg_type, count = value[i], value[i + 1]
        if seg_type not in (1, 2, 3, 4) or count == 0 or i + 2 + count * size > len(value):
            return None
        fmt = "!" + ("I" if size == 4 else "H") * count
        segments.append((seg_type, list(struct.unpack_from(fmt, value, i + 2))))
        i += 2 + count * size
    return segments


def _judge_update(body: bytes, ctx: Context, exp: Expectation) -> None:
    (wlen,) = struct.unpack_from("!H", body, 0)
    if 2 + wlen + 2 > len(body):
        exp.add({Action.RESET}, "RFC 4271 §6.3: Withdrawn Routes Length", {(3, 1)})
        exp.parsed = False
        return
    (alen,) = struct.unpack_from("!H", body, 2 + wlen)
    if 4 + wlen + alen > len(body):
        exp.add({Action.RESET}, "RFC 4271 §6.3 / RFC 7606 §3 b: Total Attribute Length", {(3, 1)})
        exp.parsed = False
        return
    v4_add_path = (w.AFI_IPV4, w.SAFI_UNICAST) in ctx.add_path_rx
    withdrawn = _prefixes(body[2 : 2 + wlen], w.AFI_IPV4, v4_add_path)
    nlri = _prefixes(body[4 + wlen + alen :], w.AFI_IPV4, v4_add_path)
    if withdrawn is None or nlri is None:
        what = "Withdrawn Routes" if withdrawn is None else "NLRI"
        exp.add({Action.RESET}, f"RFC 7606 §5.3 / RFC 4271 §6.3: {what} field", _NLRI_RESET)
        exp.parsed = False
        return
    exp.withdrawn.extend(withdrawn)
    exp.field_nlri.extend(nlri)
    attrs = body[4 + wlen : 4 + wlen + alen]
    first: dict[int, tuple[int, bytes]] = {}
    i = 0
    while i < len(attrs):
        if len(attrs) - i < 3 or (attrs[i] & w.EXTENDED and len(attrs) - i < 4):
            cut = attrs[i + 1] if len(attrs) - i >= 2 else None
            _cut_attribute(exp, cut, "attribute header truncated")
            break
        flags, code = attrs[i], attrs[i + 1]
        if flags & w.EXTENDED:
            (length,) = struct.unpack_from("!H", attrs, i + 2)
            head = 4
        else:
            length, head = attrs[i + 2], 3
        if i + head + length > len(attrs):
            _cut_attribute(exp, code, "attribute overruns Total Attribute Length")
            break
        value = attrs[i + head : i + head + length]
        i += head + length
        if code in first:
            if code in (w.MP_REACH, w.MP_UNREACH):
                exp.add({Action.RESET}, "RFC 7606 §3 g: MP attribute repeated", {(3, 1)})
                exp.parsed = False
                return
            continue  # RFC 7606 §3 g: later occurrences discarded
        first[code] = (flags, value)
    for code, (flags, value) in first.items():
        _judge_attribute(code, flags, value, ctx, exp, bool(nlri))
    if exp.must_reset():
        return
    _judge_loop(first, ctx, exp)
    reachable = bool(exp.field_nlri) or bool(exp.mp_nlri)
    if reachable:
        # RFC 7606 §3 d (RFC 4760 §3: NEXT_HOP only with NLRI-field routes).
        for code in (w.ORIGIN, w.AS_PATH):
            if code not in first:
                exp.add({Action.WITHDRAW}, f"RFC 7606 §3 d: mandatory attribute {code} missing")
        if exp.field_nlri and w.NEXT_HOP not in first:
            exp.add({Action.WITHDRAW}, "RFC 7606 §3 d: NEXT_HOP missing")
    elif alen and any(max(f.actions) >= Action.WITHDRAW for f in exp.findings):
        # RFC 7606 §5.2: attributes but no reachable NLRI, and an error other than
        # attribute discard: session reset (any UPDATE subcode; e.g. 3/4 for flags).
        # Treat-as-withdraw of the withdrawals alone is allowed too (the RFC text is read
        # leniently here), and so is acceptance when the error itself was optional.
        acts = {Action.RESET, Action.WITHDRAW}
        if not any(min(f.actions) >= Action.WITHDRAW for f in exp.findings):
            acts.add(Action.ACCEPT)
        exp.add(acts, "RFC 7606 §5.2: no reachable NLRI", {(3, ANY)})


def _cut_attribute(exp: Expectation, code: int | None, what: str) -> None:
    """RFC 7606 §4: treat-as-withdraw, unless the cut attribute is MP_REACH_NLRI or
    MP_UNREACH_NLRI: treat-as-withdraw needs their NLRI parsed (§4, last paragraph), so
    RFC 4760 §7 applies (session reset or AFI/SAFI disable)."""
    if code in (w.MP_REACH, w.MP_UNREACH):
        exp.add({Action.RESET, Action.WITHDRAW}, f"RFC 7606 §4 / RFC 4760 §7: MP {what}", _MP_RESET)
    else:
        exp.add({Action.WITHDRAW}, f"RFC 7606 §4: {what}")


def _judge_attribute(
    code: int, flags: int, value: bytes, ctx: Context, exp: Expectation, field_nlri: bool
) -> None:
    optional, transitive = bool(flags & w.OPTIONAL), bool(flags & w.TRANSITIVE)
    n = len(value)
    if code not in _FLAGS and code not in (w.EXT_COMMUNITIES,):
        if code not in SURELY_UNKNOWN:
            # Assigned by IANA but outside this oracle: a speaker may implement it.
            codes = {(3, 2)} if not optional else set()
            acts = {Action.ACCEPT, Action.DISCARD, Action.WITHDRAW}
            exp.add(acts | ({Action.RESET} if codes else set()), f"attribute {code}", codes)
            return
        if not optional:
            exp.add({Action.RESET}, f"RFC 4271 §6.3: unrecognized well-known {code}", {(3, 2)})
        elif transitive:
            exp.partial.add(code)  # RFC 4271 §5: passed on with the Partial bit
        else:
            exp.absent.add(code)  # RFC 4271 §5: quietly ignored, not passed on
        return
    if code == w.EXT_COMMUNITIES:
        # Recognized or not is the implementation's choice; RFC 7606 §7.14 if it is.
        if not optional or not transitive or n == 0 or n % 8:
            acts = {Action.ACCEPT, Action.WITHDRAW} | ({Action.RESET} if not optional else set())
            exp.add(acts, "RFC 7606 §7.14 (if recognized)", {(3, 2)})
        return
    want = _FLAGS[code]
    flags_bad = (optional, transitive) != (bool(want[0]), bool(want[1]))
    if code in (w.MP_REACH, w.MP_UNREACH):
        _judge_mp(code, value, ctx, exp, flags_bad)
        return
    if code in (w.AS4_PATH, w.AS4_AGGREGATOR):
        if ctx.four_octet:
            return  # RFC 6793 §4.1: ignored from a NEW speaker
        bad = flags_bad or (_as_path(value, 4) is None if code == w.AS4_PATH else n != 8)
        if bad:
            exp.add({Action.DISCARD}, f"RFC 6793 §6: malformed {code}", attr=code)
        return
    if code in (w.LOCAL_PREF, w.ORIGINATOR_ID, w.CLUSTER_LIST):
        # RFC 7606 §7.5, §7.9, §7.10: from an external peer, attribute discard.
        acts = {Action.DISCARD, Action.WITHDRAW} if flags_bad else {Action.DISCARD}
        exp.add(acts, f"RFC 7606 §7.5/§7.9/§7.10: attribute {code} from eBGP", attr=code)
        return
    if flags_bad:
        exp.add({Action.WITHDRAW}, f"RFC 7606 §3 c: flags {flags:#x} of attribute {code}")
        return
    if flags & w.PARTIAL and not (optional and transitive):
        exp.add({Action.ACCEPT, Action.WITHDRAW}, "RFC 4271 §4.3: Partial bit (no 7606 rule)")
    size = 4 if ctx.four_octet else 2
    if code == w.ORIGIN:
        if n != 1 or value[0] > 2:
            exp.add({Action.WITHDRAW}, "RFC 7606 §7.1: ORIGIN")
    elif code == w.AS_PATH:
        segments = _as_path(value, size)
        if segments is None:
            exp.add({Action.WITHDRAW}, "RFC 7606 §7.2: AS_PATH malformed")
            return
        asns = [a for _, seg in segments for a in seg]
        if any(t in (3, 4) for t, _ in segments):
            exp.add({Action.ACCEPT, Action.WITHDRAW}, "RFC 5065 §5: confederation segment")
        if (
            not segments
            or segments[0][0] != w.AS_SEQUENCE
            or segments[0][1][0]
            != (ctx.peer_as if ctx.four_octet or ctx.peer_as <= 0xFFFF else w.AS_TRANS)
        ):
            exp.add({Action.ACCEPT, Action.WITHDRAW}, "RFC 4271 §6.3 / RFC 7606 §7.2: leftmost AS")
        if 0 in asns:
            exp.add({Action.ACCEPT, Action.WITHDRAW}, "RFC 7607: AS 0 (outside the brief's RFCs)")
    elif code == w.NEXT_HOP:
        # Treat-as-withdraw covers every route of the UPDATE (RFC 7606 §2), MP ones too.
        if n != 4:
            acts = {Action.WITHDRAW} if field_nlri else {Action.ACCEPT, Action.WITHDRAW}
            exp.add(acts, "RFC 7606 §7.3: NEXT_HOP length")
        elif value[0] in (0, 127) or value[0] >= 224:
            exp.add(
                {Action.ACCEPT, Action.WITHDRAW},
                "RFC 4271 §6.3: NEXT_HOP semantics",
                scope=Scope.FIELD,
            )
    elif code == w.MED:
        if n != 4:
            exp.add({Action.WITHDRAW}, "RFC 7606 §7.4: MULTI_EXIT_DISC length")
    elif code == w.ATOMIC_AGGREGATE:
        if n != 0:
            exp.add({Action.DISCARD}, "RFC 7606 §7.6: ATOMIC_AGGREGATE length", attr=code)
    elif code == w.AGGREGATOR:
        if n != (8 if ctx.four_octet else 6):
            acts = {Action.DISCARD} if n else {Action.DISCARD, Action.WITHDRAW}
            exp.add(acts, "RFC 7606 §7.7: AGGREGATOR length", attr=code)
        elif value[:size] == bytes(size):
            exp.add({Action.ACCEPT, Action.DISCARD}, "RFC 7607: AGGREGATOR AS 0", attr=code)
    elif code == w.COMMUNITIES:
        if n == 0 or n % 4:
            exp.add({Action.WITHDRAW}, "RFC 7606 §7.8: COMMUNITIES length")
    elif code == w.LARGE_COMMUNITIES and (n == 0 or n % 12):
        exp.add({Action.WITHDRAW}, "RFC 8092 §6: LARGE_COMMUNITY length")


def _judge_mp(code: int, value: bytes, ctx: Context, exp: Expectation, flags_bad: bool) -> None:
    """RFC 4760 §3-§4 and §7, RFC 7606 §5.3 / §7.11-§7.12: reset or AFI/SAFI disable."""
    acts = {Action.RESET, Action.WITHDRAW}
    name = "MP_REACH_NLRI" if code == w.MP_REACH else "MP_UNREACH_NLRI"
    if flags_bad:
        exp.add(acts, f"RFC 7606 §5.3 / RFC 4760 §7: {name} flags", _MP_RESET, Scope.MP)
    minimum = 5 if code == w.MP_REACH else 3
    if len(value) < minimum:
        exp.add(acts, f"RFC 7606 §7.11: {name} too short", _MP_RESET, Scope.MP)
        return
    afi, safi = struct.unpack_from("!HB", value, 0)
    if code == w.MP_REACH:
        nh_len = value[3]
        if 5 + nh_len > len(value):
            exp.add(acts, "RFC 7606 §7.11: next hop overruns", _MP_RESET, Scope.MP)
            return
        next_hop, data = value[4 : 4 + nh_len], value[5 + nh_len :]
    else:
        next_hop, data = b"", value[3:]
    if (afi, safi) not in ctx.families:
        # RFC 4760 §7 (and RFC 4271 §9): a family not negotiated carries nothing to install.
        exp.add(
            {Action.ACCEPT, Action.WITHDRAW, Action.RESET},
            f"RFC 4760 §7: AFI/SAFI {afi}/{safi} not negotiated",
            _MP_RESET,
            Scope.MP,
        )
        return
    prefixes = _prefixes(data, afi, (afi, safi) in ctx.add_path_rx)
    if prefixes is None:
        exp.add(acts, f"RFC 7606 §5.3: {name} NLRI malformed", _MP_RESET, Scope.MP)
        return
    if code == w.MP_UNREACH:
        exp.withdrawn.extend(prefixes)
        return
    exp.mp_nlri.extend(prefixes)
    good_lengths = {w.AFI_IPV4: (4,), w.AFI_IPV6: (16, 32)}[afi]
    if nh_len not in good_lengths:
        exp.add(acts, f"RFC 4760 §3 / RFC 2545: next hop length {nh_len}", _MP_RESET, Scope.MP)
    elif _odd_next_hop(afi, next_hop):
        exp.add(
            {Action.ACCEPT, Action.WITHDRAW}, "RFC 4271 §6.3: next hop semantics", scope=Scope.MP
        )


def _odd_next_hop(afi: int, next_hop: bytes) -> bool:
    """Not a valid host address (RFC 4271 §6.3: the route SHOULD be ignored, no error)."""
    if afi == w.AFI_IPV6:
        return next_hop[:16] == bytes(16) or next_hop[0] == 0xFF
    return next_hop[0] in (0, 127) or next_hop[0] >= 224


def _path_length(segments: list[tuple[int, list[int]]]) -> int:
    """RFC 6793 §4.2.3 count: an AS_SET counts 1, confederation segments 0."""
    return sum(
        len(asns) if t == w.AS_SEQUENCE else 1 if t == w.AS_SET else 0 for t, asns in segments
    )


def _judge_loop(first: dict[int, tuple[int, bytes]], ctx: Context, exp: Expectation) -> None:
    """RFC 4271 §9.1.2: a route whose AS path holds the local AS is not installed; from a
    2-octet session the path is rebuilt from AS_PATH and AS4_PATH (RFC 6793 §4.2.3)."""
    if w.AS_PATH not in first:
        return
    segments = _as_path(first[w.AS_PATH][1], 4 if ctx.four_octet else 2)
    if segments is None:
        return
    asns = [a for _, seg in segments for a in seg]
    if not ctx.four_octet and w.AS4_PATH in first:
        flags, value = first[w.AS4_PATH]
        as4 = _as_path(value, 4) if flags & (w.OPTIONAL | w.TRANSITIVE) == 0xC0 else None
        if as4 is not None and any(t not in (w.AS_SEQUENCE,) for t, _ in segments + as4):
            if ctx.local_as in asns or ctx.local_as in [a for _, seg in as4 for a in seg]:
                exp.add({Action.ACCEPT, Action.WITHDRAW}, "RFC 6793 §4.2.3: sets in the merge")
            return
        if as4 is not None and _path_length(as4) <= _path_length(segments):
            keep = _path_length(segments) - _path_length(as4)
            asns = asns[:keep] + [a for _, seg in as4 for a in seg]
    if ctx.local_as in asns:
        exp.add({Action.WITHDRAW}, "RFC 4271 §9.1.2: own AS in the AS path (loop)")
