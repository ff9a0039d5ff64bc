"""In-process bus backend: asyncio priority queues per recipient and group (the default)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bus._api import Bus, BusConfig, JournalSink
from bus._delivery import Delivery, Handler, Subscription, default_consumer_name, run_handler
from bus._envelope import REPLY_PREFIX, Envelope, Priority
from bus._errors import BackpressureError, EnvelopeValidationError
from bus._wire import DeadLetter, decode_envelope

log = logging.getLogger(__name__)

CONTROL_LANE = -1


@dataclass
class _Item:
    """A queued message: a validated envelope or undecoded wire data."""

    message: Envelope | str | bytes
    lane: int
    attempt: int = 1

    def raw(self) -> str:
        if isinstance(self.message, Envelope):
            return self.message.to_json()
        if isinstance(self.message, bytes):
            return self.message.decode("utf-8", errors="replace")
        return self.message


@dataclass
class _Channel:
    """Queues of one recipient for one consumer group, with its idempotency memory."""

    recipient: str
    group: str | None
    data: asyncio.PriorityQueue[tuple[int, int, _Item]] = field(
        default_factory=asyncio.PriorityQueue
    )
    control: asyncio.Queue[_Item] = field(default_factory=asyncio.Queue)
    backlog: dict[int, int] = field(default_factory=dict)
    applied: dict[str, float] = field(default_factory=dict)
    inflight: set[str] = field(default_factory=set)

    def room(self, lane: int, limit: int) -> bool:
        return self.backlog.get(lane, 0) < limit

    def put(self, item: _Item, seq: int) -> None:
        self.backlog[item.lane] = self.backlog.get(item.lane, 0) + 1
        self.requeue(item, seq)

    def requeue(self, item: _Item, seq: int) -> None:
        if item.lane == CONTROL_LANE:
            self.control.put_nowait(item)
        else:
            self.data.put_nowait((item.lane, seq, item))

    def release(self, item: _Item) -> None:
        self.backlog[item.lane] -= 1

    def was_applied(self, key: str) -> bool:
        expiry = self.applied.get(key)
        return expiry is not None and expiry > time.monotonic()

    def mark_applied(self, key: str, ttl_s: float) -> None:
        now = time.monotonic()
        if len(self.applied) > 100_000:
            self.applied = {k: v for k, v in self.applied.items() if v > now}
        self.applied[key] = now + ttl_s


class InProcBus(Bus):
    """The embedded bus: same semantics as the Redis backend within one event loop."""

    def __init__(self, config: BusConfig | None = None, journal: JournalSink | None = None):
        super().__init__(config, journal)
        self._channels: dict[str, dict[str | None, _Channel]] = {}
        self._dead: list[DeadLetter] = []
        self._seq = itertools.count()

    # -- producing -------------------------------------------------------------------------

    async def _deliver(
        self, envelopes: Sequence[Envelope], routes: Sequence[Iterable[str]], *, control: bool
    ) -> None:
        for index, (envelope, recipients) in enumerate(zip(envelopes, routes, strict=True)):
            lane = CONTROL_LANE if control else int(envelope.priority)
            try:
                await self._put(list(recipients), envelope, lane)
            except BackpressureError as error:
                rejected = tuple(e.id for e in envelopes[index:])
                raise BackpressureError(
                    error.stream, error.backlog, error.limit, rejected
                ) from None

    async def publish_raw(
        self, recipient: str, data: str | bytes, *, priority: int = 2, control: bool = False
    ) -> None:
        lane = CONTROL_LANE if control else int(Priority(priority))
        await self._put([recipient], data, lane)

    async def _put(self, recipients: list[str], message: Envelope | str | bytes, lane: int) -> None:
        if any(r.startswith(REPLY_PREFIX) for r in recipients):
            self._route_reply(message)
            return
        channels = [c for r in recipients for c in self._channels_of(r)]
        limit = self.config.control_max_backlog if lane == CONTROL_LANE else self.config.max_backlog
        deadline = time.monotonic() + self.config.backpressure_wait_s
        while True:
            full = [c for c in channels if not c.room(lane, limit)]
            if not full:
                break
            if time.monotonic() >= deadline:
                stream = f"{full[0].recipient}/{full[0].group}/lane{lane}"
                raise BackpressureError(stream, full[0].backlog[lane], limit)
            await asyncio.sleep(0.002)
        seq = next(self._seq)
        for channel in channels:
            channel.put(_Item(message, lane), seq)

    def _channels_of(self, recipient: str) -> list[_Channel]:
        groups = self._channels.setdefault(recipient, {})
        if not groups:
            groups[None] = _Channel(recipient, None)
        return list(groups.values())

    def _route_reply(self, reply: object) -> None:
        if isinstance(reply, Envelope) and self._resolve_reply(reply):
            return
        log.warning("dropping reply with no waiting request: %r", reply)

    # -- consuming -------------------------------------------------------------------------

    def _channel_for(self, recipient: str, group: str) -> _Channel:
        groups = self._channels.setdefault(recipient, {})
        if group not in groups:
            orphan = groups.pop(None, None)
            channel = orphan or _Channel(recipient, group)
            channel.group = group
            groups[group] = channel
        return groups[group]

    async def subscribe(
        self,
        recipient: str,
        handler: Handler,
        *,
        group: str | None = None,
        consumer: str | None = None,
        start: bool = True,
    ) -> Subscription:
        channel = self._channel_for(recipient, group or recipient)
        subscription = _InProcSubscription(self, channel, handler, consumer)
        self._subscriptions.append(subscription)
        if start:
            await subscription.start()
        return subscription

    async def recipients(self) -> set[str]:
        return {r for r, groups in self._channels.items() if any(g for g in groups)}

    async def dead_letters(self) -> list[DeadLetter]:
        return list(self._dead)

    def _dead_letter(
        self, channel: _Channel, item: _Item, error: str, envelope_id: str | None = None
    ) -> None:
        if isinstance(item.message, Envelope):
            envelope_id = item.message.id
        self._dead.append(
            DeadLetter(
                raw=item.raw(),
                error=error,
                recipient=channel.recipient,
                group=channel.group or channel.recipient,
                deliveries=item.attempt,
                envelope_id=envelope_id,
            )
        )

    async def _ensure_reply_listener(self) -> None:
        return None

    async def _close_backend(self) -> None:
        return None


class _InProcSubscription(Subscription):
    """Two tasks over one channel: the control plane and the data lanes."""

    def __init__(
        self, bus: InProcBus, channel: _Channel, handler: Handler, consumer: str | None
    ) -> None:
        assert channel.group is not None
        super().__init__(channel.recipient, channel.group, consumer or default_consumer_name())
        self._bus = bus
        self._channel = channel
        self._handler = handler
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def running(self) -> bool:
        return any(not t.done() for t in self._tasks)

    async def start(self) -> None:
        if not self.running:
            self._tasks = [
                asyncio.create_task(self._loop(control=True)),
                asyncio.create_task(self._loop(control=False)),
            ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _loop(self, *, control: bool) -> None:
        while True:
            if control:
                item = await self._channel.control.get()
            else:
                _, _, item = await self._channel.data.get()
            try:
                await self._process(item)
            except asyncio.CancelledError:
                self._channel.requeue(item, next(self._bus._seq))
                raise

    async def _process(self, item: _Item) -> None:
        channel, config = self._channel, self._bus.config
        try:
            envelope = _decode(item.message)
        except EnvelopeValidationError as error:
            self._bus._dead_letter(channel, item, str(error), error.envelope_id)
            self.stats.dead_lettered += 1
            channel.release(item)
            return
        key = envelope.idempotency_key
        if channel.was_applied(key):
            self.stats.duplicates += 1
            channel.release(item)
            return
        if key in channel.inflight:
            self._retry_later(item, attempt=item.attempt, delay=0.005)
            return
        channel.inflight.add(key)
        try:
            delivery = Delivery(envelope, self.recipient, self.group, self.consumer, item.attempt)
            reply = await run_handler(self._handler, delivery)
        except Exception as error:  # a handler failure must never stop the worker
            self._failed(item, f"{type(error).__name__}: {error}")
            return
        finally:
            channel.inflight.discard(key)
        channel.mark_applied(key, config.idempotency_ttl_s)
        self.stats.applied += 1
        channel.release(item)
        if reply is not None and envelope.reply_to:
            await self._bus.send(reply)

    def _failed(self, item: _Item, error: str) -> None:
        self.stats.failed += 1
        if item.attempt >= self._bus.config.max_deliveries:
            self._bus._dead_letter(self._channel, item, error)
            self.stats.dead_lettered += 1
            self._channel.release(item)
            return
        self._retry_later(item, item.attempt + 1, self._bus.config.visibility_timeout_s)

    def _retry_later(self, item: _Item, attempt: int, delay: float) -> None:
        item.attempt = attempt
        seq = next(self._bus._seq)
        asyncio.get_running_loop().call_later(delay, self._channel.requeue, item, seq)


def _decode(message: Envelope | str | bytes) -> Envelope:
    if isinstance(message, Envelope):
        return message
    return decode_envelope(message)
