"""The journal kept in a Redis stream (loaded only when the Redis transport is used)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import redis.asyncio as aioredis

from bus._envelope import Envelope, decode_entry
from bus._errors import JournalCorruptError, MalformedMessageError
from bus._journal import Journal
from bus._redis_replies import entries_of


class RedisStreamJournal(Journal):
    """A journal kept in one Redis stream (never trimmed by the bus)."""

    def __init__(self, client: aioredis.Redis, key: str = "heliarch:journal") -> None:
        self.client = client
        self.key = key

    @classmethod
    def from_url(cls, url: str, key: str = "heliarch:journal") -> RedisStreamJournal:
        """A journal on its own connection pool."""
        return cls(aioredis.Redis.from_url(url), key)

    async def append_many(self, envelopes: Sequence[Envelope]) -> None:
        async with self.client.pipeline(transaction=True) as pipe:
            for envelope in envelopes:
                pipe.xadd(self.key, {"e": envelope.to_json()})
            await pipe.execute()

    async def read(self) -> AsyncIterator[Envelope]:
        start = "-"
        while True:
            entries = entries_of(await self.client.xrange(self.key, start, "+", count=1000))
            for entry_id, fields in entries:
                try:
                    envelope = decode_entry(fields)
                except MalformedMessageError as error:
                    raise JournalCorruptError(f"{self.key} {entry_id!r}: {error}") from error
                yield envelope
            if len(entries) < 1000:
                return
            start = "(" + entries[-1][0].decode()

    async def close(self) -> None:
        await self.client.aclose()
