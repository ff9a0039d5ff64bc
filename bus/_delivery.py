"""Deliveries: one envelope handed to a handler (:class:`Delivery`, visible to it through
:func:`current_delivery`), the running consumers that hand them out (:class:`Subscription`)
and their counters; shared by both bus backends."""

from __future__ import annotations

import contextvars
import os
import socket
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from uuid import uuid4

from bus._envelope import Envelope
from bus._errors import BusError

Handler = Callable[[Envelope], Awaitable[Envelope | None]]
"""An async callable handling one envelope; for a request it may return the reply."""


@dataclass
class Delivery:
    """One delivery of one envelope to a handler (see :func:`current_delivery`).

    Attributes:
        envelope: The message.
        recipient: The recipient whose stream it was read from.
        group: The consumer group (competing consumers share one).
        consumer: This consumer's name.
        attempt: 1 on first delivery, higher on redelivery.
    """

    envelope: Envelope
    recipient: str
    group: str
    consumer: str
    attempt: int
    staged: list[tuple[str | int | float | bytes, ...]] = field(default_factory=list)
    supports_staging: bool = False

    def stage(self, *command: str | int | float | bytes) -> None:
        """Queue a Redis command that runs atomically with the idempotency record and ack.

        Staged commands run only when this delivery is the first to apply the message's
        idempotency key, so effects kept in Redis are applied exactly once even if the
        consumer dies between handler and acknowledgement. Redis backend only.
        """
        if not self.supports_staging:
            raise BusError("staged Redis commands need the Redis backend")
        if not command:
            raise ValueError("stage() needs a command")
        self.staged.append(command)


_CURRENT: contextvars.ContextVar[Delivery] = contextvars.ContextVar("heliarch_bus_delivery")


def current_delivery() -> Delivery:
    """The delivery being handled by the calling handler.

    Raises:
        LookupError: when called outside a bus handler.
    """
    return _CURRENT.get()


async def run_handler(handler: Handler, delivery: Delivery) -> Envelope | None:
    """Call ``handler`` with ``delivery`` visible through :func:`current_delivery`."""
    token = _CURRENT.set(delivery)
    try:
        return await handler(delivery.envelope)
    finally:
        _CURRENT.reset(token)


@dataclass
class SubscriptionStats:
    """Counters of one subscription."""

    applied: int = 0
    duplicates: int = 0
    failed: int = 0
    dead_lettered: int = 0


class Subscription(ABC):
    """A running consumer of one recipient's streams in one group."""

    def __init__(self, recipient: str, group: str, consumer: str) -> None:
        self.recipient = recipient
        self.group = group
        self.consumer = consumer
        self.stats = SubscriptionStats()

    @property
    @abstractmethod
    def running(self) -> bool:
        """Whether the consumer loops are running."""

    @abstractmethod
    async def start(self) -> None:
        """Start the consumer loops (idempotent)."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop the loops; unacknowledged messages stay pending for redelivery."""


def default_consumer_name() -> str:
    """A consumer name unique to this process and call."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid4().hex[:6]}"
