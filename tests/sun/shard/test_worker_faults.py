"""A shard worker whose ``decide`` raises: it leaves the tick, the others take its share over at
once, and the coordinator raises at once when every live worker has failed."""

from __future__ import annotations

from typing import Any

import pytest
from _shard_helpers import CONFIG, Clock, as_of_bar, published, tick_of, untraced

from bus import BarSeries, MarketSnapshot, RedisBus, SunDecision
from sun import Sun
from sun.shard import HashRing, ShardConfig, ShardCoordinator, ShardTickFailed, ShardWorker


class FailingSun:
    """The real sun, made to raise on its first ``fail_times`` universe passes."""

    def __init__(self, sun: Sun, fail_times: int) -> None:
        self.sun, self.left = sun, fail_times

    def decide_universe(self, *args: Any, **kwargs: Any) -> dict[str, SunDecision]:
        if self.left > 0:
            self.left -= 1
            raise RuntimeError("injected: model server unreachable")
        return self.sun.decide_universe(*args, **kwargs)


async def test_a_worker_whose_decide_raises_hands_its_share_over_at_once(
    bus: RedisBus, sun: Sun, universe: tuple[dict[str, BarSeries], BarSeries], clock: Clock
) -> None:
    history, benchmark = universe
    names = sorted(history)
    made = {
        name: ShardWorker(
            bus,
            decider,
            history,
            pool="p",
            name=name,
            config=CONFIG,
            benchmark=benchmark,
            clock=clock,
        )  # fmt: skip
        for name, decider in (("a", FailingSun(sun, 1)), ("b", sun))
    }
    for worker in made.values():
        await worker.members.beat(worker.name)
    shares = HashRing(["a", "b"], CONFIG.vnodes).assign(names)
    tick = tick_of(names, as_of_bar(benchmark), clock)

    failed = await made["a"].step(tick)
    assert failed.finished and not failed.published
    assert failed.failed == "RuntimeError: injected: model server unreachable"
    assert made["a"].stats.failed_ticks == 1
    # no clock advance: a's claims were released, b owns the whole tick now
    taken = await made["b"].step(tick)
    assert sorted(taken.published) == names and taken.finished
    assert (await made["a"].step(tick)).failed is not None  # a stays out of this tick
    assert await made["a"].claims.failed(tick.tick) == {"a": failed.failed}
    assert len(shares["a"]) > 0

    decided = await published(bus, made["b"])
    assert sorted(d.instrument for d in decided) == names  # each exactly once
    whole = sun.decide_universe(MarketSnapshot.at(tick.as_of, history, benchmark=benchmark))
    for decision in decided:
        assert untraced(decision) == untraced(whole[decision.instrument]), decision.instrument
    # a is still a member and decides its share of the next tick (the error was passing)
    nxt = tick_of(names, as_of_bar(benchmark), clock, "t2")
    assert sorted((await made["a"].step(nxt)).published) == shares["a"]


async def test_the_coordinator_raises_at_once_when_every_worker_failed(
    redis_url: str, prefix: str, sun: Sun, universe: tuple[dict[str, BarSeries], BarSeries]
) -> None:
    history, benchmark = universe
    names = sorted(history)
    config = ShardConfig(member_ttl_s=120.0, heartbeat_s=0.1, poll_s=0.02, tick_timeout_s=600)
    buses = [RedisBus(redis_url, prefix=prefix, config=config.bus_config()) for _ in range(3)]
    workers = [
        ShardWorker(
            bus,
            FailingSun(sun, 10),
            history,
            pool="p",
            name=name,
            config=config,
            benchmark=benchmark,
        )  # fmt: skip
        for bus, name in zip(buses, ("a", "b"), strict=False)
    ]
    try:
        for worker in workers:
            await worker.members.beat(worker.name)
            await worker.bus.subscribe(worker.keys.ticks, worker.handle, group=worker.name)
        async with ShardCoordinator(buses[2], pool="p", config=config) as coordinator:
            await coordinator.wait_for_workers(2, timeout_s=5)
            with pytest.raises(ShardTickFailed) as raised:  # long before the 600 s timeout
                await coordinator.tick(as_of_bar(benchmark), names)
    finally:
        for bus in buses:
            await bus.close()
    assert set(raised.value.errors) == {"a", "b"}
    assert sorted(raised.value.missing) == names
    assert "every live shard worker failed" in str(raised.value)
    assert "injected: model server unreachable" in str(raised.value)
