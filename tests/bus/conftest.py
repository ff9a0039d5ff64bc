"""Fixtures of the bus tests: a factory of buses for every backend (in-process and real Redis)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import uuid4

import pytest
from _bus_helpers import FAST, BusFactory
from _load_consumer import delete_prefix

from bus import Bus, BusConfig, Journal, RedisBus
from bus._inproc import InProcBus


@pytest.fixture(params=["inproc", "redis"])
async def make_bus(request: pytest.FixtureRequest) -> AsyncIterator[BusFactory]:
    """A factory of buses of one backend; Redis ones share a unique key prefix."""
    created: list[Bus] = []
    url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    prefix = f"heliarch:test:{uuid4().hex}:"

    def factory(config: BusConfig = FAST, journal: Journal | None = None) -> Bus:
        if request.param == "redis":
            bus: Bus = RedisBus(url, prefix=prefix, config=config, journal=journal)
        else:
            bus = InProcBus(config, journal)
        created.append(bus)
        return bus

    yield factory
    for bus in created:
        await bus.close()
    if url:
        await delete_prefix(url, prefix)
