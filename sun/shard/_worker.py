"""A shard worker: decides the instruments the hash ring gives it, tick after tick.

Per tick (a :class:`ShardTick` from the coordinator, delivered to every worker on the bus):
read the live members, build the ring, claim the instruments it owns that are not done,
decide them in one ``decide_universe`` pass, and publish the decisions with the commit script
(see :mod:`sun.shard._ledger`). It then keeps watching the tick until every instrument is
done: when a member dies its heartbeat expires, the ring hands its instruments to the
survivors, and they claim each one as soon as the dead worker's claim expires.

A worker whose ``decide`` raises stays live (the error may be passing) but leaves that tick:
it records the error, releases its claims, and the tick's ring no longer counts it, so the
others take its instruments over at once. When every live worker has failed a tick, the
coordinator raises with their errors (see :class:`ShardTickFailed`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from uuid import uuid4

from bus import (
    BarSeries,
    DataValidationError,
    Envelope,
    MarketSnapshot,
    Priority,
    RedisBus,
    SunDecision,
    payload_type_of,
)
from sun.shard._config import ShardConfig, ShardTick
from sun.shard._ledger import Claims, Membership, ShardKeys
from sun.shard._ring import HashRing
from sun.universe import PortfolioLimits

log = logging.getLogger(__name__)


class UniverseDecider(Protocol):
    """What a worker needs from the sun (``Sun`` provides it)."""

    def decide_universe(
        self,
        snapshot: MarketSnapshot,
        instruments: Sequence[str] | None = None,
        *,
        positions: Mapping[str, float] | None = None,
        rejected: Mapping[str, str] | None = None,
        portfolio: PortfolioLimits | None = None,
    ) -> dict[str, SunDecision]: ...


@dataclass(frozen=True)
class TickStep:
    """One pass over a tick: what this worker published, what is still open."""

    published: tuple[str, ...]
    pending: tuple[str, ...]
    expired: bool = False
    failed: str | None = None  # this worker's decide raised on the tick: the error

    @property
    def finished(self) -> bool:
        """Whether the worker is done with the tick (complete, abandoned or failed)."""
        return self.expired or self.failed is not None or not self.pending


@dataclass
class WorkerStats:
    """Counters of one worker."""

    ticks: int = 0
    published: int = 0
    taken_over: int = 0  # published after a tick's first pass (another's share)
    refused: int = 0
    failed_ticks: int = 0  # ticks whose decide raised here (others took the instruments)


class ShardWorker:
    """Decides its share of each tick over ``bus`` (see the module docstring).

    Args:
        bus: The Redis bus (its client and key prefix are used).
        decider: The sun deciding the instruments (``Sun``).
        history: Full bar histories per instrument; each tick cuts them at its ``as_of``.
        pool: The pool name shared with the coordinator.
        name: This worker's name (unique in the pool).
        config: Pool timing.
        benchmark: The benchmark series (the moons' beta / correlation), cut likewise.
        clock: Wall-clock seconds (injectable for tests).
    """

    def __init__(
        self,
        bus: RedisBus,
        decider: UniverseDecider,
        history: Mapping[str, BarSeries],
        *,
        pool: str,
        name: str,
        config: ShardConfig | None = None,
        benchmark: BarSeries | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bus, self.decider, self.history = bus, decider, dict(history)
        self.name, self.benchmark, self.clock = name, benchmark, clock
        self.config = config or ShardConfig()
        self.keys = ShardKeys(bus.keys.prefix, pool)
        self.members = Membership(bus.client, self.keys, self.config.member_ttl_s, clock)
        self.claims = Claims(
            bus.client, self.keys, self.config.claim_ttl_s, self.config.keep_s, clock,
            record_s=self.config.record_s,
        )  # fmt: skip
        self.stats = WorkerStats()
        self._ring = HashRing((name,), self.config.vnodes)

    async def ring(self, failed: Collection[str] = ()) -> HashRing:
        """The ring over the live members (and this worker), less those in ``failed``."""
        live = (await self.members.live() | {self.name}) - set(failed)
        if live != self._ring.nodes:
            log.info("shard members now %s", sorted(live))
            self._ring = HashRing(live, self.config.vnodes)
        return self._ring

    async def step(self, tick: ShardTick) -> TickStep:
        """Claim, decide and publish what this worker owns of ``tick`` now; one pass."""
        done = await self.claims.done(tick.tick)
        pending = [i for i in tick.instruments if i not in done]
        if self.clock() > tick.deadline_unix:
            return TickStep((), tuple(pending), expired=True)
        failed = await self.claims.failed(tick.tick)
        if self.name in failed:
            return TickStep((), tuple(pending), failed=failed[self.name])
        ring = await self.ring(failed)
        mine = [i for i in pending if ring.owner(i) == self.name]
        won = await self.claims.claim(tick.tick, self.name, mine)
        published: list[str] = []
        if won:
            try:
                decisions = await asyncio.to_thread(self.decide, tick, won)
            except Exception as error:  # noqa: BLE001 -- any error: hand the tick over
                return await self._give_up(tick, won, pending, error)
            payloads = [(i, self._envelope(tick, decisions[i]).to_json()) for i in won]
            published = await self.claims.commit(tick.tick, self.name, payloads)
            self._count(published, len(won) - len(published))
        decided = set(published)
        left = tuple(i for i in pending if i not in decided)
        return TickStep(tuple(published), left)

    async def _give_up(
        self, tick: ShardTick, won: Sequence[str], pending: Sequence[str], error: Exception
    ) -> TickStep:
        """Record this worker's failure on ``tick`` and release its claims."""
        reason = f"{type(error).__name__}: {error}"[:300]
        log.error("tick %s: decide failed on worker %s (%s)", tick.tick, self.name, reason,
                  exc_info=error)  # fmt: skip
        await self.claims.fail(tick.tick, self.name, won, reason)
        self.stats.failed_ticks += 1
        return TickStep((), tuple(pending), failed=reason)

    async def run_tick(self, tick: ShardTick) -> list[str]:
        """Step until the tick is complete or past its deadline; what this worker published."""
        self.stats.ticks += 1
        published: list[str] = []
        first = True
        while True:
            step = await self.step(tick)
            if not first:  # published after the first pass: a dead or late worker's share
                self.stats.taken_over += len(step.published)
            first = False
            published += step.published
            if step.finished:
                if step.expired:
                    log.warning("tick %s expired with %d open", tick.tick, len(step.pending))
                return published
            if not step.published:
                await asyncio.sleep(self.config.poll_s)

    async def handle(self, envelope: Envelope) -> None:
        """The bus handler of the pool's tick stream (other payloads are ignored)."""
        if envelope.payload_type != "shard_tick":
            return None
        await self.run_tick(envelope.unwrap(ShardTick))
        return None

    def decide(self, tick: ShardTick, instruments: Sequence[str]) -> dict[str, SunDecision]:
        """Decisions for ``instruments`` as of the tick; those without data get "no data".

        With the tick's portfolio limits, this pass applies its share of them (its share
        of the tick's instruments, see :meth:`PortfolioLimits.share`): all passes of a
        tick together stay within the universe's limits, whoever decides which part.
        """
        visible: dict[str, BarSeries] = {}
        rejected: dict[str, str] = {}
        for name in instruments:
            series = self.history.get(name)
            if series is None:
                rejected[name] = f"no data: {name} is not in worker {self.name}'s data"
                continue
            try:
                visible[name] = series.up_to(tick.as_of)
            except DataValidationError as error:
                rejected[name] = f"no data: {error}"
        benchmark = self.benchmark.up_to(tick.as_of) if self.benchmark is not None else None
        bars = visible or _placeholder(self.history, tick)
        snapshot = MarketSnapshot(as_of=tick.as_of, bars=bars, benchmark=benchmark)
        positions = {i: p for i, p in tick.positions.items() if i in visible or i in rejected}
        portfolio = tick.portfolio
        if portfolio is not None:
            portfolio = portfolio.share(len(instruments) / len(tick.instruments))
        return self.decider.decide_universe(
            snapshot, list(visible), positions=positions, rejected=rejected, portfolio=portfolio
        )

    def _envelope(self, tick: ShardTick, decision: SunDecision) -> Envelope:
        """The decision's envelope; built without re-validating the payload, which is a
        ``SunDecision`` validated when it was made (re-validation doubled the bus's cost)."""
        return Envelope.model_construct(
            id=uuid4().hex,
            sender=self.name,
            recipient=self.keys.decisions,
            kind="decision",
            priority=Priority.NORMAL,
            timestamp=datetime.now(UTC),
            trace_id=uuid4().hex,
            reply_to=None,
            correlation_id=tick.tick,
            idempotency_key=f"{tick.tick}:{decision.instrument}",
            payload_type=payload_type_of(SunDecision),
            payload=decision.model_dump(mode="json"),
        )

    def _count(self, published: list[str], refused: int) -> None:
        self.stats.published += len(published)
        self.stats.refused += refused


def _placeholder(history: Mapping[str, BarSeries], tick: ShardTick) -> dict[str, BarSeries]:
    """Some visible series for a snapshot in which every chosen instrument lacks data."""
    for name, series in history.items():
        try:
            return {name: series.up_to(tick.as_of)}
        except DataValidationError:
            continue
    raise DataValidationError(
        instrument=None, timestamp=tick.as_of, field="history", reason="no bar at the tick"
    )
