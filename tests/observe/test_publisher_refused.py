"""A document the broker refuses does not wedge the publisher (issue 16).

mosquitto 2.0.11 closes an MQTT 3.1.1 connection that publishes, at QoS 1, on a topic its
ACL does not let the account write ("Bad socket read/write").  Before the fix the
publisher reconnected, sent the same retained document first again, and was cut off
again, forever: the lab's control answers (its events) and every other document stayed
queued, and ``bgpemu withdraw`` waited for an answer that never came.

Here a real mosquitto's ACL lets anonymous clients write everything of the lab but its
``topology``: the events and the other documents still get out, the refused topic is
logged once (naming the topic, the broker and the ACL), and the publisher stops sending
it instead of reconnecting in a loop; a new version of the document is tried again.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bgpemu.observe.mqtt import Follower, Publisher
from bgpemu.observe.topics import LabTopics
from tests.integration._daemon_base import require_binary
from tests.observe.conftest import Mosquitto

pytestmark = pytest.mark.integration

LAB = "refused"
WAIT = 20.0
ACL = """\
topic read bgpemu/v1/#
topic write bgpemu/v1/+/state
topic write bgpemu/v1/+/events
topic write bgpemu/v1/+/nodes/#
"""


class AclMosquitto(Mosquitto):
    """mosquitto whose ACL does not let anonymous clients write a lab's ``topology``."""

    def __init__(self, binary: str, workdir: Path) -> None:
        super().__init__(binary, workdir)
        acl = workdir / "acl"
        acl.write_text(ACL)
        with self.config.open("a") as config:
            # as root it would drop to the 'mosquitto' user, who cannot read the ACL
            config.write(f"user {getpass.getuser()}\nacl_file {acl}\n")


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[AclMosquitto]:
    running = AclMosquitto(require_binary("mosquitto"), tmp_path)
    running.start()
    try:
        yield running
    finally:
        running.stop()


async def test_a_refused_document_does_not_stop_the_others(
    broker: AclMosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    topics = LabTopics(lab=LAB)
    seen: dict[str, list[bytes]] = {}
    arrived = asyncio.Event()

    def on_message(topic: str, payload: bytes) -> None:
        seen.setdefault(topic, []).append(payload)
        arrived.set()

    async def until(what: str, check: Callable[[], bool]) -> None:
        """Wait for ``what`` (an AssertionError naming it after WAIT seconds)."""
        try:
            async with asyncio.timeout(WAIT):
                while not check():
                    arrived.clear()
                    await arrived.wait()
        except TimeoutError:
            raise AssertionError(f"{what}: not seen in {WAIT} s ({sorted(seen)})") from None

    caplog.set_level(logging.DEBUG, logger="bgpemu.observe.mqtt")
    publisher = Publisher(broker.url, lab=LAB, node="_lab", node_status=False, backoff=(0.05, 0.2))
    # the lab's own publisher: the refused topology document first, then the others
    publisher.update(topics.topology, b"name: refused\n")
    publisher.update(topics.state, b'{"state": "running"}')
    async with Follower(broker.url, [topics.all], on_message) as follower:
        await follower.wait_connected(WAIT)
        async with publisher:
            publisher.event(b'{"request": "r1", "event": "injected"}', topics.events)
            await until(
                "the answer and the state", lambda: {topics.events, topics.state} <= seen.keys()
            )
            await asyncio.sleep(1.0)  # the refused document is sent meanwhile
            # a control answer sent later still gets out too
            publisher.event(b'{"request": "r1", "event": "converged"}', topics.events)
            await until("the second answer", lambda: len(seen[topics.events]) == 2)
            # the refused document is not sent again and again: the connections settle
            settled = publisher.connections
            await asyncio.sleep(1.0)
            assert publisher.connections == settled <= 3
            assert topics.topology not in seen
            # the same version again is not sent again
            publisher.update(topics.topology, b"name: refused\n")
            await publisher.flush(WAIT)
            await asyncio.sleep(0.5)
            assert publisher.connections == settled
            # a new version of the document is tried again (and refused again, once)
            publisher.update(topics.topology, b"name: refused-2\n")
            publisher.update(topics.state, b'{"state": "applied"}')
            await until("the new state", lambda: b'{"state": "applied"}' in seen[topics.state])
            async with asyncio.timeout(WAIT):  # its drop may come after the new state
                while publisher.refused != {topics.topology}:  # noqa: ASYNC110 (no event)
                    await asyncio.sleep(0.05)
            assert publisher.connections <= settled + 2
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, caplog.text  # logged once, though refused twice over
    message = errors[0].getMessage()
    assert topics.topology in message
    assert broker.url in message
    assert "ACL" in message
    assert "Traceback" not in caplog.text


async def test_only_the_document_the_broker_cuts_on_is_set_aside(tmp_path: Path) -> None:
    """A broker that cuts without acknowledging (mosquitto's ``max_packet_size``): the
    document acknowledged just before the cut is not blamed with it.  (A first version
    blamed the last acknowledged document and set aside, one after the other, the node's
    info and status before its table.)"""
    broker = Mosquitto(require_binary("mosquitto"), tmp_path)
    with broker.config.open("a") as config:
        config.write("max_packet_size 2000\n")
    broker.start()
    topics = LabTopics(lab=LAB).node("hub")
    try:
        publisher = Publisher(broker.url, lab=LAB, node="hub", backoff=(0.05, 0.2))
        publisher.update(topics.rib_loc, b"{" + b" " * 5000 + b"}")
        publisher.update(topics.info, b'{"role": "vwan_hub"}')
        async with publisher:
            async with asyncio.timeout(WAIT):
                while not publisher.refused:  # noqa: ASYNC110 (no event)
                    await asyncio.sleep(0.05)
            await publisher.flush(WAIT)
            assert publisher.refused == {topics.rib_loc}
            assert publisher.connections <= 3
    finally:
        broker.stop()
