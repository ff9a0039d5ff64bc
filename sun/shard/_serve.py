"""A shard worker as a service: its bus, its heartbeats, its consumer group, and a clean leave
on SIGTERM / SIGINT (the worker's own logic is :mod:`sun.shard._worker`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from bus import BarSeries, BusConfig, RedisBus, RedisSecurity, stop_on_signals
from sun.shard._config import ShardConfig
from sun.shard._worker import ShardWorker, UniverseDecider, WorkerStats


async def serve_shard(
    url: str,
    decider: UniverseDecider,
    history: Mapping[str, BarSeries],
    *,
    pool: str = "default",
    prefix: str = "heliarch:",
    name: str,
    config: ShardConfig | None = None,
    benchmark: BarSeries | None = None,
    bus_config: BusConfig | None = None,
    security: RedisSecurity | None = None,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[ShardWorker], None] | None = None,
) -> WorkerStats:
    """Run a shard worker until ``stop`` is set (or SIGTERM/SIGINT in the main thread).

    It joins the pool (heartbeats every ``config.heartbeat_s``), consumes the pool's ticks
    in its own consumer group (every worker sees every tick) and leaves the pool on exit,
    which hands its instruments to the others at once.
    """
    stop = stop or asyncio.Event()
    uninstall = stop_on_signals(stop)
    config = config or ShardConfig()
    bus = RedisBus(url, prefix=prefix, config=bus_config or config.bus_config(), security=security)
    worker = ShardWorker(
        bus, decider, history, pool=pool, name=name, config=config, benchmark=benchmark
    )
    try:
        await worker.members.beat(name)
        await bus.subscribe(worker.keys.ticks, worker.handle, group=name, consumer=name)
        if on_ready is not None:
            on_ready(worker)
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), worker.config.heartbeat_s)
            except TimeoutError:
                await worker.members.beat(name)
                await bus.ensure_group(worker.keys.ticks, name)  # pruned while we were away
    finally:
        uninstall()
        try:
            await worker.members.leave(name)
        finally:
            await bus.close()
    return worker.stats
