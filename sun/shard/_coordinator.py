"""The coordinator of a shard pool: publishes ticks and collects one decision per instrument.

    async with ShardCoordinator(bus, pool="desk") as coordinator:
        await coordinator.wait_for_workers(2)
        result = await coordinator.tick(as_of, instruments)    # {instrument: SunDecision}

Decisions arrive on the coordinator's bus stream (its consumer group dedupes by the
``<tick>:<instrument>`` idempotency key as a second guard; the commit script already
publishes each pair once). A tick not complete within ``tick_timeout_s`` raises naming the
missing instruments; one that every live worker has failed (their ``decide`` raised) raises
at once with their errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Self
from uuid import uuid4

from bus import Envelope, RedisBus, Subscription, SunDecision
from sun.shard._config import ShardConfig, ShardTick
from sun.shard._lease import CoordinatorLease
from sun.shard._ledger import Membership, ShardKeys
from sun.shard._results import ShardTickFailed, ShardTickResult
from sun.universe import PortfolioLimits

COORDINATOR = "shard-coordinator"


class ShardCoordinator:
    """Publishes ticks to a pool's workers and collects their decisions.

    Args:
        bus: The Redis bus shared with the workers (same prefix; build it with
            ``config.bus_config()`` so the per-decision idempotency keys expire soon).
        pool: The pool name.
        config: Pool timing (the workers' ``tick_timeout_s`` and ``member_ttl_s``).
        run: A label making this run's tick ids unique (default: random).
        clock: Wall-clock seconds.
        portfolio: Limits across the whole universe (sent with every tick; each worker's
            pass applies its share, so the shards together stay within them).
    """

    def __init__(
        self,
        bus: RedisBus,
        *,
        pool: str = "default",
        config: ShardConfig | None = None,
        run: str | None = None,
        clock: Callable[[], float] = time.time,
        portfolio: PortfolioLimits | None = None,
    ) -> None:
        self.bus, self.clock, self.portfolio = bus, clock, portfolio
        self.config = config or ShardConfig()
        self.keys = ShardKeys(bus.keys.prefix, pool)
        self.members = Membership(bus.client, self.keys, self.config.member_ttl_s, clock)
        self.run = run or uuid4().hex[:8]
        self._open: dict[str, dict[str, Envelope]] = {}
        self._events: dict[str, asyncio.Event] = {}
        self._subscription: Subscription | None = None
        self._sequence = itertools.count(1)
        holder = f"coordinator-{self.run}"
        self.lease = CoordinatorLease(bus.client, self.keys, holder, self.config.lease_ttl_s, clock)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Take the pool's lease and start collecting decisions (idempotent).

        Raises:
            CoordinatorBusy: when another live coordinator holds the lease.
        """
        await self.lease.renew()
        if self._subscription is None:
            self._subscription = await self.bus.subscribe(
                self.keys.decisions, self._collect, group=COORDINATOR
            )

    async def stop(self) -> None:
        """Stop collecting and give the lease up (a standby need not wait for it)."""
        if self._subscription is not None:
            await self._subscription.stop()
            self._subscription = None
            await self.lease.release()

    @property
    def duplicates(self) -> int:
        """Decisions the consumer group refused as already applied (0 when all is well)."""
        return self._subscription.stats.duplicates if self._subscription else 0

    async def prune(self) -> list[str]:
        """Forget dead workers: their membership and their consumer groups on the tick
        stream (a dead group would hold every later tick untrimmed). A worker that comes
        back re-creates both with its next heartbeat."""
        live = await self.live_workers()
        client = self.bus.client
        await client.zremrangebyscore(self.keys.members, "-inf", repr(self.clock()))
        removed: set[str] = set()
        for stream in self.bus.keys.streams_of(self.keys.ticks):
            if not await client.exists(stream):  # a lane no tick went through yet
                continue
            for group in await client.xinfo_groups(stream):
                name = _text(group["name"])
                if name not in live:
                    await client.xgroup_destroy(stream, name)
                    removed.add(name)
        return sorted(removed)

    async def live_workers(self) -> frozenset[str]:
        """The pool's live workers."""
        return await self.members.live()

    async def wait_for_workers(self, count: int, timeout_s: float = 30.0) -> frozenset[str]:
        """Wait until ``count`` workers are live.

        Raises:
            TimeoutError: saying how many are live.
        """
        deadline = time.monotonic() + timeout_s
        while len(live := await self.live_workers()) < count:
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"{len(live)} of {count} shard workers live after {timeout_s:g}s"
                )
            await asyncio.sleep(self.config.poll_s)
        return live

    async def tick(
        self,
        as_of: datetime,
        instruments: Sequence[str],
        positions: Mapping[str, float] | None = None,
    ) -> ShardTickResult:
        """Publish one tick and wait for a decision on every instrument.

        Raises:
            TimeoutError: naming the instruments still undecided after ``tick_timeout_s``.
            ShardTickFailed: when every live worker's ``decide`` raised on the tick.
            CoordinatorBusy: when another live coordinator holds the pool's lease.
        """
        await self.start()
        started = time.perf_counter()
        tick = ShardTick(
            tick=f"{self.run}.{next(self._sequence)}.{as_of:%Y%m%dT%H%M%S}",
            as_of=as_of,
            instruments=tuple(instruments),
            positions=dict(positions or {}),
            deadline_unix=self.clock() + self.config.tick_timeout_s,
            portfolio=self.portfolio,
        )
        if len(set(tick.instruments)) != len(tick.instruments):
            raise ValueError("instruments: an instrument is listed twice")
        self._open[tick.tick] = {}
        self._events[tick.tick] = asyncio.Event()
        try:
            await self.lease.renew()
            await self.bus.client.hset(self.keys.open_ticks, tick.tick, tick.model_dump_json())
            await self.bus.send(
                Envelope.wrap(tick, sender=COORDINATOR, recipient=self.keys.ticks, kind="event")
            )
            got = await self._until_decided(tick, self._collected)
        finally:
            self._open.pop(tick.tick, None)
            self._events.pop(tick.tick, None)
        return await self._result(tick, got, started)

    async def take_over(self, wait_s: float = 0.0) -> list[ShardTickResult]:
        """Become the pool's coordinator after one that stopped renewing its lease (a crash),
        and finish every tick it left open: the workers went on deciding them, and their
        decisions are read from the pool's record, each once.

        Raises:
            CoordinatorBusy: when the holder is still live after ``wait_s``.
            TimeoutError / ShardTickFailed: as :meth:`tick`, for an open tick.
        """
        await self.lease.acquire(wait_s, self.config.poll_s)
        await self.start()
        results = []
        for tick in await self.open_ticks():
            started = time.perf_counter()
            got = await self._until_decided(tick, self._recorded)
            results.append(await self._result(tick, got, started))
        return results

    async def open_ticks(self) -> list[ShardTick]:
        """Ticks published and not yet finished by a coordinator of the pool, oldest first."""
        raw = await self.bus.client.hgetall(self.keys.open_ticks)
        ticks = [ShardTick.model_validate_json(v) for v in raw.values()]
        return sorted(ticks, key=lambda t: (t.deadline_unix, t.tick))

    async def _until_decided(
        self, tick: ShardTick, decided: Callable[[ShardTick], Awaitable[dict[str, Envelope]]]
    ) -> dict[str, Envelope]:
        """Wait until ``decided(tick)`` covers every instrument, renewing the lease."""
        wanted = set(tick.instruments)
        renewed = self.clock()
        try:
            while True:
                # cleared before each look (no yield in between): a decision arriving after
                # the look wakes the wait at once
                self._clear(tick.tick)
                got = await decided(tick)
                if wanted <= set(got):
                    break
                left = tick.deadline_unix - self.clock()
                missing = sorted(wanted - set(got))
                if left <= 0:
                    raise TimeoutError(
                        f"tick {tick.tick}: no decision for {len(missing)} instrument(s) "
                        f"after {self.config.tick_timeout_s:g}s: {', '.join(missing[:10])}"
                    )
                if self.clock() - renewed >= self.config.heartbeat_s:
                    await self.lease.renew()
                    await self._check_failed(tick.tick, missing)
                    renewed = self.clock()
                await self._wait(tick.tick, min(left, self.config.heartbeat_s))
        except (TimeoutError, ShardTickFailed):
            await self.bus.client.hdel(self.keys.open_ticks, tick.tick)
            raise
        await self.bus.client.hdel(self.keys.open_ticks, tick.tick)
        return got

    async def _wait(self, tick: str, timeout_s: float) -> None:
        """Until a decision of ``tick`` arrives on the stream (or poll when taking over)."""
        event = self._events.get(tick)
        if event is None:
            await asyncio.sleep(min(timeout_s, self.config.poll_s))
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout_s)

    def _clear(self, tick: str) -> None:
        event = self._events.get(tick)
        if event is not None:
            event.clear()

    async def _collected(self, tick: ShardTick) -> dict[str, Envelope]:
        return self._open[tick.tick]

    async def _recorded(self, tick: ShardTick) -> dict[str, Envelope]:
        raw = await self.bus.client.hgetall(self.keys.decided(tick.tick))
        return {_text(k): Envelope.model_validate_json(v) for k, v in raw.items()}

    async def _result(
        self, tick: ShardTick, got: Mapping[str, Envelope], started: float
    ) -> ShardTickResult:
        await self.prune()
        decisions = {i: got[i].unwrap(SunDecision) for i in tick.instruments}
        workers = {i: got[i].sender for i in tick.instruments}
        failed = await self._failed(tick.tick)
        elapsed = time.perf_counter() - started
        return ShardTickResult(tick.tick, tick.as_of, decisions, workers, elapsed, failed)

    async def _check_failed(self, tick: str, missing: Sequence[str]) -> None:
        """Raise :class:`ShardTickFailed` when every live worker has failed ``tick``."""
        errors = await self._failed(tick)
        if errors and await self.live_workers() <= set(errors):
            raise ShardTickFailed(tick, missing, errors)

    async def _failed(self, tick: str) -> dict[str, str]:
        raw = await self.bus.client.hgetall(self.keys.failed(tick))
        return {_text(k): _text(v) for k, v in raw.items()}

    async def _collect(self, envelope: Envelope) -> None:
        collected = self._open.get(envelope.correlation_id or "")
        if collected is None or envelope.payload_type != "sun_decision":
            return None
        instrument = str(envelope.payload.get("instrument", ""))
        collected.setdefault(instrument, envelope)
        self._events[envelope.correlation_id or ""].set()
        return None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
