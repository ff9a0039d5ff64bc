"""The lease that makes one coordinator the pool's: taken if free or expired, renewed while
its holder runs, lost when the holder stops renewing (a crash), so a standby can take over.

The lease is ``"<holder>|<expiry>"`` at ``<prefix>shard:<pool>:coordinator``; expiry is on the
caller's clock (injectable, like the claims of :mod:`sun.shard._ledger`), so across machines
keep ``lease_ttl_s`` well above the clock skew.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import redis.asyncio as aioredis

from sun.shard._ledger import ShardKeys

LEASE = """
-- KEYS[1] lease; ARGV[1] holder, ARGV[2] now, ARGV[3] ttl (s), ARGV[4] key lifetime (ms).
-- Takes or renews the lease if it is free, expired or already the holder's; else returns
-- the current holder.
local held = redis.call('GET', KEYS[1])
if held then
  local owner, expires = string.match(held, '^(.*)|([^|]*)$')
  if owner ~= ARGV[1] and tonumber(expires) > tonumber(ARGV[2]) then return owner end
end
local expires = tonumber(ARGV[2]) + tonumber(ARGV[3])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. string.format('%.6f', expires), 'PX', ARGV[4])
return ''
"""

RELEASE_LEASE = """
-- KEYS[1] lease; ARGV[1] holder. Deletes the lease only if the holder still has it.
local held = redis.call('GET', KEYS[1])
if held and string.match(held, '^(.*)|[^|]*$') == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
"""


class CoordinatorBusy(RuntimeError):
    """Another coordinator holds the pool's lease (it is alive: it renewed in time)."""

    def __init__(self, pool_key: str, holder: str) -> None:
        self.holder = holder
        super().__init__(
            f"{pool_key}: coordinator {holder!r} holds the pool's lease; one coordinator per "
            "pool (a standby takes over once the holder stops renewing)"
        )


class CoordinatorLease:
    """The pool's coordinator lease for one holder."""

    def __init__(
        self,
        client: aioredis.Redis,
        keys: ShardKeys,
        holder: str,
        ttl_s: float,
        clock: Callable[[], float],
    ) -> None:
        self.keys, self.holder, self.ttl_s, self.clock = keys, holder, ttl_s, clock
        self._take = client.register_script(LEASE)
        self._release = client.register_script(RELEASE_LEASE)

    async def renew(self) -> None:
        """Take or renew the lease.

        Raises:
            CoordinatorBusy: naming the live holder.
        """
        lifetime_ms = int(max(self.ttl_s * 4, 60) * 1000)  # the key outlives its expiry stamp
        args: list[str | int] = [self.holder, repr(self.clock()), repr(self.ttl_s), lifetime_ms]
        holder = await self._take(keys=[self.keys.lease], args=args)
        if holder:
            raise CoordinatorBusy(self.keys.base, _text(holder))

    async def acquire(self, wait_s: float = 0.0, poll_s: float = 0.1) -> None:
        """Take the lease, waiting up to ``wait_s`` for a crashed holder's lease to expire.

        Raises:
            CoordinatorBusy: when the holder is still live after ``wait_s``.
        """
        deadline = time.monotonic() + wait_s
        while True:
            try:
                await self.renew()
                return
            except CoordinatorBusy:
                if time.monotonic() >= deadline:
                    raise
            await asyncio.sleep(poll_s)

    async def release(self) -> None:
        """Give the lease up (a clean stop: a standby need not wait for it to expire)."""
        await self._release(keys=[self.keys.lease], args=[self.holder])


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
