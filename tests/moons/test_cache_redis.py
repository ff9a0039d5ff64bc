"""The Redis moon-cache backend: shared between processes' caches, exact, expiring, degrading."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import numpy as np
import pytest
import redis

from moons import CacheBackend, MoonCache, Ohlcv, RedisBackend, batch_panel
from moons._cache_redis import decode, encode


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    name = f"heliarch:test:moons:{uuid4().hex}:"
    yield name
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{name}*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_codec_round_trips_arrays_without_pickle() -> None:
    value = {"rsi": np.array([np.nan, 1.5, -2.0]), "n": np.arange(3)}
    back = decode(encode(value))
    assert set(back) == {"rsi", "n"} and back["n"].dtype == value["n"].dtype
    np.testing.assert_array_equal(back["rsi"], value["rsi"])
    assert not back["rsi"].flags.writeable
    with pytest.raises(TypeError, match="arrays"):
        encode({"x": [1, 2]})


def test_panel_results_are_shared_through_redis(redis_url: str, prefix: str, goog: Ohlcv) -> None:
    first = MoonCache(RedisBackend(redis_url, prefix=prefix, ttl_s=60))
    second = MoonCache(RedisBackend(redis_url, prefix=prefix, ttl_s=60))  # another worker
    assert isinstance(first.backend, CacheBackend)
    computed = batch_panel(goog, cache=first)
    shared = batch_panel(goog, cache=second)
    assert (first.misses, second.hits, second.misses) == (1, 1, 0)
    assert computed.keys() == shared.keys()
    for name, column in computed.items():
        np.testing.assert_array_equal(column, shared[name])
    client = redis.Redis.from_url(redis_url)
    (key,) = list(client.scan_iter(match=f"{prefix}moons:*"))
    assert 0 < client.pttl(key) <= 60_000
    client.close()


def test_unreachable_redis_is_a_miss_not_an_error(goog: Ohlcv) -> None:
    backend = RedisBackend("redis://127.0.0.1:1/0")
    cache = MoonCache(backend)
    panel = batch_panel(goog, cache=cache)
    assert "rsi" in panel and cache.misses == 1 and backend.errors == 2
