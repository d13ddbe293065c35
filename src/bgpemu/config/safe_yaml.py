"""Bounded YAML reading for every file and text bgpemu accepts (architecture decision 12).

Topology files, speaker configs, change files and the control topic's ``apply`` text all
come through :func:`parse`.  A YAML document is read as a stream of parser events
(libyaml's parser when PyYAML has it: iterative, no recursion) and composed into a node
tree here, counting as it goes, so that every limit of :class:`Limits` is checked
*before* the expensive step that it protects:

- the text's size, before parsing (:func:`read_file` checks a file's size before reading it);
- the nesting depth, before the composer or constructor could recurse (100,000 levels
  were a ``RecursionError``);
- aliases: an alias to a node that is still open (``a: &a [*a]``, a recursive alias) is
  refused, since the data it builds has no end; the number of aliases is capped, and every
  alias counts as the nodes it repeats, so a "billion laughs" expansion is refused after
  the first nodes over the limit instead of running for hours downstream;
- the number of nodes (expanded), before the constructor and the schema walk them;
- the length of a scalar, and of an integer (Python refuses to convert integers of over
  4,300 digits with a ``ValueError``);
- values the constructor cannot build (``2001-13-45`` read as a date, a time zone offset
  out of range, a value that does not match its explicit tag: ``!!bool maybe``) come back
  as a problem with their line instead of a ValueError, KeyError or AttributeError.

The cyclic garbage collector is paused while a text is read (:func:`gc_paused`).

Everything ends as a :class:`YamlProblem` (line, message, hint) or a :class:`Parsed`
document; nothing else escapes.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from bgpemu.errors import ConfigProblem
from bgpemu.files import FileLimitError, read_limited

__all__ = ["LIMITS", "Limits", "Parsed", "YamlProblem", "gc_paused", "parse", "read_file"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """What one YAML file or text may hold (the numbers are in docs/topology.md, "Limits").

    The defaults hold the largest topology ``bench/_lab`` generates (65,536 prefixes:
    1.1 MB, about 70,000 YAML nodes) three times over; the slowest file found within
    them loads in about 11 s with 231 MB on a busy 2-core machine (bench/README.md).
    """

    max_bytes: int = 4 * 1024 * 1024
    """Size of the file in bytes (of a text, in characters)."""
    max_depth: int = 64
    """Nesting of sequences and mappings."""
    max_nodes: int = 250_000
    """YAML nodes (scalars, sequences, mappings), each alias counting the nodes it repeats."""
    max_aliases: int = 1_000
    """Alias uses (``*name``)."""
    max_scalar: int = 65_536
    """Characters in one scalar."""
    max_int_digits: int = 100
    """Characters in one integer."""


LIMITS = Limits()
"""The limits every bgpemu file and text is read with."""

_MIB = 1024 * 1024
_INT = "tag:yaml.org,2002:int"


@dataclass(frozen=True, slots=True, kw_only=True)
class YamlProblem:
    """Why a text is not a YAML document bgpemu reads: the first problem, and its line."""

    line: int | None
    message: str
    hint: str = ""

    def in_file(self, file: str) -> ConfigProblem:
        """This problem as every file's problems are reported (``FILE:LINE: message
        (hint: ...)``): one wording for topology, change and control texts alike."""
        where = f"{file}:{self.line}" if self.line is not None else file
        return ConfigProblem(where, "", self.message, self.hint)


@dataclass(frozen=True, slots=True, kw_only=True)
class Parsed:
    """A YAML document: its plain data and the node tree it was built from (marks, lines)."""

    data: Any
    root: yaml.Node | None


_LIMIT_HINT = "see the limits in docs/topology.md"


def _limit(size: int) -> str:
    return f"{size // _MIB} MiB" if size % _MIB == 0 else f"{size:,} bytes"


def read_file(path: str | Path, limits: Limits = LIMITS) -> str | YamlProblem:
    """The UTF-8 text of the file at ``path``, or why it cannot be read.

    At most ``limits.max_bytes`` + 1 bytes are read, so a huge file costs nothing
    (:func:`bgpemu.files.read_limited`).
    """
    try:
        raw = read_limited(path, limits.max_bytes)
    except FileLimitError as exc:
        if exc.not_regular:
            return YamlProblem(
                line=None,
                message="not a regular file (a pipe, device or directory is not read: it could "
                "block or never end)",
                hint="save the YAML to a file and give its path",
            )
        return YamlProblem(
            line=None,
            message=f"the file is larger than {_limit(limits.max_bytes)}, the most bgpemu reads",
            hint=_LIMIT_HINT,
        )
    except OSError as exc:
        return YamlProblem(line=None, message=f"cannot read the file: {exc.strerror or exc}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return YamlProblem(
            line=raw.count(b"\n", 0, exc.start) + 1,
            message=f"the file is not UTF-8 text (byte {exc.start + 1})",
            hint="save it as UTF-8",
        )


class _RefusedError(Exception):
    """The text is refused: carries the problem."""

    def __init__(self, problem: YamlProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _over(mark: Any, message: str) -> _RefusedError:
    return _RefusedError(YamlProblem(line=mark.line + 1, message=message, hint=_LIMIT_HINT))


class _Open:
    """A sequence or mapping whose end event has not come yet."""

    __slots__ = ("anchor", "key", "node", "weight")

    def __init__(self, node: yaml.CollectionNode, anchor: str | None) -> None:
        self.node = node
        self.anchor = anchor
        self.key: yaml.Node | None = None
        self.weight = 1
        """Nodes in this collection so far, itself included, aliases expanded."""


class _Composer:
    """Events -> node tree, as PyYAML's composer does, but without recursion and with
    :class:`Limits` checked at every event."""

    def __init__(self, loader: Any, limits: Limits) -> None:
        self.loader = loader
        self.limits = limits
        self.stack: list[_Open] = []
        self.anchors: dict[str, tuple[yaml.Node, int]] = {}
        """anchor -> (node, nodes it holds, aliases expanded); set when the node is complete."""
        self.open_anchors: set[str] = set()
        self.anchor_lines: dict[str, int] = {}
        self.nodes = 0
        self.aliases = 0
        self.root: yaml.Node | None = None
        self.documents = 0

    def compose(self) -> yaml.Node | None:
        while (event := self.loader.get_event()) is not None:
            self._event(event)
        return self.root

    def _event(self, event: Any) -> None:
        if isinstance(event, yaml.ScalarEvent):
            self._scalar(event)
        elif isinstance(event, yaml.AliasEvent):
            self._alias(event)
        elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            self._start(event)
        elif isinstance(event, yaml.CollectionEndEvent):
            done = self.stack.pop()
            done.node.end_mark = event.end_mark
            if done.anchor is not None:
                self.open_anchors.discard(done.anchor)
                self.anchors[done.anchor] = (done.node, done.weight)
            self._add(done.node, done.weight)
        elif isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise _RefusedError(
                    YamlProblem(
                        line=event.start_mark.line + 1 if event.start_mark else None,
                        message="not valid YAML: a second document ('---') in the stream",
                        hint="a file holds one document",
                    )
                )

    def _count(self, mark: Any, weight: int) -> None:
        self.nodes += weight
        if self.nodes > self.limits.max_nodes:
            raise _over(
                mark,
                f"more than {self.limits.max_nodes:,} YAML nodes (each alias counts the nodes "
                "it repeats)",
            )

    def _anchor(self, anchor: str | None, mark: Any) -> None:
        if anchor is None:
            return
        first = self.anchor_lines.setdefault(anchor, mark.line + 1)
        if first != mark.line + 1 or anchor in self.anchors or anchor in self.open_anchors:
            raise _RefusedError(
                YamlProblem(
                    line=mark.line + 1,
                    message=f"not valid YAML: anchor &{anchor} is defined twice (first on "
                    f"line {first})",
                    hint="give each anchor its own name",
                )
            )

    def _scalar(self, event: Any) -> None:
        limits = self.limits
        value: str = event.value
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, value, event.implicit)
        if tag == _INT and len(value) > limits.max_int_digits:
            raise _over(
                event.start_mark,
                f"an integer of {len(value):,} characters; integers have at most "
                f"{limits.max_int_digits} digits",
            )
        if len(value) > limits.max_scalar:
            raise _over(
                event.start_mark,
                f"a scalar of {len(value):,} characters; at most {limits.max_scalar:,} are read",
            )
        self._anchor(event.anchor, event.start_mark)
        node = yaml.ScalarNode(tag, value, event.start_mark, event.end_mark, style=event.style)
        self._count(event.start_mark, 1)
        if event.anchor is not None:
            self.anchors[event.anchor] = (node, 1)
        self._add(node, 1)

    def _alias(self, event: Any) -> None:
        anchor: str = event.anchor
        if anchor in self.open_anchors:
            raise _RefusedError(
                YamlProblem(
                    line=event.start_mark.line + 1,
                    message=f"alias *{anchor} is inside the node &{anchor} it refers to "
                    "(a recursive alias)",
                    hint="an alias can only repeat a node that ends before it",
                )
            )
        if anchor not in self.anchors:
            raise _RefusedError(
                YamlProblem(
                    line=event.start_mark.line + 1,
                    message=f"not valid YAML: alias *{anchor} has no anchor &{anchor} before it",
                    hint="define the anchor first",
                )
            )
        self.aliases += 1
        if self.aliases > self.limits.max_aliases:
            raise _over(event.start_mark, f"more than {self.limits.max_aliases:,} aliases")
        node, weight = self.anchors[anchor]
        self._count(event.start_mark, weight)
        self._add(node, weight)

    def _start(self, event: Any) -> None:
        if len(self.stack) >= self.limits.max_depth:
            raise _over(
                event.start_mark,
                f"nested more than {self.limits.max_depth} levels deep",
            )
        self._anchor(event.anchor, event.start_mark)
        sequence = isinstance(event, yaml.SequenceStartEvent)
        kind = yaml.SequenceNode if sequence else yaml.MappingNode
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(kind, None, event.implicit)
        node = kind(tag, [], event.start_mark, None, flow_style=event.flow_style)
        self._count(event.start_mark, 1)
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
        self.stack.append(_Open(node, event.anchor))

    def _add(self, node: yaml.Node, weight: int) -> None:
        if not self.stack:
            self.root = node
            return
        parent = self.stack[-1]
        parent.weight += weight
        if isinstance(parent.node, yaml.SequenceNode):
            parent.node.value.append(node)
        elif parent.key is None:
            parent.key = node
        else:
            parent.node.value.append((parent.key, node))
            parent.key = None


class _Constructor(SafeConstructor):
    """PyYAML's safe constructor; a value it cannot build is a problem at its line.

    PyYAML's scalar constructors fail with a ValueError (``2001-13-45`` read as a date),
    and, on an explicit tag whose value does not match it (``!!bool maybe``,
    ``!!timestamp x``, an empty ``!!int``), with a KeyError, AttributeError or IndexError.
    """

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (yaml.YAMLError, _RefusedError):
            raise
        except Exception as exc:  # any failure of a constructor is the value's
            kind = str(node.tag).rpartition(":")[2]
            why = f": {exc}" if isinstance(exc, ValueError) else ""
            raise _RefusedError(
                YamlProblem(
                    line=node.start_mark.line + 1,
                    message=f"cannot read {node.value!r} as a YAML {kind}{why}",
                    hint="quote it if it is text",
                )
            ) from None


_FAST: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML has it: events for a 20,000-prefix topology in 0.015 s."""


