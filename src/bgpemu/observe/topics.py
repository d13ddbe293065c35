"""Every MQTT topic bgpemu publishes, under ``bgpemu/v1/<lab>/...`` (pure).

Layout (retained unless marked)::

    bgpemu/v1/<lab>/state                     lab state: converged, since, convergence time
    bgpemu/v1/<lab>/topology                  the topology the lab runs (its YAML text)
    bgpemu/v1/<lab>/control                   NOT retained: commands to the lab
    bgpemu/v1/<lab>/events                    NOT retained: injections and convergences
    bgpemu/v1/<lab>/nodes/<node>/status       online | offline (offline is the MQTT will)
    bgpemu/v1/<lab>/nodes/<node>/info         role, ASN, router id, addresses
    bgpemu/v1/<lab>/nodes/<node>/sessions     one entry per neighbour
    bgpemu/v1/<lab>/nodes/<node>/rib/loc      Loc-RIB: best, multipath, reason
    bgpemu/v1/<lab>/nodes/<node>/rib/in/<peer>   Adj-RIB-In of one neighbour
    bgpemu/v1/<lab>/nodes/<node>/rib/out/<peer>  Adj-RIB-Out of one neighbour
    bgpemu/v1/<lab>/nodes/<node>/azure/<view> one Azure view of the node (opaque JSON)
    bgpemu/v1/<lab>/nodes/<node>/events       NOT retained: deltas with a per-node seq

MQTT 3.1.1 §4.7.1: ``/`` separates levels, ``+`` and ``#`` are wildcards (never
allowed in a published topic), and §4.7.2: topics starting with ``$`` are the
broker's.  A lab, node, neighbour or view name is one level, so none of them may hold these.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bgpemu.observe.errors import TopicError

__all__ = [
    "ROOT",
    "LabTopics",
    "NodeTopic",
    "NodeTopics",
    "TopicRef",
    "parse_topic",
    "table_key",
    "table_of_key",
    "validate_name",
]

ROOT = "bgpemu/v1"
"""The versioned root: a breaking payload change moves everything to ``bgpemu/v2``."""


class NodeTopic(StrEnum):
    """The per-node topics, as the suffix after ``nodes/<node>/``."""

    STATUS = "status"
    INFO = "info"
    SESSIONS = "sessions"
    RIB_LOC = "rib/loc"
    RIB_IN = "rib/in"
    """A prefix: the neighbour's name follows (``rib/in/<peer>``)."""
    RIB_OUT = "rib/out"
    """A prefix: the neighbour's name follows (``rib/out/<peer>``)."""
    AZURE = "azure"
    """A prefix: the view name follows (``azure/<view>``)."""
    EVENTS = "events"


_PER_PEER = (NodeTopic.RIB_IN, NodeTopic.RIB_OUT)


def table_key(kind: NodeTopic, peer: str | None = None) -> str:
    """The key (topic suffix) of a route table: ``rib/loc``, ``rib/in/<peer>`` or
    ``rib/out/<peer>`` (the neighbour name validated as one level)."""
    if kind is NodeTopic.RIB_LOC:
        return str(kind)
    if kind not in _PER_PEER or peer is None:
        raise TopicError(f"{kind}: not a per-neighbour table (or no neighbour given)")
    return f"{kind}/{validate_name(peer, 'neighbour')}"


def table_of_key(key: str) -> tuple[NodeTopic, str | None]:
    """The (kind, neighbour) of a route table's key; the inverse of :func:`table_key`."""
    if key == NodeTopic.RIB_LOC:
        return NodeTopic.RIB_LOC, None
    kind, sep, peer = key.rpartition("/")
    if sep and kind in _PER_PEER:
        return NodeTopic(kind), validate_name(peer, "neighbour")
    raise TopicError(f"not a route table: {key!r}")


_FORBIDDEN = frozenset("/+#\x00")


def validate_name(name: str, what: str = "node") -> str:
    """Return ``name`` if it can be one topic level; raise :class:`TopicError` otherwise.

    Rejected: empty names, ``/ + #`` and NUL anywhere (MQTT 3.1.1 §4.7.1, §1.5.3),
    and a leading ``$`` (§4.7.2, reserved for the broker).
    """
    if not isinstance(name, str) or not name:
        raise TopicError(f"invalid {what} name {name!r}: empty")
    bad = sorted(set(name) & _FORBIDDEN)
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        raise TopicError(f"invalid {what} name {name!r}: it may not contain {shown}")
    if name.startswith("$"):
        raise TopicError(f"invalid {what} name {name!r}: it may not start with '$'")
    if name != name.strip():
        raise TopicError(f"invalid {what} name {name!r}: leading or trailing white space")
    return name


