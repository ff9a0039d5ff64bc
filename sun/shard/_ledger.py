"""The shard pool's state in Redis: live members (heartbeats with a TTL) and the idempotent
claim / commit of each (tick, instrument).

Keys under ``<prefix>shard:<pool>:``:

- ``members`` sorted set, worker -> expiry time of its last heartbeat
- ``claim:<tick>:<instrument>`` "worker|expiry" of the worker deciding it
- ``done:<tick>`` hash, instrument -> worker that published its decision
- ``failed:<tick>`` hash, worker -> why its ``decide`` raised on this tick (that worker is
  out of the tick's ring; the others take its instruments over at once)
- ``decided:<tick>`` hash, instrument -> the published decision envelope (kept two tick
  timeouts, for a coordinator that takes over an open tick)
- ``open`` hash, tick -> the tick, while its coordinator waits on it; ``coordinator`` the
  lease of the pool's one coordinator (see :mod:`sun.shard._lease`)

Every time is the caller's clock (injectable), so expiry is testable without waiting; across
machines keep ``claim_ttl_s`` well above the clock skew. The decision envelope is added to
the coordinator's bus stream by the same script that records it as done, so a decision is
published once or not at all, whoever else holds a stale claim.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import redis.asyncio as aioredis

from bus import Priority, RedisKeys

CLAIM = """
-- KEYS[1] done hash, KEYS[2..] claim keys; ARGV[1] worker, ARGV[2] now, ARGV[3] ttl (s),
-- ARGV[4] key lifetime (ms), ARGV[5..] the instruments of KEYS[2..].
-- Claims every instrument not done whose claim is free, expired or already ours.
local won = {}
for i = 2, #KEYS do
  local instrument = ARGV[i + 3]
  if redis.call('HEXISTS', KEYS[1], instrument) == 0 then
    local held = redis.call('GET', KEYS[i])
    local free = true
    if held then
      local owner, expires = string.match(held, '^(.*)|([^|]*)$')
      if owner ~= ARGV[1] and tonumber(expires) > tonumber(ARGV[2]) then free = false end
    end
    if free then
      local expires = tonumber(ARGV[2]) + tonumber(ARGV[3])
      redis.call('SET', KEYS[i], ARGV[1] .. '|' .. string.format('%.6f', expires), 'PX', ARGV[4])
      won[#won + 1] = instrument
    end
  end
end
return won
"""

COMMIT = """
-- KEYS[1] done hash, KEYS[2] the coordinator's bus stream, KEYS[3] decided hash,
-- KEYS[4..] claim keys; ARGV[1] worker, ARGV[2] done-hash lifetime (s), ARGV[3] decided-hash
-- lifetime (s), ARGV[4..] pairs: instrument, envelope JSON.
-- Publishes a decision only if this worker holds its claim and it is not done yet; the
-- decided hash keeps it for a coordinator that takes over the tick.
local committed = {}
for i = 4, #KEYS do
  local instrument, data = ARGV[2 * i - 4], ARGV[2 * i - 3]
  local held = redis.call('GET', KEYS[i])
  if held and string.match(held, '^(.*)|[^|]*$') == ARGV[1]
      and redis.call('HSETNX', KEYS[1], instrument, ARGV[1]) == 1 then
    redis.call('XADD', KEYS[2], '*', 'e', data)
    redis.call('HSET', KEYS[3], instrument, data)
    redis.call('DEL', KEYS[i])
    committed[#committed + 1] = instrument
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
if #committed > 0 then redis.call('EXPIRE', KEYS[3], ARGV[3]) end
return committed
"""


RELEASE = """
-- KEYS[1] failed hash, KEYS[2..] claim keys; ARGV[1] worker, ARGV[2] reason,
-- ARGV[3] failed-hash lifetime (s). Records the failure and drops the worker's claims.
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
local released = 0
for i = 2, #KEYS do
  local held = redis.call('GET', KEYS[i])
  if held and string.match(held, '^(.*)|[^|]*$') == ARGV[1] then
    redis.call('DEL', KEYS[i])
    released = released + 1
  end
end
return released
"""


class ShardKeys:
    """Key and recipient names of one pool under a bus prefix."""

    def __init__(self, prefix: str, pool: str) -> None:
        self.base = f"{prefix}shard:{pool}:"
        self.ticks = f"shard:{pool}:ticks"
        self.decisions = f"shard:{pool}:decisions"
        self.bus = RedisKeys(prefix)

    @property
    def members(self) -> str:
        """Sorted set of live workers."""
        return f"{self.base}members"

    def claim(self, tick: str, instrument: str) -> str:
        """The claim on one (tick, instrument)."""
        return f"{self.base}claim:{tick}:{instrument}"

    def done(self, tick: str) -> str:
        """Hash of the instruments of ``tick`` already published."""
        return f"{self.base}done:{tick}"

    def decided(self, tick: str) -> str:
        """Hash of the decision envelopes of ``tick`` published so far."""
        return f"{self.base}decided:{tick}"

    @property
    def open_ticks(self) -> str:
        """Hash of the ticks a coordinator published and still waits on."""
        return f"{self.base}open"

    @property
    def lease(self) -> str:
        """The coordinator lease of the pool."""
        return f"{self.base}coordinator"

    def failed(self, tick: str) -> str:
        """Hash of the workers whose ``decide`` raised on ``tick``, with the error."""
        return f"{self.base}failed:{tick}"

    @property
    def decision_stream(self) -> str:
        """The coordinator's bus lane that decisions are added to."""
        return self.bus.lane(self.decisions, Priority.NORMAL)


class Membership:
    """Heartbeats of a pool's workers; a member is live until its TTL passes."""

    def __init__(
        self,
        client: aioredis.Redis,
        keys: ShardKeys,
        ttl_s: float,
        clock: Callable[[], float],
    ) -> None:
        self.client, self.keys, self.ttl_s, self.clock = client, keys, ttl_s, clock

    async def beat(self, name: str) -> None:
        """Renew ``name``'s membership for ``ttl_s`` from now."""
        await self.client.zadd(self.keys.members, {name: self.clock() + self.ttl_s})

    async def leave(self, name: str) -> None:
        """Remove ``name`` at once (a clean shutdown hands its instruments over)."""
        await self.client.zrem(self.keys.members, name)

    async def live(self) -> frozenset[str]:
        """Members whose heartbeat has not expired."""
        names = await self.client.zrangebyscore(self.keys.members, f"({self.clock()!r}", "+inf")
        return frozenset(_text(n) for n in names if isinstance(n, bytes | str))


class Claims:
    """Idempotent claims and commits of (tick, instrument) for one worker."""

    def __init__(
        self,
        client: aioredis.Redis,
        keys: ShardKeys,
        ttl_s: float,
        keep_s: int,
        clock: Callable[[], float],
        record_s: int = 120,
    ) -> None:
        self.client, self.keys, self.ttl_s, self.keep_s, self.clock = (
            client,
            keys,
            ttl_s,
            keep_s,
            clock,
        )
        self.record_s = record_s  # how long published decisions stay in the decided hash
        self._claim = client.register_script(CLAIM)
        self._commit = client.register_script(COMMIT)
        self._release = client.register_script(RELEASE)

    async def done(self, tick: str) -> dict[str, str]:
        """Instruments of ``tick`` already published, with the worker that did."""
        raw = await self.client.hgetall(self.keys.done(tick))
        return {_text(k): _text(v) for k, v in raw.items()}

    async def failed(self, tick: str) -> dict[str, str]:
        """Workers whose ``decide`` raised on ``tick``, with the error."""
        raw = await self.client.hgetall(self.keys.failed(tick))
        return {_text(k): _text(v) for k, v in raw.items()}

    async def fail(self, tick: str, worker: str, instruments: Sequence[str], reason: str) -> int:
        """Record that ``worker`` failed on ``tick`` and release its claims on
        ``instruments`` (so their new owners need not wait for the claims to expire);
        how many claims were released."""
        keys = [self.keys.failed(tick), *(self.keys.claim(tick, i) for i in instruments)]
        return int(await self._release(keys=keys, args=[worker, reason, self.keep_s]))

    async def claim(self, tick: str, worker: str, instruments: Sequence[str]) -> list[str]:
        """The instruments ``worker`` now holds (free, expired or its own, and not done)."""
        if not instruments:
            return []
        keys = [self.keys.done(tick), *(self.keys.claim(tick, i) for i in instruments)]
        lifetime_ms = int(self.keep_s * 1000)
        args: list[str | int] = [worker, repr(self.clock()), repr(self.ttl_s), lifetime_ms]
        args += instruments
        return [_text(i) for i in await self._claim(keys=keys, args=args)]

    async def commit(
        self, tick: str, worker: str, decisions: Sequence[tuple[str, str]]
    ) -> list[str]:
        """Publish ``(instrument, envelope JSON)`` pairs ``worker`` holds; the ones published."""
        if not decisions:
            return []
        keys = [
            self.keys.done(tick),
            self.keys.decision_stream,
            self.keys.decided(tick),
            *(self.keys.claim(tick, i) for i, _ in decisions),
        ]
        args: list[str | int] = [worker, self.keep_s, self.record_s]
        for instrument, data in decisions:
            args += [instrument, data]
        return [_text(i) for i in await self._commit(keys=keys, args=args)]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
