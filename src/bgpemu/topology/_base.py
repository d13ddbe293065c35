"""Field types shared by the topology models: names, prefixes, addresses, ASNs.

Every value is normalised on the way in (``10.1.0.0/16`` stays a string, but
``2001:DB8::/32`` becomes ``2001:db8::/32``), so later checks compare strings safely.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, TypeVar, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from bgpemu.policy.communities import parse_community
from bgpemu.types import canonical_prefix

__all__ = [
    "NAME_PATTERN",
    "U32",
    "Asn",
    "Community",
    "IpAddress",
    "Ipv4Address",
    "Ipv4Prefix",
    "Model",
    "Name",
    "Prefix",
    "Prepend",
    "models_by_tag",
    "prefix_or_address",
]

NAME_PATTERN = r"^[A-Za-z0-9_-]+$"
"""Node and connection names; ``.`` is reserved for instances (``gw.0``, ``er1.primary``)."""


class Model(BaseModel):
    """Base of every topology model: unknown keys refused, ARM-style camelCase keys.

    The docstring under a field is its description in the JSON Schema; the schema reads
    it (:mod:`bgpemu.topology.schema`), not pydantic's ``use_attribute_docstrings``,
    which parses the source of every model when it is defined: 20-35 ms of every
    command's start for a text only the schema shows.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        validate_by_name=False,
        validate_by_alias=True,
        serialize_by_alias=True,
        field_title_generator=lambda name, info: info.alias or name,
    )


M = TypeVar("M", bound=Model)


def models_by_tag(union: object, tag: str, base: type[M]) -> dict[str, type[M]]:
    """Each member of a discriminated union of models (``Annotated[A | B, Field(discriminator=
    tag)]``) under the literal value of its ``tag`` field, in the union's order: the
    lookup table of a ``role`` or ``type``, read from the union instead of written again.
    TypeError for a member that is not a ``base``."""
    table: dict[str, type[M]] = {}
    for member in get_args(get_args(union)[0]):
        if not (isinstance(member, type) and issubclass(member, base)):
            raise TypeError(f"{member!r} in the union is not a {base.__name__}")
        (value,) = get_args(member.model_fields[tag].annotation)
        table[value] = member
    return table


def prefix_or_address(value: str) -> str:
    """A prefix (no host bits) or a bare address, normalised; ValueError naming it."""
    if "/" not in value:
        return _address(value)
    return canonical_prefix(value)


def _ipv4_prefix(value: str) -> str:
    prefix = canonical_prefix(value)
    if ipaddress.ip_network(prefix).version != 4:
        raise ValueError(f"{value!r} is not an IPv4 prefix")
    return prefix


def _address(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv4 or IPv6 address") from None


def _ipv4_address(value: str) -> str:
    address = _address(value)
    if ipaddress.ip_address(address).version != 4:
        raise ValueError(f"{value!r} is not an IPv4 address")
    return address


def _community(value: str) -> str:
    parse_community(value)  # RFC 1997: ASN:VALUE (16 bits each) or a well-known name
    return value


Name = Annotated[str, Field(min_length=1)]
"""A reference to a node or connection (its pattern is checked with the names, §names)."""
Prefix = Annotated[str, AfterValidator(canonical_prefix)]
Ipv4Prefix = Annotated[str, AfterValidator(_ipv4_prefix)]
IpAddress = Annotated[str, AfterValidator(_address)]
Ipv4Address = Annotated[str, AfterValidator(_ipv4_address)]
Asn = Annotated[int, Field(ge=1, le=4_294_967_295)]
U32 = Annotated[int, Field(ge=0, le=4_294_967_295)]
Prepend = Annotated[int, Field(ge=0, le=10)]
Community = Annotated[str, AfterValidator(_community)]
