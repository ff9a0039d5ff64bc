"""The journal kept in a Redis stream (loaded only when the Redis transport is used)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence

import redis.asyncio as aioredis
from redis.exceptions import WatchError
from redis.typing import EncodableT

from bus._chain import Chain, JournalRecord, Link
from bus._envelope import Envelope
from bus._errors import JournalCorruptError, MalformedMessageError
from bus._journal import Journal
from bus._wire import decode_entry, entry_data
from bus.redis_streams._replies import entries_of


class RedisStreamJournal(Journal):
    """A journal kept in one Redis stream (never trimmed by the bus).

    Each entry holds the envelope (field ``e``) and its chain link (``seq``, ``prev``,
    ``hash``, ``mac``; see :mod:`bus._chain`). Appends read the stream's last link under
    ``WATCH``, so several writers extend one chain.

    Args:
        client: The Redis client.
        key: The stream key.
        secret: HMAC key: every entry also carries ``mac``.
    """

    def __init__(
        self, client: aioredis.Redis, key: str = "heliarch:journal", *, secret: bytes | None = None
    ) -> None:
        self.client = client
        self.key = key
        self.secret = secret

    @classmethod
    def from_url(
        cls, url: str, key: str = "heliarch:journal", *, secret: bytes | None = None
    ) -> RedisStreamJournal:
        """A journal on its own connection pool."""
        return cls(aioredis.Redis.from_url(url), key, secret=secret)

    def describe(self) -> str:
        return f"stream {self.key}"

    async def append_many(self, envelopes: Sequence[Envelope]) -> None:
        texts = [envelope.to_json() for envelope in envelopes]
        async with self.client.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(self.key)
                    last = entries_of(await pipe.xrevrange(self.key, "+", "-", count=1))
                    chain = Chain(self.secret)
                    chain.resume(_link(last[0][1]) if last else None)
                    pipe.multi()
                    for text in texts:
                        pipe.xadd(self.key, _entry(text, chain.next(text)))
                    await pipe.execute()
                    return
                except WatchError:
                    continue

    async def read(self) -> AsyncIterator[Envelope]:
        async for entry_id, fields in self._entries():
            try:
                envelope = decode_entry(fields)
            except MalformedMessageError as error:
                raise JournalCorruptError(f"{self.key} {entry_id!r}: {error}") from error
            yield envelope

    async def records(self) -> AsyncIterator[JournalRecord]:
        async for entry_id, fields in self._entries():
            where = f"{self.key} entry {entry_id.decode()}"
            try:
                link = _link(fields)
                envelope = decode_entry(fields)
                data = json.loads(entry_data(fields))
            except (ValueError, MalformedMessageError) as error:
                yield JournalRecord(where, None, problem=str(error))
                continue
            yield JournalRecord(where, link, data, envelope)

    async def _entries(self) -> AsyncIterator[tuple[bytes, dict[bytes, bytes]]]:
        start = "-"
        while True:
            entries = entries_of(await self.client.xrange(self.key, start, "+", count=1000))
            for entry in entries:
                yield entry
            if len(entries) < 1000:
                return
            start = "(" + entries[-1][0].decode()

    async def close(self) -> None:
        await self.client.aclose()


def _link(fields: Mapping[bytes, bytes]) -> Link | None:
    """The chain link of an entry (``None`` when unchained); ``ValueError`` if malformed."""
    return Link.parse({k.decode(errors="replace"): v for k, v in fields.items()})


def _entry(text: str, link: Link) -> dict[EncodableT, EncodableT]:
    """A stream entry's fields: the envelope (``e``) and its chain link."""
    entry: dict[EncodableT, EncodableT] = {"e": text}
    for name, value in link.fields().items():
        entry[name] = value
    return entry
