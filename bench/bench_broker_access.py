"""What the embedded broker's access rules cost: retained PUBLISHes through an open
broker, a broker with a lab account and protected topics (bgpemu/v1/#) used by an
authenticated client, and the same broker refusing an anonymous client (each PUBLISH
dropped, PUBACK sent, logged once).

One raw client pipelines N QoS 1 retained PUBLISHes of ``--size`` bytes on distinct
topics (bgpemu/v1/bench/nodes/n<i>/rib/loc), then reads the N PUBACKs; the time from the
first write to the last PUBACK, median of ``--repeat`` runs per mode, a fresh broker
each run (same process, one event loop: the broker's own cost plus our codec's).

    PYTHONPATH=src .venv/bin/python bench/bench_broker_access.py [--messages 50000] \\
        [--size 1024] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import time

from bgpemu.mqttbroker import Broker
from bgpemu.mqttbroker.codec import Decoder, encode
from bgpemu.mqttbroker.packets import Connack, Connect, Puback, Publish

USERS = {"lab": "secret"}
PROTECTED = ("bgpemu/v1/#",)


async def _run(mode: str, messages: int, size: int) -> tuple[float, int]:
    """Seconds for ``messages`` PUBLISH/PUBACK, and how many documents were retained."""
    secured = mode != "open"
    username, password = ("lab", b"secret") if mode == "authenticated" else (None, None)
    broker = Broker(
        port=0, users=USERS if secured else None, protected=PROTECTED if secured else ()
    )
    async with broker:
        reader, writer = await asyncio.open_connection("127.0.0.1", broker.port)
        decoder = Decoder(protocol_level=4)
        connect = Connect(protocol_level=4, client_id="bench", username=username, password=password)
        writer.write(encode(connect, 4))
        (connack,) = decoder.feed(await reader.read(4))
        assert isinstance(connack, Connack)
        assert connack.reason_code == 0
        payload = b"x" * size
        data = b"".join(
            encode(
                Publish(
                    topic=f"bgpemu/v1/bench/nodes/n{i}/rib/loc",
                    payload=payload,
                    qos=1,
                    retain=True,
                    packet_id=i % 65535 + 1,
                ),
                4,
            )
            for i in range(messages)
        )
        start = time.perf_counter()
        writer.write(data)
        acks = 0
        while acks < messages:
            chunk = await reader.read(1 << 20)
            assert chunk, "broker closed the connection"
            acks += sum(isinstance(p, Puback) for p in decoder.feed(chunk))
        took = time.perf_counter() - start
        retained = broker.retained_count
        writer.close()
        return took, retained


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print(f"{args.messages} retained QoS 1 PUBLISHes of {args.size} bytes, median of {args.repeat}")
    for mode in ("open", "authenticated", "anonymous-refused"):
        runs = [await _run(mode, args.messages, args.size) for _ in range(args.repeat)]
        median = statistics.median(t for t, _ in runs)
        print(
            f"{mode:18s} {median:7.3f} s  {median / args.messages * 1e6:6.1f} us/PUBLISH  "
            f"retained {runs[0][1]}"
        )


if __name__ == "__main__":
    asyncio.run(main())
