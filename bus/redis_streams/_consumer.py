"""Consumer side of the Redis Streams backend: read, handle, commit, reclaim, trim.

Per batch: decode every entry with :func:`bus.decode_entry` (a malformed one, whatever is
wrong with it, is dead-lettered at once with the error and never redelivered),
skip entries whose idempotency key is already applied, run the handler on the rest, then
commit in one atomic script: for each success ``SET <idempotency key> NX`` and, only if the
key is new, the delivery's staged commands (and the reply); then ``XACK``. A handler error
is recorded and the entry stays pending; ``XAUTOCLAIM`` hands it out again after the
visibility timeout, and after ``max_deliveries`` it is dead-lettered with that error.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Protocol

import redis.asyncio as aioredis

from bus._api import BusConfig
from bus._bounds import clip
from bus._delivery import Delivery, Handler, Subscription, default_consumer_name, run_handler
from bus._envelope import Envelope
from bus._errors import MalformedMessageError
from bus._wire import decode_entry, raw_of
from bus.redis_streams._keys import RedisKeys
from bus.redis_streams._replies import Arg, Entry, batches_of
from bus.redis_streams._scripts import COMMIT, TRIM

log = logging.getLogger(__name__)

Op = list[object]


class RedisHost(Protocol):
    """What a subscription needs from its bus (:class:`bus.RedisBus` provides it)."""

    client: aioredis.Redis
    keys: RedisKeys
    config: BusConfig


class RedisSubscription(Subscription):
    """One consumer in one group: a control-plane task and a data-lane task."""

    def __init__(
        self, bus: RedisHost, recipient: str, group: str, handler: Handler, consumer: str | None
    ) -> None:
        super().__init__(recipient, group, consumer or default_consumer_name())
        self._bus = bus
        self._handler = handler
        self._commit = bus.client.register_script(COMMIT)
        self._trim = bus.client.register_script(TRIM)
        self._control_stream = bus.keys.control(recipient)
        self._lanes = bus.keys.streams_of(recipient)[1:]
        self._cursors: dict[str, bytes] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    @property
    def running(self) -> bool:
        return any(not t.done() for t in self._tasks)

    async def start(self) -> None:
        if not self.running:
            self._stopping = False
            self._tasks = [
                asyncio.create_task(self._loop([self._control_stream])),
                asyncio.create_task(self._loop(self._lanes)),
            ]

    async def stop(self) -> None:
        """Let the loops finish their current batch (at most one blocking read), then end."""
        self._stopping = True
        await stop_tasks(self._tasks, self._bus.config.block_ms / 1000 + 2.0)
        self._tasks = []

    async def _loop(self, streams: list[str]) -> None:
        loop = asyncio.get_running_loop()
        config = self._bus.config
        next_reclaim = next_trim = loop.time()
        dirty: set[str] = set()
        while not self._stopping:
            try:
                if loop.time() >= next_reclaim:
                    for stream in streams:
                        await self._reclaim(stream)
                    next_reclaim = loop.time() + config.reclaim_interval_s
                if dirty and loop.time() >= next_trim:
                    for stream in dirty:
                        await self._trim(keys=[stream])
                    dirty.clear()
                    next_trim = loop.time() + config.trim_interval_s
                dirty.update(await self._read(streams))
            except asyncio.CancelledError:
                raise
            except Exception:  # a broken connection or script must not end the consumer
                log.exception("consumer %s of %s: iteration failed", self.consumer, streams)
                await asyncio.sleep(min(1.0, config.reclaim_interval_s))

    async def _read(self, streams: list[str]) -> set[str]:
        """One blocking read over ``streams``; processes them in the given (priority) order."""
        config = self._bus.config
        reply = batches_of(
            await self._bus.client.xreadgroup(
                self.group,
                self.consumer,
                {stream: ">" for stream in streams},
                count=config.batch_size,
                block=config.block_ms,
            )
        )
        by_stream = {_text(name): entries for name, entries in reply}
        for stream in streams:
            entries = by_stream.get(stream)
            if entries:
                await self._process(stream, entries, {})
        return {s for s, e in by_stream.items() if e}

    async def _reclaim(self, stream: str) -> None:
        """Take over entries idle past the visibility timeout (a dead or failing consumer)."""
        client, config = self._bus.client, self._bus.config
        start = self._cursors.get(stream, b"0-0")
        cursor, entries, deleted = await client.xautoclaim(
            stream,
            self.group,
            self.consumer,
            int(config.visibility_timeout_s * 1000),
            start_id=start,
            count=config.batch_size,
        )
        self._cursors[stream] = cursor
        if deleted:
            log.error("%s: pending entries %s no longer exist", stream, deleted)
        entries = [e for e in entries if e[0] is not None]
        if entries:
            await self._process(stream, entries, await self._delivery_counts(stream, entries))

    async def _delivery_counts(self, stream: str, entries: list[Entry]) -> dict[bytes, int]:
        async with self._bus.client.pipeline(transaction=False) as pipe:
            for entry_id, _ in entries:
                pipe.xpending_range(stream, self.group, entry_id, entry_id, 1)
            rows = await pipe.execute()
        return {r[0]["message_id"]: int(r[0]["times_delivered"]) for r in rows if r}

    async def _process(self, stream: str, entries: list[Entry], counts: dict[bytes, int]) -> None:
        dead: list[Arg] = []
        ready: list[tuple[str, Envelope, int]] = []
        exhausted: list[tuple[bytes, bytes, int, str]] = []
        for entry_id, fields in entries:
            raw = raw_of(fields)
            attempt = counts.get(entry_id, 1)
            try:
                envelope = decode_entry(fields)
            except MalformedMessageError as error:  # never redelivered: dead-letter at once
                dead += _dead_args(entry_id, clip(raw), str(error), attempt, error.envelope_id)
                continue
            if attempt > self._bus.config.max_deliveries:
                exhausted.append((entry_id, raw, attempt, envelope.id))
            else:
                ready.append((entry_id.decode(), envelope, attempt))
        dead += await self._exhausted_args(stream, exhausted)
        ops = await self._handle_all(ready)
        if ops or dead:
            await self._commit_ops(stream, ops, dead)

    async def _exhausted_args(
        self, stream: str, items: list[tuple[bytes, bytes, int, str]]
    ) -> list[Arg]:
        """Dead-letter arguments for entries delivered more than ``max_deliveries`` times."""
        if not items:
            return []
        ids = [item[0] for item in items]
        errors = await self._bus.client.hmget(self._bus.keys.errors(stream), ids)
        args: list[Arg] = []
        for (entry_id, raw, attempt, envelope_id), error in zip(items, errors, strict=True):
            reason = _text(error) if error else "delivered too often (no handler error recorded)"
            args += _dead_args(entry_id, raw, reason, attempt, envelope_id)
        return args

    async def _handle_all(self, ready: list[tuple[str, Envelope, int]]) -> list[Op]:
        if not ready:
            return []
        keys = self._bus.keys
        markers = [
            keys.idempotency(self.recipient, self.group, e.idempotency_key) for _, e, _ in ready
        ]
        applied = await self._bus.client.mget(markers)
        ops: list[Op] = []
        for (entry_id, envelope, attempt), marker, done in zip(
            ready, markers, applied, strict=True
        ):
            if done is not None:
                ops.append(["A", entry_id])
            else:
                ops.append(await self._handle_one(entry_id, envelope, attempt, marker))
        return ops

    async def _handle_one(self, entry_id: str, envelope: Envelope, attempt: int, marker: str) -> Op:
        delivery = Delivery(
            envelope, self.recipient, self.group, self.consumer, attempt, supports_staging=True
        )
        try:
            reply = await run_handler(self._handler, delivery)
        except Exception as error:  # the entry stays pending and is redelivered
            self.stats.failed += 1
            return ["F", entry_id, f"{type(error).__name__}: {error}"[:2000]]
        commands: list[Any] = list(delivery.staged)
        if reply is not None and envelope.reply_to:
            inbox = self._bus.keys.lane(reply.recipient, reply.priority)
            commands.append(("XADD", inbox, "*", "e", reply.to_json()))
            commands.append(("EXPIRE", inbox, 3600))
        return ["C", entry_id, marker, commands]

    async def _commit_ops(self, stream: str, ops: list[Op], dead: list[Arg]) -> None:
        keys = self._bus.keys
        config = self._bus.config
        packed = json.dumps(ops, separators=(",", ":"), default=_json_bytes)
        args: list[Arg] = [
            self.group,
            config.idempotency_ttl_s,
            self.recipient,
            self.consumer,
            packed,
        ]
        applied, duplicates, dead_count = await self._commit(
            keys=[stream, keys.dead, keys.errors(stream)], args=[*args, *dead]
        )
        self.stats.applied += int(applied)
        self.stats.duplicates += int(duplicates)
        self.stats.dead_lettered += int(dead_count)


async def stop_tasks(tasks: list[asyncio.Task[None]], grace_s: float) -> None:
    """Wait ``grace_s`` for cooperative exit, then cancel what is left (bounded wait)."""
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=grace_s)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=2.0)


def _dead_args(
    entry_id: bytes, raw: bytes, error: str, attempt: int, envelope_id: str | None
) -> list[Arg]:
    return [entry_id, raw, error, attempt, envelope_id or ""]


def _json_bytes(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    raise TypeError(f"cannot stage {type(value).__name__} in a Redis command")


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
