"""The speaker configuration file of ``bgpemu speaker --config FILE.yaml``.

The file describes one speaker: its identity, where it listens, the routes it
originates and its neighbours.  Loading validates everything and reports every
problem at once, each with the file and the dotted field path; nothing starts on
error.  The result is compiled into core dataclasses (:class:`SpeakerSpec`), so
nothing below the edge imports pydantic.  Fields are documented in docs/speaker.md.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from bgpemu.config._schema_problems import problems_from_validation
from bgpemu.config.keys import KEY_SOURCES, KeySources, Md5Key
from bgpemu.config.safe_yaml import YamlProblem, parse, read_file
from bgpemu.errors import ConfigError, ConfigProblem
from bgpemu.policy import (
    MaxPrefix,
    knob_policies,
    parse_communities,
    parse_large_communities,
)
from bgpemu.rib.decision import DecisionConfig
from bgpemu.router.config import OriginatedRoute, RouterConfig
from bgpemu.router.neighbor import NeighborPolicy
from bgpemu.router.spec import NeighborSpec, SpeakerSpec
from bgpemu.session import SessionConfig
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST, Family, canonical_prefix
from bgpemu.wire.messages import AddPathMode

__all__ = ["SpeakerFile", "load_speaker_config", "parse_speaker_config"]

Asn = Annotated[int, Field(ge=1, le=4_294_967_295)]
Port = Annotated[int, Field(ge=1, le=65535)]
FamilyName = Literal["ipv4-unicast", "ipv6-unicast"]
_FAMILIES: dict[str, Family] = {"ipv4-unicast": IPV4_UNICAST, "ipv6-unicast": IPV6_UNICAST}


def _hold_time(value: int) -> int:
    """RFC 4271 §4.2: the Hold Time MUST be either zero or at least three seconds."""
    if value != 0 and value < 3:
        raise ValueError("hold time must be 0 or at least 3 seconds (RFC 4271 §4.2)")
    return value


def _router_id(value: str) -> str:
    """RFC 6286 §2.1: the BGP Identifier is a non-zero 32-bit value, written as IPv4."""
    try:
        address = ipaddress.IPv4Address(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a dotted-quad router id") from None
    if int(address) == 0:
        raise ValueError("router id must not be 0.0.0.0 (RFC 6286 §2.1)")
    return str(address)


def _ip(value: object) -> str:
    """Any IPv4 or IPv6 address, normalised."""
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError:
        raise ValueError(f"{value!s} is not an IPv4 or IPv6 address") from None


def _ip_of(version: int) -> BeforeValidator:
    def check(value: object) -> str:
        address = _ip(value)
        if ipaddress.ip_address(address).version != version:
            raise ValueError(f"{value!s} is not an IPv{version} address")
        return address

    return BeforeValidator(check)


def _route_mapping(value: object) -> object:
    """A bare prefix string is short for ``{prefix: ...}``."""
    return {"prefix": value} if isinstance(value, str) else value


IpAddress = Annotated[str, BeforeValidator(_ip)]
Ipv4Address = Annotated[str, _ip_of(4)]
Ipv6Address = Annotated[str, _ip_of(6)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RouteModel(_Model):
    """A prefix to originate, with optional attributes."""

    prefix: str
    med: Annotated[int, Field(ge=0, le=0xFFFFFFFF)] | None = None
    communities: list[str] = []
    large_communities: list[str] = []
    as_path_prepend: Annotated[int, Field(ge=0, le=10)] = 0

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return canonical_prefix(value)

    @field_validator("communities")
    @classmethod
    def _communities(cls, values: list[str]) -> list[str]:
        parse_communities(*values)  # RFC 1997: ASN:VALUE (16 bits each) or a well-known name
        return values

    @field_validator("large_communities")
    @classmethod
    def _large(cls, values: list[str]) -> list[str]:
        parse_large_communities(*values)  # RFC 8092 §3: three 32-bit fields
        return values


class NeighborModel(_Model):
    """One BGP neighbour."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    address: IpAddress
    asn: Asn
    port: Port = 179
    passive: bool = False
    hold_time: int | None = None
    connect_retry_time: Annotated[float, Field(gt=0)] | None = None
    families: list[FamilyName] = ["ipv4-unicast", "ipv6-unicast"]
    add_path: Literal["receive", "send", "both"] | None = None
    extended_message: bool = False
    local_pref: Annotated[int, Field(ge=0, le=0xFFFFFFFF)] | None = None
    prepend: Annotated[int, Field(ge=0, le=10)] = 0
    med: Annotated[int, Field(ge=0, le=0xFFFFFFFF)] | None = None
    next_hop_self: bool | None = None
    allowas_in: Annotated[int, Field(ge=0, le=10)] = 0
    max_prefix: Annotated[int, Field(ge=1)] | None = None
    max_prefix_restart: Annotated[float, Field(gt=0)] | None = None
    mrai: Annotated[float, Field(ge=0)] = 0.0
    password: Md5Key | None = None
    """TCP-MD5 key (RFC 2385): text, ``{env: NAME}`` or ``{file: PATH}`` (config/keys.py)."""

    @field_validator("hold_time")
    @classmethod
    def _hold(cls, value: int | None) -> int | None:
        return None if value is None else _hold_time(value)


