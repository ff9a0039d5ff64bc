"""Shard tests: a unique key prefix per test (deleted afterwards) and a settable clock."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from _shard_helpers import Clock

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
