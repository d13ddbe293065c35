"""What every test gets: no hypothesis deadline, and no MQTT client left connected once
its event loop is closed.

Hypothesis's default deadline (200 ms an example) fails a property on a busy machine
(CI shares two cores with the lab and daemon tests): 46 of the suite's settings
already turned it off one by one; the profile below does it once for all.

aiomqtt closes a client's socket from the event loop.  A client a test (or the code it
runs) leaves connected when the test's loop closes is collected later, during whichever
test runs then, and fails it with "Event loop is closed" from ``Client.__del__``: the
failure lands far from its cause.  Every aiomqtt client is tracked; after each test,
one still connected on a closed loop fails that test, naming it, and is closed
without the loop.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Any

import aiomqtt
import pytest
from hypothesis import settings

settings.register_profile("bgpemu", deadline=None)
settings.load_profile("bgpemu")

_clients: weakref.WeakSet[aiomqtt.Client] = weakref.WeakSet()
_init = aiomqtt.Client.__init__


def _tracked_init(self: aiomqtt.Client, *args: Any, **kwargs: Any) -> None:
    _init(self, *args, **kwargs)
    _clients.add(self)


aiomqtt.Client.__init__ = _tracked_init  # type: ignore[method-assign]


def _left_open() -> list[aiomqtt.Client]:
    return [c for c in list(_clients) if c._client.socket() is not None and c._loop.is_closed()]


@pytest.fixture(autouse=True)
def _no_mqtt_client_left_connected(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    left = _left_open()
    for client in left:
        paho = client._client
        paho.on_socket_close = None
        paho.on_socket_unregister_write = None
        paho._sock_close()
    if left:
        pytest.fail(
            f"{request.node.nodeid} left {len(left)} MQTT client(s) connected after its "
            "event loop closed (enter clients through bgpemu.observe.mqtt.connect.connection)",
            pytrace=False,
        )
