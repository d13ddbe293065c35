"""A lab worker's MQTT publishing: one publisher and table feed per speaker it runs.

Each speaker of a worker (:mod:`bgpemu.lab.worker`) has its own MQTT client
(:class:`~bgpemu.observe.mqtt.Publisher`), so its ``status`` turns ``offline``
through the MQTT will if the process dies, and its own
:class:`~bgpemu.observe.speaker_feed.SpeakerFeed`; the feeds of the process take turns through
one :class:`~bgpemu.observe.speaker_feed.Pacer` (architecture decision 8: observation never
slows routing).  :class:`Feeds` starts them, publishes each speaker's ``info``
(again when its neighbours change), flushes on the parent's ``Flush`` and, when a
speaker leaves the topology, clears its retained tables.

The worker imports this module only when the lab has a broker: a lab without MQTT
never loads the MQTT client.
"""

from __future__ import annotations

import asyncio
import contextlib

from bgpemu.azure.plan import Endpoint
from bgpemu.observe.mqtt import Publisher
from bgpemu.observe.payloads import info_payload
from bgpemu.observe.speaker_feed import Pacer, SpeakerFeed
from bgpemu.observe.url import BrokerAddress
from bgpemu.runtime import Speaker

__all__ = ["Feeds"]

_FLUSH_TIMEOUT = 30.0
"""Seconds to wait for the broker when a removed speaker's tables are cleared."""


class Feeds:
    """The publishers and table feeds of one worker's speakers (in the worker's
    TaskGroup; the publishers close with its ``stack``)."""

    def __init__(
        self,
        broker: str | BrokerAddress,
        lab: str,
        stack: contextlib.AsyncExitStack,
        tg: asyncio.TaskGroup,
    ) -> None:
        self.broker = broker
        self.lab = lab
        self.stack = stack
        self.tg = tg
        self.pacer = Pacer()
        """The feeds of this process take turns to publish."""
        self.feeds: list[tuple[SpeakerFeed, Publisher]] = []
        self.endpoints: dict[str, Endpoint] = {}
        """Each published speaker's endpoint (its ``info``: role, ASN, addresses)."""
        self.tasks: dict[str, asyncio.Task[None]] = {}

    async def start(self, speaker: Speaker, endpoint: Endpoint) -> None:
        """Publish ``speaker``'s ``info`` and start its table feed."""
        name = speaker.spec.name
        publisher = await self.stack.enter_async_context(
            Publisher(self.broker, lab=self.lab, node=name)
        )
        self.endpoints[name] = endpoint
        self.info(speaker, publisher)
        feed = SpeakerFeed(speaker, publisher, pacer=self.pacer)
        self.feeds.append((feed, publisher))
        self.tasks[name] = self.tg.create_task(feed.run(), name=f"mqtt feed {name}")

    def changed(self, speaker: Speaker) -> None:
        """``speaker``'s neighbours may have changed: publish its ``info`` again."""
        for feed, publisher in self.feeds:
            if feed.speaker is speaker:
                self.info(speaker, publisher)

    def info(self, speaker: Speaker, publisher: Publisher) -> None:
        """Publish ``speaker``'s ``info`` document (its neighbours change with the topology)."""
        name = speaker.spec.name
        endpoint = self.endpoints[name]
        publisher.update(
            publisher.topics.info,
            info_payload(
                name,
                role=endpoint.role,
                asn=endpoint.asn,
                router_id=speaker.spec.router.router_id,
                addresses=[endpoint.azure_address, endpoint.lab_address],
                neighbors=[n.name for n in speaker.spec.neighbors],
                topology_node=endpoint.node,
                instance=endpoint.instance,
                port=speaker.bound_port,
            ),
        )

    async def flush(self, timeout: float) -> None:
        """Publish every speaker's current tables and wait, at most ``timeout`` seconds
        (the parent's deadline), until the broker has them (ValueError otherwise)."""
        try:
            async with asyncio.timeout(timeout):
                for feed, _publisher in self.feeds:
                    await feed.publish()
                for _feed, publisher in self.feeds:
                    await publisher.flush(timeout)
        except TimeoutError:
            waiting = sorted(f.speaker.spec.name for f, p in self.feeds if p.pending())
            raise ValueError(
                f"the MQTT broker had not taken every table within {timeout:g} s "
                f"(still to publish: {', '.join(waiting) or 'acknowledgements'})"
            ) from None

    async def stop(self, speaker: Speaker, *, clear: bool) -> None:
        """Stop publishing ``speaker`` (its ``status`` goes ``offline``); ``clear`` also
        removes its retained documents (the node left the topology)."""
        task = self.tasks.pop(speaker.spec.name, None)
        if task is not None:
            task.cancel()
        for entry in [e for e in self.feeds if e[0].speaker is speaker]:
            self.feeds.remove(entry)
            publisher = entry[1]
            if clear:
                publisher.clear(publisher.topics.info)
                for topic in entry[0].table_topics():
                    publisher.clear(topic)
                with contextlib.suppress(TimeoutError):
                    await publisher.flush(_FLUSH_TIMEOUT)
            await publisher.__aexit__(None, None, None)  # status offline; the stack's exit
            # later does nothing more

    def cancel(self) -> None:
        """Stop every feed (the worker is stopping; the publishers close with the stack)."""
        for task in self.tasks.values():
            task.cancel()