@dataclass(frozen=True, slots=True, kw_only=True)
class LabTopics:
    """The topics of one lab."""

    lab: str

    def __post_init__(self) -> None:
        validate_name(self.lab, "lab")

    @property
    def base(self) -> str:
        """``bgpemu/v1/<lab>``."""
        return f"{ROOT}/{self.lab}"

    @property
    def all(self) -> str:
        """The subscription filter for everything of the lab."""
        return f"{self.base}/#"

    @property
    def state(self) -> str:
        """Retained lab state."""
        return f"{self.base}/state"

    @property
    def topology(self) -> str:
        """Retained: the topology the lab runs (at start and after every ``apply``)."""
        return f"{self.base}/topology"

    @property
    def control(self) -> str:
        """Commands to the running lab (not retained, ``bgpemu/v1/control``)."""
        return f"{self.base}/control"

    @property
    def events(self) -> str:
        """The lab's own events (not retained): injections and convergences."""
        return f"{self.base}/events"

    def traffic(self, view: str) -> str:
        """Retained traffic answers of the lab (``traffic/reachability``, ``traffic/intents``)."""
        return f"{self.base}/traffic/{validate_name(view, 'view')}"

    @property
    def nodes_filter(self) -> str:
        """A filter matching the status of every node (``nodes/+/status``)."""
        return f"{self.base}/nodes/+/{NodeTopic.STATUS}"

    def node(self, node: str) -> NodeTopics:
        """The topics of ``node`` (validated)."""
        return NodeTopics(lab=self.lab, node=node)


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeTopics:
    """The topics of one node of one lab."""

    lab: str
    node: str

    def __post_init__(self) -> None:
        validate_name(self.lab, "lab")
        validate_name(self.node, "node")

    @property
    def base(self) -> str:
        """``bgpemu/v1/<lab>/nodes/<node>``."""
        return f"{ROOT}/{self.lab}/nodes/{self.node}"

    @property
    def all(self) -> str:
        """The subscription filter for everything of the node."""
        return f"{self.base}/#"

    def topic(self, kind: NodeTopic) -> str:
        """The topic of ``kind`` (not :attr:`NodeTopic.AZURE`: use :meth:`azure`; not
        ``rib/in`` or ``rib/out``: use :meth:`rib_in_of`, :meth:`rib_out_of`)."""
        if kind is NodeTopic.AZURE:
            raise TopicError("an Azure view topic needs a view name: use NodeTopics.azure(view)")
        if kind in _PER_PEER:
            raise TopicError(f"a {kind} topic needs a neighbour: use NodeTopics.table(key)")
        return f"{self.base}/{kind}"

    def table(self, key: str) -> str:
        """The topic of a table by its key: ``rib/loc``, ``sessions``, ``rib/in/<peer>``,
        ``rib/out/<peer>`` (the neighbour name validated as one level)."""
        if key != NodeTopic.SESSIONS:
            table_of_key(key)  # validated
        return f"{self.base}/{key}"

    def rib_in_of(self, peer: str) -> str:
        """The retained Adj-RIB-In document of neighbour ``peer``."""
        return self.table(table_key(NodeTopic.RIB_IN, peer))

    def rib_out_of(self, peer: str) -> str:
        """The retained Adj-RIB-Out document of neighbour ``peer``."""
        return self.table(table_key(NodeTopic.RIB_OUT, peer))

    @property
    def status(self) -> str:
        return self.topic(NodeTopic.STATUS)

    @property
    def info(self) -> str:
        return self.topic(NodeTopic.INFO)

    @property
    def sessions(self) -> str:
        return self.topic(NodeTopic.SESSIONS)

    @property
    def rib_loc(self) -> str:
        return self.topic(NodeTopic.RIB_LOC)

    @property
    def rib_in(self) -> str:
        """A filter matching the Adj-RIB-In document of every neighbour."""
        return f"{self.base}/{NodeTopic.RIB_IN}/+"

    @property
    def rib_out(self) -> str:
        """A filter matching the Adj-RIB-Out document of every neighbour."""
        return f"{self.base}/{NodeTopic.RIB_OUT}/+"

    @property
    def events(self) -> str:
        return self.topic(NodeTopic.EVENTS)

    def azure(self, view: str) -> str:
        """The retained topic of the node's Azure view ``view`` (one level, validated)."""
        return f"{self.base}/{NodeTopic.AZURE}/{validate_name(view, 'view')}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicRef:
    """What a received topic is: lab-level (``node`` None) or one node's ``kind``."""

    lab: str
    kind: str
    """``state``, ``topology``, ``control``, ``events``, ``traffic``, or a
    :class:`NodeTopic` value."""
    node: str | None = None
    view: str | None = None
    """For :attr:`NodeTopic.AZURE` and ``traffic``: the view name."""
    peer: str | None = None
    """For :attr:`NodeTopic.RIB_IN` and :attr:`NodeTopic.RIB_OUT`: the neighbour."""

    @property
    def suffix(self) -> str:
        """The topic after ``nodes/<node>/`` (``rib/in/<peer>``, ``azure/<view>``...), or
        after ``<lab>/`` for the lab's own topics (``state``)."""
        detail = self.view if self.view is not None else self.peer
        return self.kind if detail is None else f"{self.kind}/{detail}"


def parse_topic(topic: str) -> TopicRef | None:
    """Classify a topic under :data:`ROOT`; None for anything else (foreign or malformed)."""
    prefix = ROOT + "/"
    if not topic.startswith(prefix):
        return None
    levels = topic[len(prefix) :].split("/")
    lab = levels[0]
    if not lab:
        return None
    rest = levels[1:]
    if rest in (["state"], ["topology"], ["control"], ["events"]):
        return TopicRef(lab=lab, kind=rest[0])
    if len(rest) == 2 and rest[0] == "traffic" and rest[1]:
        return TopicRef(lab=lab, kind="traffic", view=rest[1])
    if len(rest) < 3 or rest[0] != "nodes" or not rest[1]:
        return None
    node, tail = rest[1], "/".join(rest[2:])
    if len(rest) == 4 and rest[2] == NodeTopic.AZURE and rest[3]:
        return TopicRef(lab=lab, kind=NodeTopic.AZURE, node=node, view=rest[3])
    if len(rest) == 5 and rest[2] == "rib" and rest[3] in ("in", "out") and rest[4]:
        return TopicRef(lab=lab, kind=NodeTopic(f"rib/{rest[3]}"), node=node, peer=rest[4])
    try:
        kind = NodeTopic(tail)
    except ValueError:
        return None
    if kind in (NodeTopic.AZURE, *_PER_PEER):
        return None
    return TopicRef(lab=lab, kind=kind, node=node)
