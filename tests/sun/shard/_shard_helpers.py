"""Helpers of the shard tests."""

from __future__ import annotations

from datetime import datetime

from bus import BarSeries, RedisBus, SunDecision, decode_entry, to_datetime
from sun.shard import ShardConfig, ShardTick, ShardWorker

CONFIG = ShardConfig(heartbeat_s=0.2, member_ttl_s=3.0, claim_ttl_s=5.0, poll_s=0.02)


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def as_of_bar(benchmark: BarSeries, back: int = 0) -> datetime:
    """The time of the benchmark's bar ``back`` bars before its last."""
    return to_datetime(benchmark.timestamps[-1 - back])


def tick_of(names: list[str], as_of: datetime, clock: Clock, tick: str = "t1") -> ShardTick:
    """A tick of ``names`` due in 60 s on ``clock``."""
    return ShardTick(tick=tick, as_of=as_of, instruments=tuple(names), deadline_unix=clock() + 60)


def untraced(decision: SunDecision) -> SunDecision:
    """``decision`` without its trace (timings differ between equal decisions)."""
    return decision.model_copy(update={"trace": ()})


async def published(bus: RedisBus, worker: ShardWorker) -> list[SunDecision]:
    """Every decision on the pool's decision stream, in order."""
    entries = await bus.client.xrange(worker.keys.decision_stream, "-", "+")
    return [decode_entry(fields).unwrap(SunDecision) for _, fields in entries]