class ListenModel(_Model):
    """Where the speaker accepts connections."""

    address: IpAddress = "127.0.0.1"
    port: Port = 179
    enabled: bool = True


class SpeakerFile(_Model):
    """The whole speaker configuration file."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    asn: Asn
    router_id: str
    listen: ListenModel = ListenModel()
    hold_time: int = 90
    connect_retry_time: Annotated[float, Field(gt=0)] = 30.0
    idle_hold_time: Annotated[float, Field(ge=0)] = 5.0
    max_paths: Annotated[int, Field(ge=1, le=64)] = 1
    multipath_relax: bool = False
    always_compare_med: bool = False
    next_hop: Ipv4Address | None = None
    next_hop_v6: Ipv6Address | None = None
    routes: list[Annotated[RouteModel, BeforeValidator(_route_mapping)]] = []
    neighbors: list[NeighborModel] = []

    @field_validator("router_id")
    @classmethod
    def _rid(cls, value: str) -> str:
        return _router_id(value)

    @field_validator("hold_time")
    @classmethod
    def _hold(cls, value: int) -> int:
        return _hold_time(value)


def cross_check(data: dict[str, Any], file: str) -> list[ConfigProblem]:
    """Rules that span fields, checked on the raw data so they are reported with field errors."""
    problems: list[ConfigProblem] = []
    neighbors = data.get("neighbors")
    if isinstance(neighbors, list):
        for key in ("name", "address"):
            seen: dict[str, int] = {}
            for index, neighbor in enumerate(neighbors):
                value = neighbor.get(key) if isinstance(neighbor, dict) else None
                if value is None:
                    continue
                if str(value) in seen:
                    problems.append(
                        ConfigProblem(
                            file,
                            f"neighbors[{index}].{key}",
                            f"{value!s} is already used by neighbors[{seen[str(value)]}]",
                        )
                    )
                else:
                    seen[str(value)] = index
    routes = data.get("routes")
    if isinstance(routes, list):
        for index, route in enumerate(routes):
            prefix = route.get("prefix") if isinstance(route, dict) else route
            try:
                version = ipaddress.ip_network(str(prefix), strict=True).version
            except ValueError:
                continue  # reported by the route's own validator
            field = "next_hop" if version == 4 else "next_hop_v6"
            if data.get(field) is None:
                problems.append(
                    ConfigProblem(
                        file,
                        f"routes[{index}]",
                        f"IPv{version} route {prefix} needs the top-level {field!r} field",
                        "the next hop advertised with originated routes",
                    )
                )
    return problems


def compile_speaker(model: SpeakerFile) -> SpeakerSpec:
    """Compile a validated file into the core :class:`SpeakerSpec`."""
    routes = []
    for item in model.routes:
        network = ipaddress.ip_network(item.prefix)
        routes.append(
            OriginatedRoute(
                prefix=item.prefix,
                family=IPV4_UNICAST if network.version == 4 else IPV6_UNICAST,
                med=item.med,
                communities=parse_communities(*item.communities),
                large_communities=parse_large_communities(*item.large_communities),
                as_path_prepend=item.as_path_prepend,
            )
        )
    router = RouterConfig(
        asn=model.asn,
        router_id=model.router_id,
        next_hop_v4=model.next_hop,
        next_hop_v6=model.next_hop_v6,
        routes=tuple(routes),
        decision=DecisionConfig(
            max_paths=model.max_paths,
            multipath_relax=model.multipath_relax,
            always_compare_med=model.always_compare_med,
        ),
        neighbors=tuple(_neighbor_policy(n) for n in model.neighbors),
    )
    neighbors = []
    for n in model.neighbors:
        families = tuple(_FAMILIES[f] for f in n.families)
        add_path = _add_path(n.add_path, families)
        session = SessionConfig(
            local_as=model.asn,
            peer_as=n.asn,
            bgp_identifier=model.router_id,
            hold_time=model.hold_time if n.hold_time is None else n.hold_time,
            connect_retry_time=n.connect_retry_time or model.connect_retry_time,
            idle_hold_time=model.idle_hold_time,
            passive=n.passive,
            families=families,
            add_path=add_path,
            extended_message=n.extended_message,
            peer_name=n.name,
        )
        neighbors.append(
            NeighborSpec(
                name=n.name,
                address=n.address,
                port=n.port,
                session=session,
                tcp_md5_key=n.password,
            )
        )
    return SpeakerSpec(
        name=model.name,
        local_address=model.listen.address,
        port=model.listen.port,
        listen=model.listen.enabled,
        router=router,
        neighbors=tuple(neighbors),
    )


def _neighbor_policy(n: NeighborModel) -> NeighborPolicy:
    """The router-side knobs of a neighbour as import/export policies."""
    import_policy, export_policy = knob_policies(
        n, import_name=f"import-{n.name}", export_name=f"export-{n.name}"
    )
    return NeighborPolicy(
        name=n.name,
        import_policy=import_policy,
        export_policy=export_policy,
        next_hop_self=n.next_hop_self,
        allowas_in=n.allowas_in,
        max_prefix=None
        if n.max_prefix is None
        else MaxPrefix(n.max_prefix, restart_after=n.max_prefix_restart),
        mrai=n.mrai,
    )


def _add_path(
    mode: str | None, families: tuple[Family, ...]
) -> tuple[tuple[Family, AddPathMode], ...]:
    if mode is None:
        return ()
    value = {"receive": AddPathMode.RECEIVE, "send": AddPathMode.SEND, "both": AddPathMode.BOTH}
    return tuple((family, value[mode]) for family in families)


def _yaml_problem(file: str, problem: YamlProblem) -> ConfigProblem:
    where = f"line {problem.line}" if problem.line is not None else ""
    return ConfigProblem(file, where, problem.message, problem.hint)


def parse_speaker_config(
    text: str, file: str = "<config>", keys: KeySources | None = None
) -> SpeakerSpec:
    """Parse YAML text; raises :class:`ConfigError` listing every problem found.

    ``keys``: where TCP-MD5 key references start from (config/keys.py)."""
    parsed = parse(text)
    if isinstance(parsed, YamlProblem):
        raise ConfigError([_yaml_problem(file, parsed)])
    data = parsed.data
    if not isinstance(data, dict):
        raise ConfigError([ConfigProblem(file, "", "the file must hold a mapping of fields")])
    problems = cross_check(data, file)
    try:
        model = SpeakerFile.model_validate(data, context={KEY_SOURCES: keys or KeySources()})
    except ValidationError as exc:
        problems = problems_from_validation(file, exc) + problems
    if problems:
        raise ConfigError(problems)
    return compile_speaker(model)


def load_speaker_config(path: str | Path) -> SpeakerSpec:
    """Read and validate a speaker configuration file."""
    text = read_file(path)
    if isinstance(text, YamlProblem):
        raise ConfigError([_yaml_problem(str(path), text)])
    return parse_speaker_config(text, str(path), KeySources(base=Path(path).parent))
