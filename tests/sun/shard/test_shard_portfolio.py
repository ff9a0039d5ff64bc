"""Portfolio limits across a sharded universe: each pass applies its share, so the shards
together stay within the universe's limits; one worker equals one universe pass."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from _shard_helpers import CONFIG, Clock, as_of_bar, published, tick_of, untraced

from bus import BarSeries, MarketSnapshot, RedisBus
from sun import Sun
from sun.shard import ShardTick, ShardWorker
from sun.universe import PortfolioLimits

TIGHT = PortfolioLimits(max_gross=0.3, max_net=0.15, max_cluster_gross=0.2)


def _portfolio_tick(names: list[str], as_of: datetime, clock: Clock, tick: str) -> ShardTick:
    return tick_of(names, as_of, clock, tick).model_copy(update={"portfolio": TIGHT})


async def test_one_worker_applies_the_portfolio_limits_as_one_universe_pass(
    bus: RedisBus, sun: Sun, universe: tuple[dict[str, BarSeries], BarSeries], clock: Clock
) -> None:
    history, benchmark = universe
    names = sorted(history)
    worker = ShardWorker(
        bus, sun, history, pool="p", name="a", config=CONFIG, benchmark=benchmark, clock=clock
    )
    tick = _portfolio_tick(names, as_of_bar(benchmark), clock, "t1")
    assert sorted((await worker.step(tick)).published) == names
    snapshot = MarketSnapshot.at(tick.as_of, history, benchmark=benchmark)
    whole = sun.decide_universe(snapshot, portfolio=TIGHT)
    assert any(c.rule.startswith("portfolio:") for d in whole.values() for c in d.corrections)
    for decision in await published(bus, worker):
        assert untraced(decision) == untraced(whole[decision.instrument]), decision.instrument


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
    tick = _portfolio_tick(names, as_of_bar(benchmark), clock, "t1")
    for worker in workers:
        await worker.step(tick)
    decided = {d.instrument: d for d in await published(bus, workers[0])}
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
