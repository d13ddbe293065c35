"""An external mosquitto killed and restarted mid-run (issue 12, "prove the rest").

The broker runs without persistence, so after its restart it holds nothing: every
publisher of the lab (one per speaker in the workers, and the lab's own for its state
and the Azure views) must notice, reconnect with a bounded backoff, say so in one
log line each way, and publish everything again.  The retained state is then equal to
``bgpemu solve``'s, even though the tables changed while the broker was away.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from pathlib import Path

import pytest

from bgpemu.azure.converge import solve
from bgpemu.lab.supervisor import TcpLab
from bgpemu.observe.mqtt import Observer, Publisher
from bgpemu.router.config import OriginatedRoute
from bgpemu.topology import load_topology
from bgpemu.types import IPV4_UNICAST
from tests.helpers import free_port
from tests.lab.conftest import Mosquitto
from tests.lab.publishing import publishing
from tests.lab.retained import wait_retained_equal

TOPOLOGIES = Path(__file__).resolve().parents[2] / "topologies"
pytestmark = pytest.mark.integration


async def test_a_broker_restart_mid_run_is_followed_by_a_complete_republication(
    mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bgpemu.observe.mqtt")
    network = load_topology(TOPOLOGIES / "s2s-transit.yaml")
    fabric = solve(network)
    async with (
        TcpLab(network, processes=2, port=free_port("127.0.10.1"), mqtt=mosquitto.url) as lab,
        publishing(lab, mosquitto.url),
    ):
        mosquitto.kill()
        # The lab routes on while the broker is away; its tables change twice.
        route = OriginatedRoute(prefix="10.99.0.0/16", family=IPV4_UNICAST)
        await lab.announce("SiteB", route)
        await lab.converged(timeout=30)
        await lab.withdraw("SiteB", IPV4_UNICAST, "10.99.0.0/16")
        await lab.converged(timeout=30)
        mosquitto.start()  # same port, empty: no persistence
        await lab.flush(timeout=30)
        async with Observer(mosquitto.url, lab=lab.name) as observer:
            await wait_retained_equal(observer, fabric, timeout=30)
            topic = observer.topics.state
            await observer.wait_for(
                lambda: observer.documents.get(topic, {}).get("converged") is True, 30
            )
            for speaker in fabric.snapshots:
                assert observer.node(speaker)["status"]["status"] == "online", speaker
    # The lab's own publisher said it lost the broker and when it was back (the
    # workers' publishers log the same lines in their processes).
    lost = [r for r in caplog.records if "lost the connection to MQTT broker" in r.getMessage()]
    back = [r for r in caplog.records if "reconnected to MQTT broker" in r.getMessage()]
    assert lost
    assert lost[0].levelno == logging.WARNING
    assert back
    assert "republishing" in back[0].getMessage()


async def test_connection_attempts_to_a_frozen_broker_are_not_left_open(
    mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    """A broker that accepts TCP but does not answer (SIGSTOP) fails each attempt by the
    CONNACK timeout.  Each abandoned attempt must be closed: left open, the broker
    answers them all once it runs again, each one taking the client id over from the
    live connection ('closing old connection' in its log), and their late
    disconnections log 'Future exception was never retrieved'."""
    caplog.set_level(logging.ERROR, logger="asyncio")
    assert mosquitto.process is not None
    async with Publisher(
        mosquitto.url, lab="frozen", node="n1", timeout=0.3, backoff=(0.05, 0.2)
    ) as pub:
        pub.update("bgpemu/v1/frozen/nodes/n1/info", {"n": 1})
        await pub.flush(10)
        mosquitto.process.send_signal(signal.SIGSTOP)
        try:
            pub.update("bgpemu/v1/frozen/nodes/n1/info", {"n": 2})
            await pub.wait_disconnected(10)
            await asyncio.sleep(2.0)  # a handful of failed attempts (0.3 s each + backoff)
        finally:
            mosquitto.process.send_signal(signal.SIGCONT)
        await pub.flush(10)
        connections = pub.connections
        await asyncio.sleep(1.0)  # time for late answers to abandoned attempts to arrive
        assert pub.connections == connections  # the live connection was not taken over
    gc.collect()
    await asyncio.sleep(0)
    assert "never retrieved" not in caplog.text
