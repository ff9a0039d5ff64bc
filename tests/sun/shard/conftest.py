"""Shard tests: a unique key prefix per test (deleted afterwards), a settable clock, a bus on
that prefix, the bundled 16-instrument universe and a quant sun (one per test module)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from _shard_helpers import Clock

from bus import BarSeries, RedisBus
from heliarch.backtest import bundled_universe
from sun import Sun

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    name = f"heliarch:test:shard:{uuid4().hex}:"
    yield name
    sys.path.insert(0, str(ROOT / "tests" / "bus"))
    from _load_consumer import delete_prefix

    asyncio.run(delete_prefix(redis_url, name))


@pytest.fixture(scope="module")
def universe() -> tuple[dict[str, BarSeries], BarSeries]:
    return bundled_universe(16, 300)


@pytest.fixture(scope="module")
def sun() -> Iterator[Sun]:
    with Sun("quant", checkpoint="none") as made:
        yield made


@pytest.fixture
async def bus(redis_url: str, prefix: str) -> AsyncIterator[RedisBus]:
    made = RedisBus(redis_url, prefix=prefix)
    yield made
    await made.close()
