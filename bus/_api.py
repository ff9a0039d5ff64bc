"""The bus API shared by every backend: its settings, routing rules and request/reply (the
deliveries and consumers are in :mod:`bus._delivery`)."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, Self
from uuid import uuid4

from bus._delivery import Handler, Subscription
from bus._envelope import BROADCAST, REPLY_PREFIX, SUN, Envelope
from bus._errors import BusClosedError, RequestTimeoutError
from bus._wire import DeadLetter


class JournalSink(Protocol):
    """What the bus needs from a journal (see :mod:`bus._journal`)."""

    async def append_many(self, envelopes: Sequence[Envelope]) -> None: ...


@dataclass(frozen=True)
class BusConfig:
    """Delivery, retry and bound settings shared by both backends.

    Attributes:
        max_deliveries: Deliveries of one message before it is dead-lettered.
        visibility_timeout_s: A delivered, unacknowledged message is handed to another
            consumer after this long (Redis: XAUTOCLAIM min-idle; in-process: retry delay).
        reclaim_interval_s: How often a consumer looks for such messages.
        max_backlog: Bound per data lane per recipient (unprocessed plus pending).
        control_max_backlog: Bound of each control-plane stream.
        backpressure_wait_s: How long a producer waits for room before
            :class:`BackpressureError` (0 raises at once).
        batch_size: Messages read (and acknowledged) per round trip.
        block_ms: Longest blocking read of an idle consumer.
        idempotency_ttl_s: How long an applied idempotency key is remembered.
        trim_interval_s: How often consumers trim entries every group has acknowledged.
    """

    max_deliveries: int = 5
    visibility_timeout_s: float = 30.0
    reclaim_interval_s: float = 5.0
    max_backlog: int = 10_000
    control_max_backlog: int = 1_000
    backpressure_wait_s: float = 1.0
    batch_size: int = 100
    block_ms: int = 1_000
    idempotency_ttl_s: int = 7 * 24 * 3600
    trim_interval_s: float = 0.5

    def __post_init__(self) -> None:
        if self.max_deliveries < 1 or self.batch_size < 1 or self.max_backlog < 1:
            raise ValueError("max_deliveries, batch_size and max_backlog must be >= 1")


class Bus(ABC):
    """The async message bus between the sun and the planets.

    Routing rules: :meth:`send_to_sun` delivers to ``"sun"``; :meth:`broadcast` to every
    subscribed planet except the sender; :meth:`planet_to_planet` to the target planet and a
    copy to the sun; :meth:`control` to the recipient's control plane, which consumers read
    ahead of (and concurrently with) their data lanes. Every delivered message is journaled
    when a journal is configured.
    """

    def __init__(self, config: BusConfig | None = None, journal: JournalSink | None = None):
        self.config = config or BusConfig()
        self.journal = journal
        self.instance_id = uuid4().hex
        self.reply_address = f"{REPLY_PREFIX}{self.instance_id}"
        self._waiters: dict[str, asyncio.Future[Envelope]] = {}
        self._subscriptions: list[Subscription] = []
        self._closed = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- routing ---------------------------------------------------------------------------

    async def send_to_sun(self, envelope: Envelope) -> None:
        """Deliver ``envelope`` (addressed to ``"sun"``) to the sun."""
        _require(envelope.recipient == SUN, "send_to_sun needs recipient 'sun'", envelope)
        await self._send([envelope], [[SUN]], control=False)

    async def broadcast(self, envelope: Envelope) -> int:
        """Deliver ``envelope`` (recipient ``"*"``) to every subscribed planet but the sender.

        Returns:
            The number of planets it was delivered to.
        """
        _require(envelope.recipient == BROADCAST, "broadcast needs recipient '*'", envelope)
        targets = await self._planets(exclude=envelope.sender)
        if targets:
            await self._send([envelope], [targets], control=False)
        return len(targets)

    async def planet_to_planet(self, envelope: Envelope) -> None:
        """Deliver ``envelope`` to its target planet and a copy to the sun."""
        _require(_is_planet(envelope.recipient), "planet_to_planet needs a planet", envelope)
        await self._send([envelope], [[envelope.recipient, SUN]], control=False)

    async def control(self, envelope: Envelope) -> int:
        """Deliver a ``control`` envelope on the control plane (``"*"``: every recipient)."""
        _require(envelope.kind == "control", "control needs kind 'control'", envelope)
        if envelope.recipient == BROADCAST:
            targets = sorted(await self.recipients())
        else:
            targets = [envelope.recipient]
        if targets:
            await self._send([envelope], [targets], control=True)
        return len(targets)

    async def send(self, envelope: Envelope) -> None:
        """Deliver one data-plane envelope as addressed (``"*"``: every planet but the sender).

        Unlike :meth:`planet_to_planet`, no copy goes to the sun.
        """
        await self.send_many([envelope])

    async def send_many(self, envelopes: Sequence[Envelope]) -> None:
        """Route many data-plane envelopes in one batch (pipelined on Redis).

        Raises:
            BackpressureError: naming the envelopes that were not sent.
        """
        planets: list[str] | None = None
        routes: list[list[str]] = []
        for envelope in envelopes:
            if envelope.recipient == BROADCAST:
                planets = planets if planets is not None else await self._planets(exclude=None)
                routes.append([p for p in planets if p != envelope.sender])
            else:
                routes.append([envelope.recipient])
        await self._send(list(envelopes), routes, control=False)

    async def request(self, envelope: Envelope, timeout_s: float) -> Envelope:
        """Send a ``request`` and wait for the reply correlated to its id.

        Raises:
            RequestTimeoutError: if no reply arrives within ``timeout_s``.
        """
        _require(envelope.kind == "request", "request needs kind 'request'", envelope)
        outgoing = envelope.model_copy(update={"reply_to": self.reply_address})
        waiter: asyncio.Future[Envelope] = asyncio.get_running_loop().create_future()
        self._waiters[outgoing.id] = waiter
        try:
            await self._ensure_reply_listener()
            await self._send([outgoing], [[outgoing.recipient]], control=False)
            return await asyncio.wait_for(waiter, timeout_s)
        except TimeoutError:
            raise RequestTimeoutError(
                f"no reply from {envelope.recipient!r} to request {envelope.id} "
                f"within {timeout_s:.3g}s"
            ) from None
        finally:
            self._waiters.pop(outgoing.id, None)

    def _resolve_reply(self, reply: Envelope) -> bool:
        waiter = self._waiters.get(reply.correlation_id or "")
        if waiter is None or waiter.done():
            return False
        waiter.set_result(reply)
        return True

    async def _send(
        self, envelopes: list[Envelope], routes: list[list[str]], *, control: bool
    ) -> None:
        if self._closed:
            raise BusClosedError("bus is closed")
        await self._deliver(envelopes, routes, control=control)
        if self.journal is not None:
            await self.journal.append_many(envelopes)

    async def _planets(self, exclude: str | None) -> list[str]:
        return sorted(r for r in await self.recipients() if _is_planet(r) and r != exclude)

    # -- lifecycle -------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop every subscription of this bus and release its resources."""
        self._closed = True
        for subscription in self._subscriptions:
            await subscription.stop()
        for waiter in self._waiters.values():
            waiter.cancel()
        await self._close_backend()

    # -- backend primitives ----------------------------------------------------------------

    @abstractmethod
    async def _deliver(
        self, envelopes: Sequence[Envelope], routes: Sequence[Iterable[str]], *, control: bool
    ) -> None:
        """Enqueue ``envelopes[i]`` to every recipient in ``routes[i]`` with backpressure."""

    @abstractmethod
    async def _ensure_reply_listener(self) -> None:
        """Make sure replies to :attr:`reply_address` reach :meth:`_resolve_reply`."""

    @abstractmethod
    async def _close_backend(self) -> None:
        """Release backend resources."""

    @abstractmethod
    async def recipients(self) -> set[str]:
        """Every recipient that has (or had) a subscription on this bus."""

    @abstractmethod
    async def subscribe(
        self,
        recipient: str,
        handler: Handler,
        *,
        group: str | None = None,
        consumer: str | None = None,
        start: bool = True,
    ) -> Subscription:
        """Consume ``recipient``'s control plane and data lanes with ``handler``.

        Consumers sharing ``group`` (default: the recipient) compete for messages; separate
        groups each receive every message. A handler exception leaves the message for
        redelivery; after ``max_deliveries`` it is dead-lettered with the error. A message
        whose idempotency key was already applied in this group is acknowledged unhandled.
        """

    @abstractmethod
    async def publish_raw(
        self, recipient: str, data: str | bytes, *, priority: int = 2, control: bool = False
    ) -> None:
        """Enqueue undecoded wire data (e.g. from a bridge); invalid data is dead-lettered."""

    @abstractmethod
    async def dead_letters(self) -> list[DeadLetter]:
        """Every dead-lettered message, oldest first."""


def _is_planet(name: str) -> bool:
    return name not in (SUN, BROADCAST) and not name.startswith(REPLY_PREFIX)


def _require(condition: bool, message: str, envelope: Envelope) -> None:
    if not condition:
        raise ValueError(
            f"{message} (envelope {envelope.id}: kind={envelope.kind!r}, "
            f"recipient={envelope.recipient!r})"
        )
