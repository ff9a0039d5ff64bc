"""The coordinator's lease and a standby taking over the ticks a crashed coordinator left open."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from _shard_helpers import CONFIG, Clock, untraced
from typer.testing import CliRunner

from bus import BarSeries, MarketSnapshot, RedisBus, to_datetime
from heliarch.cli import app
from sun import Sun
from sun.shard import CoordinatorBusy, ShardCoordinator, ShardTick, ShardWorker


async def _published_open_tick(coordinator: ShardCoordinator) -> ShardTick:
    for _ in range(500):
        if ticks := await coordinator.open_ticks():
            return ticks[0]
        await asyncio.sleep(0.01)
    raise AssertionError("the tick was never published")


async def test_one_coordinator_per_pool_until_it_stops(bus: RedisBus, clock: Clock) -> None:
    first = ShardCoordinator(bus, pool="p", config=CONFIG, clock=clock, run="first")
    second = ShardCoordinator(bus, pool="p", config=CONFIG, clock=clock, run="second")
    await first.start()
    with pytest.raises(CoordinatorBusy, match="coordinator-first"):
        await second.start()
    await first.stop()  # a clean stop gives the lease up at once
    await second.start()
    await second.stop()


async def test_a_standby_finishes_the_tick_a_crashed_coordinator_left_open(
    bus: RedisBus, sun: Sun, universe: tuple[dict[str, BarSeries], BarSeries], clock: Clock
) -> None:
    history, benchmark = universe
    names = sorted(history)
    as_of = to_datetime(benchmark.timestamps[-1])
    crashed = ShardCoordinator(bus, pool="p", config=CONFIG, clock=clock, run="crashed")
    standby = ShardCoordinator(bus, pool="p", config=CONFIG, clock=clock, run="standby")
    worker = ShardWorker(
        bus, sun, history, pool="p", name="w", config=CONFIG, benchmark=benchmark, clock=clock
    )
    await worker.members.beat("w")
    waiting = asyncio.create_task(crashed.tick(as_of, names))
    tick = await _published_open_tick(standby)
    waiting.cancel()  # the coordinator is gone mid-tick: no cleanup, its lease still stamped
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
    with pytest.raises(CoordinatorBusy, match="coordinator-crashed"):
        await standby.take_over()

    assert sorted((await worker.step(tick)).published) == names  # workers go on without it
    clock.advance(CONFIG.lease_ttl_s + 0.1)  # the crashed coordinator's lease expires
    try:
        (result,) = await standby.take_over()
    finally:
        await standby.stop()
        await crashed.stop()
    assert result.tick == tick.tick and sorted(result.decisions) == names
    assert set(result.workers.values()) == {"w"}
    assert await standby.open_ticks() == []
    whole = sun.decide_universe(MarketSnapshot.at(as_of, history, benchmark=benchmark))
    for name, decision in result.decisions.items():
        assert untraced(decision) == untraced(whole[name]), name


def test_the_cli_names_a_live_coordinator_in_one_line(redis_url: str, prefix: str) -> None:
    async def hold() -> None:
        async with RedisBus(redis_url, prefix=prefix) as held:
            await ShardCoordinator(held, pool="p", run="desk1").start()  # lease kept: no stop

    asyncio.run(hold())
    command = ["universe-tick", "--universe", "4", "--universe-bars", "60", "--ticks", "1",
               "--pool", "p", "--prefix", prefix, "--redis", redis_url]  # fmt: skip
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error: --pool p: ") and "'coordinator-desk1' holds" in line, line
