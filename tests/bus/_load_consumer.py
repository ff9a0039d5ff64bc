"""A bus consumer process for the reliability test and the benchmark (killed with SIGKILL),
plus the Redis key cleanup the bus tests share.

Each applied message increments ``<prefix>applied[<envelope id>]`` through a staged command,
so the increment commits atomically with the idempotency record and the acknowledgement.
A message whose payload has ``fail_first`` raises on its first delivery. Started with
``--hang-after N``, the consumer hangs inside its handler after N messages (and says so under
``<prefix>hung:<name>``), so the test kills a consumer that certainly holds an unacknowledged
message instead of hoping the SIGKILL lands mid-batch.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import time

import redis.asyncio as aioredis

from bus import BusConfig, RedisBus, current_delivery
from bus._envelope import Envelope

LOAD_CONFIG = BusConfig(
    max_deliveries=3,
    visibility_timeout_s=1.0,
    reclaim_interval_s=0.2,
    max_backlog=10_000,
    backpressure_wait_s=20.0,
    batch_size=200,
    block_ms=100,
    trim_interval_s=0.05,
)


class Handler:
    """Applies load messages; optionally hangs forever after ``hang_after`` of them."""

    def __init__(self, bus: RedisBus, name: str, hang_after: int | None = None) -> None:
        self.bus = bus
        self.name = name
        self.hang_after = hang_after
        self.handled = 0

    async def __call__(self, envelope: Envelope) -> None:
        if self.hang_after is not None and self.handled >= self.hang_after:
            prefix = envelope.payload["prefix"]
            await self.bus.client.set(f"{prefix}hung:{self.name}", envelope.id)
            await asyncio.Event().wait()
        await handle(envelope)
        self.handled += 1


async def handle(envelope: Envelope) -> None:
    """Apply one load message (exactly once, via staged Redis commands)."""
    delivery = current_delivery()
    if envelope.payload.get("fail_first") and delivery.attempt == 1:
        raise RuntimeError(f"injected failure of {envelope.id}")
    prefix = envelope.payload["prefix"]
    delivery.stage("HINCRBY", f"{prefix}applied", envelope.id, 1)
    if envelope.payload.get("latency"):
        millis = (time.time() - envelope.timestamp.timestamp()) * 1000
        delivery.stage("RPUSH", f"{prefix}latency", f"{millis:.3f}")


async def pending_of(bus: RedisBus, consumer: str) -> int:
    """Load messages delivered to ``consumer`` and not acknowledged, over all its lanes."""
    total = 0
    for stream in bus.keys.streams_of("load"):
        summary = await bus.client.xpending(stream, "load")
        total += sum(c["pending"] for c in summary["consumers"] if c["name"] == consumer.encode())
    return total


async def delete_prefix(url: str, prefix: str) -> None:
    """Remove every key under ``prefix`` (test and benchmark cleanup)."""
    client = aioredis.Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def main(url: str, prefix: str, name: str, hang_after: int | None) -> None:
    bus = RedisBus(url, prefix=prefix, config=LOAD_CONFIG)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await bus.subscribe("load", Handler(bus, name, hang_after), group="load", consumer=name)
    await bus.client.set(f"{prefix}ready:{name}", "1")
    await stop.wait()
    await bus.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--hang-after", type=int, default=None)
    args = parser.parse_args()
    asyncio.run(main(args.url, args.prefix, args.name, args.hang_after))
