"""Shard workers over real Redis and the real sun: takeover after a death, exactly once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import numpy as np
import pytest
from _shard_helpers import Clock

from bus import BarSeries, MarketSnapshot, RedisBus, SunDecision, decode_entry, to_datetime
from heliarch.backtest import bundled_universe
from sun import Sun
from sun.shard import (
    HashRing,
    ShardConfig,
    ShardCoordinator,
    ShardTick,
    ShardTickFailed,
    ShardWorker,
)
from sun.universe import NO_DATA, PortfolioLimits

CONFIG = ShardConfig(heartbeat_s=0.2, member_ttl_s=3.0, claim_ttl_s=5.0, poll_s=0.02)
STEADY = ShardConfig(member_ttl_s=120.0, poll_s=0.02)  # one beat lasts the test (real clock)


@pytest.fixture(scope="module")
def universe() -> tuple[dict[str, BarSeries], BarSeries]:
    return bundled_universe(16, 300)


@pytest.fixture(scope="module")
def sun() -> Iterator[Sun]:
    with Sun("quant", checkpoint="none") as made:
        yield made


@pytest.fixture
async def bus(redis_url: str, prefix: str) -> AsyncIterator[RedisBus]:
    made = RedisBus(redis_url, prefix=prefix)
    yield made
    await made.close()


def _as_of(benchmark: BarSeries, back: int = 0) -> datetime:
    return to_datetime(benchmark.timestamps[-1 - back])


def _tick(names: list[str], as_of: datetime, clock: Clock, tick: str = "t1") -> ShardTick:
    return ShardTick(tick=tick, as_of=as_of, instruments=tuple(names), deadline_unix=clock() + 60)


def _untraced(decision: SunDecision) -> SunDecision:
    return decision.model_copy(update={"trace": ()})


async def _published(bus: RedisBus, worker: ShardWorker) -> list[SunDecision]:
    entries = await bus.client.xrange(worker.keys.decision_stream, "-", "+")
    return [decode_entry(fields).unwrap(SunDecision) for _, fields in entries]


async def test_a_dead_workers_instruments_are_taken_over_once(
    bus: RedisBus, sun: Sun, universe: tuple[dict[str, BarSeries], BarSeries], clock: Clock
) -> None:
    history, benchmark = universe
    names = sorted(history)
    worker = ShardWorker(
        bus, sun, history, pool="p", name="a", config=CONFIG, benchmark=benchmark, clock=clock
    )
    # "ghost" joined, claimed its share of the tick, and died before publishing
    await worker.members.beat("ghost")
    ghost_share = HashRing(["a", "ghost"], CONFIG.vnodes).assign(names)["ghost"]
    assert 0 < len(ghost_share) < len(names)
    tick = _tick(names, _as_of(benchmark), clock)
    assert await worker.claims.claim(tick.tick, "ghost", ghost_share) == ghost_share

    first = await worker.step(tick)
    assert sorted(first.published) == sorted(set(names) - set(ghost_share))
    assert sorted(first.pending) == sorted(ghost_share)
    clock.advance(3.5)  # ghost's heartbeat expired: its instruments are a's, claims still held
    assert not (await worker.step(tick)).published
    clock.advance(2.0)  # ghost's claims expired
    last = await worker.step(tick)
    assert sorted(last.published) == sorted(ghost_share) and last.finished
    assert await worker.claims.commit(tick.tick, "ghost", [(ghost_share[0], "{}")]) == []

    published = await _published(bus, worker)
    assert sorted(d.instrument for d in published) == names  # each exactly once
    whole = sun.decide_universe(MarketSnapshot.at(tick.as_of, history, benchmark=benchmark))
    for decision in published:
        assert _untraced(decision) == _untraced(whole[decision.instrument]), decision.instrument


async def test_instruments_without_data_get_flat_no_data_decisions(
    bus: RedisBus, sun: Sun, universe: tuple[dict[str, BarSeries], BarSeries], clock: Clock
) -> None:
    history, benchmark = universe
    kept = dict(list(history.items())[:2])
    worker = ShardWorker(bus, sun, kept, pool="p", name="a", config=CONFIG, clock=clock)
    names = [*kept, "MISSING001"]
    step = await worker.step(_tick(names, _as_of(benchmark), clock))
    assert sorted(step.published) == sorted(names) and step.finished
    (missing,) = [d for d in await _published(bus, worker) if d.instrument == "MISSING001"]
    assert missing.fallback_level == NO_DATA and missing.target_position == 0.0
    assert not missing.planet_reports[0].has_data
    assert "not in worker a's data" in str(missing.planet_reports[0].model_dump())


async def test_an_expired_tick_is_dropped(
    bus: RedisBus, sun: Sun, universe: tuple[dict[str, BarSeries], BarSeries], clock: Clock
) -> None:
    history, benchmark = universe
    worker = ShardWorker(bus, sun, history, pool="p", name="a", config=CONFIG, clock=clock)
    tick = _tick(sorted(history), _as_of(benchmark), clock)
    clock.advance(61.0)
    step = await worker.step(tick)
    assert step.expired and step.finished and not step.published
    assert await _published(bus, worker) == []


async def test_two_workers_decide_disjoint_halves_for_the_coordinator(
    redis_url: str, prefix: str, universe: tuple[dict[str, BarSeries], BarSeries]
) -> None:
    history, benchmark = universe
    names = sorted(history)
    buses = [RedisBus(redis_url, prefix=prefix, config=STEADY.bus_config()) for _ in range(3)]
    suns = [Sun("quant", checkpoint="none") for _ in range(2)]  # one per worker, as in processes
    workers = [
        ShardWorker(bus, sun, history, pool="p", name=name, config=STEADY, benchmark=benchmark)
        for bus, sun, name in zip(buses, suns, ("a", "b"), strict=False)
    ]
    try:
        for worker in workers:
            await worker.members.beat(worker.name)
            await worker.bus.subscribe(worker.keys.ticks, worker.handle, group=worker.name)
        async with ShardCoordinator(buses[2], pool="p", config=STEADY) as coordinator:
            assert await coordinator.wait_for_workers(2, timeout_s=5) == {"a", "b"}
            results = [await coordinator.tick(_as_of(benchmark, k), names) for k in (2, 1, 0)]
            assert coordinator.duplicates == 0
            marker = buses[2].keys.idempotency(coordinator.keys.decisions, "*", "*")
            idempotency = [k async for k in buses[2].client.scan_iter(match=marker)]
            assert len(idempotency) == 3 * len(names)  # one per decision, kept 2 tick timeouts
            assert 0 < await buses[2].client.ttl(idempotency[0]) <= 2 * STEADY.tick_timeout_s
    finally:
        for bus in buses:
            await bus.close()
        for sun in suns:
            sun.close()
    expected = HashRing(["a", "b"], STEADY.vnodes).assign(names)
    for result in results:
        assert sorted(result.decisions) == names
        assert {w: sorted(i) for w, i in result.by_worker().items()} == expected
        assert all(d.as_of == result.as_of for d in result.decisions.values())


async def test_the_coordinator_forgets_dead_workers_and_their_tick_groups(
    bus: RedisBus, clock: Clock
) -> None:
    coordinator = ShardCoordinator(bus, pool="p", config=CONFIG, clock=clock)
    ticks = coordinator.keys.ticks
    for name in ("a", "ghost"):
        await coordinator.members.beat(name)
        await bus.ensure_group(ticks, name)
    clock.advance(2.0)
    await coordinator.members.beat("a")
    clock.advance(1.5)  # ghost's heartbeat is 3.5 s old, a's 1.5 s
    assert await coordinator.prune() == ["ghost"]
    for stream in bus.keys.streams_of(ticks):
        assert [g["name"] for g in await bus.client.xinfo_groups(stream)] == [b"a"]
    assert await bus.client.zrange(coordinator.keys.members, 0, -1) == [b"a"]


async def test_a_joining_worker_gets_its_share_from_the_next_pass(
    bus: RedisBus, sun: Sun, universe: tuple[dict[str, BarSeries], BarSeries], clock: Clock
) -> None:
    history, benchmark = universe
    names = sorted(history)
    worker = ShardWorker(
        bus, sun, history, pool="p", name="a", config=CONFIG, benchmark=benchmark, clock=clock
    )
    alone = await worker.step(_tick(names, _as_of(benchmark, 1), clock, "t1"))
    assert sorted(alone.published) == names
    await worker.members.beat("b")
    shares = HashRing(["a", "b"], CONFIG.vnodes).assign(names)
    shared = await worker.step(_tick(names, _as_of(benchmark), clock, "t2"))
    assert sorted(shared.published) == shares["a"] and sorted(shared.pending) == shares["b"]


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
    tick = _tick(names, _as_of(benchmark), clock)

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

    published = await _published(bus, made["b"])
    assert sorted(d.instrument for d in published) == names  # each exactly once
    whole = sun.decide_universe(MarketSnapshot.at(tick.as_of, history, benchmark=benchmark))
    for decision in published:
        assert _untraced(decision) == _untraced(whole[decision.instrument]), decision.instrument
    # a is still a member and decides its share of the next tick (the error was passing)
    nxt = _tick(names, _as_of(benchmark), clock, "t2")
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
                await coordinator.tick(_as_of(benchmark), names)
    finally:
        for bus in buses:
            await bus.close()
    assert set(raised.value.errors) == {"a", "b"}
    assert sorted(raised.value.missing) == names
    assert "every live shard worker failed" in str(raised.value)
    assert "injected: model server unreachable" in str(raised.value)


TIGHT = PortfolioLimits(max_gross=0.3, max_net=0.15, max_cluster_gross=0.2)


def _portfolio_tick(names: list[str], as_of: datetime, clock: Clock, tick: str) -> ShardTick:
    return _tick(names, as_of, clock, tick).model_copy(update={"portfolio": TIGHT})


async def test_one_worker_applies_the_portfolio_limits_as_one_universe_pass(
    bus: RedisBus, sun: Sun, universe: tuple[dict[str, BarSeries], BarSeries], clock: Clock
) -> None:
    history, benchmark = universe
    names = sorted(history)
    worker = ShardWorker(
        bus, sun, history, pool="p", name="a", config=CONFIG, benchmark=benchmark, clock=clock
    )
    tick = _portfolio_tick(names, _as_of(benchmark), clock, "t1")
    assert sorted((await worker.step(tick)).published) == names
    snapshot = MarketSnapshot.at(tick.as_of, history, benchmark=benchmark)
    whole = sun.decide_universe(snapshot, portfolio=TIGHT)
    assert any(c.rule.startswith("portfolio:") for d in whole.values() for c in d.corrections)
    for decision in await _published(bus, worker):
        assert _untraced(decision) == _untraced(whole[decision.instrument]), decision.instrument


async def test_shards_together_stay_within_the_universes_portfolio_limits(
    bus: RedisBus, sun: Sun, universe: tuple[dict[str, BarSeries], BarSeries], clock: Clock
) -> None:
    history, benchmark = universe
    names = sorted(history)
    workers = [
        ShardWorker(
            bus, sun, history, pool="p", name=name, config=CONFIG, benchmark=benchmark, clock=clock
        )  # fmt: skip
        for name in ("a", "b")
    ]
    for worker in workers:
        await worker.members.beat(worker.name)
    tick = _portfolio_tick(names, _as_of(benchmark), clock, "t1")
    for worker in workers:
        await worker.step(tick)
    decided = {d.instrument: d for d in await _published(bus, workers[0])}
    assert sorted(decided) == names
    unguarded = sun.decide_universe(MarketSnapshot.at(tick.as_of, history, benchmark=benchmark))
    targets = np.array([decided[n].target_position for n in names])
    assert np.abs(targets).sum() <= TIGHT.max_gross + 1e-9
    assert abs(targets.sum()) <= TIGHT.max_net + 1e-9
    before = np.array([unguarded[n].target_position for n in names])
    assert np.abs(before).sum() > TIGHT.max_gross  # the limits did bind
    for name in names:
        moved = decided[name].target_position != unguarded[name].target_position
        recorded = [c for c in decided[name].corrections if c.rule.startswith("portfolio:")]
        assert moved == bool(recorded), name