def _compose(text: str, loader_class: Any, limits: Limits) -> yaml.Node | None:
    loader = loader_class(text)
    try:
        return _Composer(loader, limits).compose()
    finally:
        loader.dispose()


def _syntax(exc: yaml.YAMLError) -> YamlProblem:
    hint = "fix the YAML syntax first: nothing else was checked"
    if not isinstance(exc, yaml.MarkedYAMLError):
        return YamlProblem(line=None, message=f"not valid YAML: {exc}", hint=hint)
    mark = exc.problem_mark or exc.context_mark
    context = exc.context
    if context and exc.context_mark and mark and exc.context_mark.line != mark.line:
        context = f"{context} started on line {exc.context_mark.line + 1}"
    parts = [p for p in (context, exc.problem) if p]
    where = f" (column {mark.column + 1})" if mark else ""
    return YamlProblem(
        line=mark.line + 1 if mark else None,
        message=f"not valid YAML: {', '.join(parts)}{where}",
        hint=hint,
    )


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a file is loaded, and restore it.

    Loading builds hundreds of thousands of small objects and no reference cycle (a
    recursive alias is refused); each 700 allocations would start a collection that walks
    them all again: 6,000 peered VNets loaded in 7.8 s with the collector, 2.5 s without.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse(text: str, limits: Limits = LIMITS) -> Parsed | YamlProblem:
    """The document ``text`` holds (one YAML document, None if empty), or its first problem."""
    if len(text) > limits.max_bytes:
        return YamlProblem(
            line=None,
            message=f"the text is longer than {limits.max_bytes:,} characters, the most "
            "bgpemu reads",
            hint=_LIMIT_HINT,
        )
    try:
        with gc_paused():
            return _parse(text, limits)
    except _RefusedError as exc:
        return exc.problem
    except yaml.YAMLError as exc:
        return _syntax(exc)


def _parse(text: str, limits: Limits) -> Parsed:
    try:
        root = _compose(text, _FAST, limits)
    except yaml.YAMLError:
        # Reported by the pure-Python parser, whose messages are stable.
        root = _compose(text, yaml.SafeLoader, limits)
    data = _Constructor().construct_document(root) if root is not None else None
    return Parsed(data=data, root=root)
