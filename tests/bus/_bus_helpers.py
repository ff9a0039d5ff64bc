"""Helpers shared by the bus tests: a fast bus config, waiting, recording handlers, payloads."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

from bus import Bus, BusConfig, PlanetReport
from bus._envelope import Envelope

FAST = BusConfig(
    max_deliveries=3,
    visibility_timeout_s=0.2,
    reclaim_interval_s=0.05,
    max_backlog=1_000,
    backpressure_wait_s=0.0,
    block_ms=50,
    trim_interval_s=0.05,
)

BusFactory = Callable[..., Bus]


async def eventually(check: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Wait until ``check()`` holds (fails the test after ``timeout_s``)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


async def send_sentinel(bus: Bus, recipient: str) -> Envelope:
    """Send a marker to ``recipient`` on the default lane (behind everything sent before)."""
    sentinel = Envelope(sender="sun", recipient=recipient, kind="directive", payload={"s": 1})
    await bus.send(sentinel)
    return sentinel


def recorder(into: list[Envelope]) -> Callable[[Envelope], Awaitable[None]]:
    async def handler(envelope: Envelope) -> None:
        into.append(envelope)

    return handler


def report(score: float = 0.5) -> PlanetReport:
    return PlanetReport(
        planet="risk", instrument="GOOG", as_of=datetime(2013, 1, 2), score=score, confidence=0.8
    )
