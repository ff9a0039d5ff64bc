"""A universe sharded across worker processes over the Redis bus.

    from sun import Sun
    from sun.shard import ShardCoordinator, serve_shard
    # each worker process (``heliarch worker --universe N``):
    await serve_shard(url, Sun("quant"), history, pool="desk", name="w1", benchmark=bench)
    # the coordinator (``heliarch universe-tick``):
    bus = RedisBus(url, config=ShardConfig().bus_config())
    async with bus, ShardCoordinator(bus, pool="desk") as coordinator:
        result = await coordinator.tick(as_of, instruments)

Instruments go to live workers by consistent hashing (:class:`HashRing`); membership is
heartbeats with a TTL; each (tick, instrument) is claimed and published once (see
:class:`Claims`), so a dead worker's instruments are taken over without deciding any twice.
One coordinator per pool holds a lease (:class:`CoordinatorLease`); when it crashes, a standby's
``take_over()`` finishes the ticks it left open from the pool's record of their decisions.
"""

from sun.shard._config import ShardConfig, ShardTick
from sun.shard._coordinator import COORDINATOR, ShardCoordinator
from sun.shard._lease import CoordinatorBusy, CoordinatorLease
from sun.shard._ledger import Claims, Membership, ShardKeys
from sun.shard._results import ShardTickFailed, ShardTickResult
from sun.shard._ring import HashRing, ring_hash
from sun.shard._serve import serve_shard
from sun.shard._worker import ShardWorker, TickStep, UniverseDecider, WorkerStats

__all__ = [
    "COORDINATOR",
    "Claims",
    "CoordinatorBusy",
    "CoordinatorLease",
    "HashRing",
    "Membership",
    "ShardConfig",
    "ShardCoordinator",
    "ShardKeys",
    "ShardTick",
    "ShardTickFailed",
    "ShardTickResult",
    "ShardWorker",
    "TickStep",
    "UniverseDecider",
    "WorkerStats",
    "ring_hash",
    "serve_shard",
]
