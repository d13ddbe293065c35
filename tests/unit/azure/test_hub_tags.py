"""hubrouting.connection_tags: every connection's tag in one pass, the same as
connection_tag's (its position in the file, from 1)."""

from __future__ import annotations

from bgpemu.azure.hubrouting import TAG_FUNCTION, connection_tag, connection_tags
from bgpemu.azure.model import AZURE_ASN
from tests.unit.azure.scenarios import scenario7, scenario9


def test_every_connection_has_the_tag_connection_tag_gives() -> None:
    for network in (scenario7(), scenario9(True)):
        tags = connection_tags(network)
        assert list(tags) == [c.name for c in network.connections]
        for position, connection in enumerate(network.connections, start=1):
            tag = connection_tag(network, connection.name)
            assert tags[connection.name] == tag == (AZURE_ASN, TAG_FUNCTION, position)
