"""Redis Streams bus backend: priority lanes, consumer groups, dead letters, backpressure.

The key layout is described in :mod:`bus.redis_streams._keys`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from bus._api import Bus, BusConfig, JournalSink
from bus._bounds import clip
from bus._delivery import Handler, Subscription
from bus._envelope import Envelope, Priority
from bus._errors import BackpressureError, MalformedMessageError
from bus._security import RedisSecurity, reply_address
from bus._wire import DeadLetter, decode_entry, raw_of
from bus.redis_streams._consumer import RedisSubscription, stop_tasks
from bus.redis_streams._keys import RedisKeys
from bus.redis_streams._replies import Arg, batches_of, entries_of
from bus.redis_streams._scripts import SEND

log = logging.getLogger(__name__)


class RedisBus(Bus):
    """The bus over Redis Streams (``REDIS_URL``); processes and machines share it.

    Args:
        url: Redis URL, e.g. ``redis://127.0.0.1:6379/0``.
        prefix: Prefix of every key (use one per deployment or test).
        config: Delivery and bound settings.
        journal: Optional journal receiving every delivered envelope.
        security: TLS files and ACL login (see :class:`~bus.RedisSecurity`).
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "heliarch:",
        config: BusConfig | None = None,
        journal: JournalSink | None = None,
        security: RedisSecurity | None = None,
    ) -> None:
        super().__init__(config, journal)
        self.url = url
        self.keys = RedisKeys(prefix)
        self.security = security or RedisSecurity()
        if self.security.reply_namespace is not None:
            self.reply_address = reply_address(self.security.reply_namespace, self.instance_id)
        self.client: aioredis.Redis = aioredis.Redis.from_url(
            self.security.url(url), decode_responses=False, **self.security.redis_kwargs()
        )
        self._send_script = self.client.register_script(SEND)
        self._reply_task: asyncio.Task[None] | None = None
        self._closing = False

    # -- producing -------------------------------------------------------------------------

    async def _deliver(
        self, envelopes: Sequence[Envelope], routes: Sequence[Iterable[str]], *, control: bool
    ) -> None:
        items: list[tuple[str, list[str], str | bytes]] = []
        for envelope, recipients in zip(envelopes, routes, strict=True):
            if control:
                streams = [self.keys.control(r) for r in recipients]
            else:
                streams = [self.keys.lane(r, envelope.priority) for r in recipients]
            items.append((envelope.id, streams, envelope.to_json()))
        await self._add(items, control=control)

    async def publish_raw(
        self, recipient: str, data: str | bytes, *, priority: int = 2, control: bool = False
    ) -> None:
        lane = Priority(priority)
        stream = self.keys.control(recipient) if control else self.keys.lane(recipient, lane)
        await self._add([("<raw>", [stream], data)], control=control)

    async def _add(self, items: list[tuple[str, list[str], str | bytes]], *, control: bool) -> None:
        """Add items (id, streams, data) in order, waiting for room up to the configured time."""
        limit = self.config.control_max_backlog if control else self.config.max_backlog
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.backpressure_wait_s
        pending = items
        while pending:
            rejected, stream, backlog = await self._add_once(pending, limit)
            if not rejected:
                return
            pending = [pending[i] for i in rejected]
            if loop.time() >= deadline:
                raise BackpressureError(stream, backlog, limit, tuple(i[0] for i in pending))
            await asyncio.sleep(0.005)

    async def _add_once(
        self, items: list[tuple[str, list[str], str | bytes]], limit: int
    ) -> tuple[list[int], str, int]:
        index: dict[str, int] = {}
        messages: list[tuple[list[int], str]] = []
        for _, streams, data in items:
            positions = [index.setdefault(s, len(index) + 1) for s in streams]
            text = data if isinstance(data, str) else data.decode("utf-8", errors="replace")
            messages.append((positions, text))
        keys = list(index)
        args: list[Arg] = [*([limit] * len(keys)), json.dumps(messages, separators=(",", ":"))]
        rejected, stream, backlog = await self._send_script(keys=keys, args=args)
        return [int(r) - 1 for r in rejected], _text(stream), int(backlog)

    # -- consuming -------------------------------------------------------------------------

    async def subscribe(
        self,
        recipient: str,
        handler: Handler,
        *,
        group: str | None = None,
        consumer: str | None = None,
        start: bool = True,
    ) -> Subscription:
        group = group or recipient
        await self.ensure_group(recipient, group)
        subscription = RedisSubscription(self, recipient, group, handler, consumer)
        self._subscriptions.append(subscription)
        if start:
            await subscription.start()
        return subscription

    async def ensure_group(self, recipient: str, group: str) -> None:
        """Create ``group`` on every stream of ``recipient`` (from the start of each stream)."""
        for stream in self.keys.streams_of(recipient):
            try:
                await self.client.xgroup_create(stream, group, id="0", mkstream=True)
            except ResponseError as error:
                if "BUSYGROUP" not in str(error):
                    raise
        await self.client.sadd(self.keys.recipients, recipient)

    async def recipients(self) -> set[str]:
        return {_text(m) for m in await self.client.smembers(self.keys.recipients)}

    async def dead_letters(self) -> list[DeadLetter]:
        entries = entries_of(await self.client.xrange(self.keys.dead, "-", "+"))
        return [_dead_letter(entry_id, fields) for entry_id, fields in entries]

    async def backlog(self, recipient: str) -> dict[str, int]:
        """Entries not yet trimmed per stream of ``recipient`` (what backpressure bounds)."""
        streams = self.keys.streams_of(recipient)
        async with self.client.pipeline(transaction=False) as pipe:
            for stream in streams:
                pipe.xlen(stream)
            lengths = await pipe.execute()
        return dict(zip(streams, (int(n) for n in lengths), strict=True))

    # -- request / reply -------------------------------------------------------------------

    async def _ensure_reply_listener(self) -> None:
        if self._reply_task is None or self._reply_task.done():
            self._reply_task = asyncio.create_task(self._listen_replies())

    async def _listen_replies(self) -> None:
        inbox = self.keys.inbox(self.reply_address)
        last = b"0-0"
        while not self._closing:
            batches = batches_of(
                await self.client.xread({inbox: last}, count=100, block=self.config.block_ms)
            )
            for _, entries in batches:
                for entry_id, fields in entries:
                    last = entry_id
                    await self._accept_reply(inbox, entry_id, fields)
                if entries:
                    await self.client.xdel(inbox, *(entry_id for entry_id, _ in entries))
                    await self.client.expire(inbox, 3600)

    async def _accept_reply(self, inbox: str, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        """Resolve the request a reply answers; dead-letter a malformed reply at once."""
        try:
            reply = decode_entry(fields)
        except MalformedMessageError as error:
            log.warning("dead-lettering malformed reply %r: %s", entry_id, error)
            await self.client.xadd(
                self.keys.dead,
                {
                    "raw": clip(raw_of(fields)),
                    "error": str(error),
                    "deliveries": 1,
                    "envelope_id": error.envelope_id or "",
                    "recipient": self.reply_address,
                    "group": "",
                    "stream": inbox,
                    "source_id": entry_id,
                },
            )
            return
        if not self._resolve_reply(reply):
            log.info("reply %s arrived after its request ended", reply.id)

    async def _close_backend(self) -> None:
        self._closing = True
        if self._reply_task is not None:
            await stop_tasks([self._reply_task], self.config.block_ms / 1000 + 2.0)
            await self.client.delete(self.keys.inbox(self.reply_address))
        await self.client.aclose()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _dead_letter(entry_id: bytes, fields: dict[bytes, bytes]) -> DeadLetter:
    millis = int(_text(entry_id).split("-")[0])
    return DeadLetter(
        raw=fields.get(b"raw", b"").decode("utf-8", errors="replace"),
        error=_text(fields.get(b"error", b"")),
        recipient=_text(fields.get(b"recipient", b"")),
        group=_text(fields.get(b"group", b"")),
        deliveries=int(fields.get(b"deliveries", b"0")),
        envelope_id=_text(fields.get(b"envelope_id", b"")) or None,
        source_id=_text(fields.get(b"source_id", b"")) or None,
        at=datetime.fromtimestamp(millis / 1000, UTC),
    )
