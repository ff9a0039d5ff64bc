"""Shard workers over real Redis and the real sun: takeover after a death, exactly once."""

from __future__ import annotations

from _shard_helpers import CONFIG, Clock, as_of_bar, published, tick_of, untraced

from bus import BarSeries, MarketSnapshot, RedisBus
from sun import Sun
from sun.shard import (
    HashRing,
    ShardConfig,
    ShardCoordinator,
    ShardWorker,
)
from sun.universe import NO_DATA

STEADY = ShardConfig(member_ttl_s=120.0, poll_s=0.02)  # one beat lasts the test (real clock)


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
    tick = tick_of(names, as_of_bar(benchmark), clock)
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

    decided = await published(bus, worker)
    assert sorted(d.instrument for d in decided) == names  # each exactly once
    whole = sun.decide_universe(MarketSnapshot.at(tick.as_of, history, benchmark=benchmark))
    for decision in decided:
        assert untraced(decision) == untraced(whole[decision.instrument]), decision.instrument


async def test_instruments_without_data_get_flat_no_data_decisions(
    bus: RedisBus, sun: Sun, universe: tuple[dict[str, BarSeries], BarSeries], clock: Clock
) -> None:
    history, benchmark = universe
    kept = dict(list(history.items())[:2])
    worker = ShardWorker(bus, sun, kept, pool="p", name="a", config=CONFIG, clock=clock)
    names = [*kept, "MISSING001"]
    step = await worker.step(tick_of(names, as_of_bar(benchmark), clock))
    assert sorted(step.published) == sorted(names) and step.finished
    (missing,) = [d for d in await published(bus, worker) if d.instrument == "MISSING001"]
    assert missing.fallback_level == NO_DATA and missing.target_position == 0.0
    assert not missing.planet_reports[0].has_data
    assert "not in worker a's data" in str(missing.planet_reports[0].model_dump())


async def test_an_expired_tick_is_dropped(
    bus: RedisBus, sun: Sun, universe: tuple[dict[str, BarSeries], BarSeries], clock: Clock
) -> None:
    history, benchmark = universe
    worker = ShardWorker(bus, sun, history, pool="p", name="a", config=CONFIG, clock=clock)
    tick = tick_of(sorted(history), as_of_bar(benchmark), clock)
    clock.advance(61.0)
    step = await worker.step(tick)
    assert step.expired and step.finished and not step.published
    assert await published(bus, worker) == []


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
            results = [await coordinator.tick(as_of_bar(benchmark, k), names) for k in (2, 1, 0)]
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
    alone = await worker.step(tick_of(names, as_of_bar(benchmark, 1), clock, "t1"))
    assert sorted(alone.published) == names
    await worker.members.beat("b")
    shares = HashRing(["a", "b"], CONFIG.vnodes).assign(names)
    shared = await worker.step(tick_of(names, as_of_bar(benchmark), clock, "t2"))
    assert sorted(shared.published) == shares["a"] and sorted(shared.pending) == shares["b"]
