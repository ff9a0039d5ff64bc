"""Membership and the (tick, instrument) claims in real Redis, with an injected clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from _shard_helpers import Clock

from sun.shard import Claims, Membership, ShardKeys

TICK = "run1.20130301T000000"


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    redis = aioredis.Redis.from_url(redis_url)
    yield redis
    await redis.aclose()


def _claims(client: aioredis.Redis, prefix: str, clock: Clock) -> Claims:
    return Claims(client, ShardKeys(prefix, "p"), ttl_s=5.0, keep_s=3600, clock=clock)


async def test_members_expire_after_their_ttl(
    client: aioredis.Redis, prefix: str, clock: Clock
) -> None:
    members = Membership(client, ShardKeys(prefix, "p"), ttl_s=3.0, clock=clock)
    await members.beat("a")
    clock.advance(2.0)
    await members.beat("b")
    assert await members.live() == {"a", "b"}
    clock.advance(1.5)
    assert await members.live() == {"b"}
    await members.beat("a")
    await members.leave("b")
    assert await members.live() == {"a"}


async def test_a_claim_is_exclusive_until_it_expires(
    client: aioredis.Redis, prefix: str, clock: Clock
) -> None:
    claims = _claims(client, prefix, clock)
    assert await claims.claim(TICK, "a", ["X", "Y"]) == ["X", "Y"]
    assert await claims.claim(TICK, "b", ["X", "Y", "Z"]) == ["Z"]
    assert await claims.claim(TICK, "a", ["X"]) == ["X"]  # renewing its own
    clock.advance(5.1)
    assert await claims.claim(TICK, "b", ["X", "Y"]) == ["X", "Y"]


async def test_only_the_holder_publishes_and_only_once(
    client: aioredis.Redis, prefix: str, clock: Clock
) -> None:
    claims = _claims(client, prefix, clock)
    stream = ShardKeys(prefix, "p").decision_stream
    await claims.claim(TICK, "a", ["X", "Y"])
    clock.advance(6.0)
    await claims.claim(TICK, "b", ["X"])  # a's claim on X expired: b took it over
    assert await claims.commit(TICK, "a", [("X", "{}"), ("Y", "{}")]) == ["Y"]
    assert await claims.commit(TICK, "b", [("X", "{}")]) == ["X"]
    assert await claims.commit(TICK, "b", [("X", "{}")]) == []
    assert await claims.claim(TICK, "c", ["X", "Y"]) == []  # done: never claimed again
    assert await claims.done(TICK) == {"X": "b", "Y": "a"}
    assert await client.xlen(stream) == 2


async def test_claims_of_other_ticks_are_independent(
    client: aioredis.Redis, prefix: str, clock: Clock
) -> None:
    claims = _claims(client, prefix, clock)
    await claims.claim(TICK, "a", ["X"])
    await claims.commit(TICK, "a", [("X", "{}")])
    assert await claims.claim("run1.next", "b", ["X"]) == ["X"]
