"""The one route record: wire attributes to the record and to its JSON shape."""

from __future__ import annotations

import json

from bgpemu.observe.tables import RouteEncoder
from bgpemu.observe.topics import NodeTopic
from bgpemu.rib.route import (
    ATTRIBUTE_FIELDS,
    RibRoute,
    as_path_text,
    attribute_doc,
    route_doc,
    route_from_doc,
    route_of,
)
from bgpemu.router.table import path_json
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST
from bgpemu.wire.messages import Origin, PathAttributes
from tests.unit.rib.factories import aset, path, peer, seq

ATTRS = PathAttributes(
    origin=Origin.INCOMPLETE,
    as_path=(seq(65001, 65002), aset(64512, 64513)),
    next_hop="2001:db8::1",
    med=7,
    local_pref=200,
    communities=(65001 << 16 | 9, 0xFFFF_FF01),
    large_communities=((4200000000, 1, 2),),
)


def test_attribute_doc_converts_every_attribute_field() -> None:
    """RFC 1997 communities as asn:value, RFC 8092 as a:b:c, AS_SET flattened, ORIGIN named."""
    assert attribute_doc(ATTRS) == {
        "next_hop": "2001:db8::1",
        "as_path": [65001, 65002, 64512, 64513],
        "origin": "incomplete",
        "local_pref": 200,
        "med": 7,
        "communities": ["65001:9", "65535:65281"],
        "large_communities": ["4200000000:1:2"],
    }
    assert sorted(attribute_doc(PathAttributes())) == sorted(ATTRIBUTE_FIELDS)
    assert attribute_doc(PathAttributes())["origin"] is None


def test_the_record_and_its_json_hold_the_same_fields_in_the_same_order() -> None:
    route = route_of(
        IPV6_UNICAST, "2001:db8:1::/48", ATTRS, peer="hub", weight=3, best=True, reason="x"
    )
    assert isinstance(route, RibRoute)
    assert route.as_path == (65001, 65002, 64512, 64513)
    doc = route_doc(route)
    assert list(doc) == list(RibRoute.__dataclass_fields__)
    assert route_from_doc(json.loads(json.dumps(doc))) == route
    assert doc == {
        "prefix": "2001:db8:1::/48",
        "family": "ipv6-unicast",
        **attribute_doc(ATTRS),
        "weight": 3,
        "peer": "hub",
        "best": True,
        "multipath": False,
        "reason": "x",
    }


def test_the_feed_text_and_the_solve_shape_agree_with_the_record() -> None:
    """Three outputs of one route: the MQTT text, the record's JSON, the solve path."""
    source = peer("e1")
    held = path(prefix="10.1.0.0/24", source=source, attributes=ATTRS)
    text = RouteEncoder().group(NodeTopic.RIB_IN, IPV4_UNICAST, "10.1.0.0/24", held, None)
    assert json.loads(text) == route_doc(route_of(IPV4_UNICAST, "10.1.0.0/24", ATTRS, peer="e1"))
    solve = path_json(held)
    assert list(solve) == [
        "next_hop",
        "as_path",
        "origin",
        "med",
        "local_pref",
        "communities",
        "large_communities",
        "peer",
    ]
    assert solve == {**attribute_doc(ATTRS), "peer": "e1"}


def test_as_path_text() -> None:
    assert as_path_text((65520, 65520, 65002)) == "65520-65520-65002"
    assert as_path_text([65001, 65002], " ") == "65001 65002"
    assert as_path_text(()) == ""
