"""Content-keyed cache: keys, hit/miss counting, LRU bound."""

from __future__ import annotations

import numpy as np

from moons import (
    DEFAULT_PANEL,
    CacheBackend,
    LruBackend,
    MoonCache,
    Ohlcv,
    PanelSpec,
    batch_panel,
    content_key,
)


def test_equal_bytes_different_dtype_do_not_collide():
    a = np.arange(4, dtype=np.int64)
    b = a.view(np.float64)
    assert a.tobytes() == b.tobytes()
    assert content_key(a) != content_key(b)
    c = a.view(np.int32)  # same bytes, other shape and dtype
    assert content_key(a) != content_key(c)
    assert content_key(a.reshape(2, 2)) != content_key(a)
    assert content_key(a, params=1) != content_key(a, params=2)
    assert content_key(a, None) != content_key(None, a)
    assert content_key(a.copy(), params=DEFAULT_PANEL) == content_key(a, params=PanelSpec())


def test_batch_panel_hits_and_misses(goog):
    cache = MoonCache(LruBackend(2))
    assert isinstance(cache.backend, CacheBackend)
    first = batch_panel(goog, cache=cache)
    assert (cache.hits, cache.misses) == (0, 1)
    second = batch_panel(goog, cache=cache)
    assert (cache.hits, cache.misses) == (1, 1)
    assert second["rsi"] is first["rsi"] and not second["rsi"].flags.writeable
    batch_panel(goog, PanelSpec(rsi_period=7), cache=cache)
    assert (cache.hits, cache.misses) == (1, 2)
    same_values = Ohlcv(*(np.array(getattr(goog, f)) for f in
                          ("open", "high", "low", "close", "volume")))  # fmt: skip
    batch_panel(same_values, cache=cache)  # equal content -> hit
    assert (cache.hits, cache.misses) == (2, 2)
    batch_panel(goog, benchmark_close=goog.close, cache=cache)  # benchmark is part of the key
    assert (cache.hits, cache.misses) == (2, 3)
    assert len(cache.backend) == 2  # bounded
    batch_panel(goog, cache=cache)  # recently used -> still cached
    assert (cache.hits, cache.misses) == (3, 3)
    batch_panel(goog, PanelSpec(rsi_period=7), cache=cache)  # least recently used -> evicted
    assert (cache.hits, cache.misses) == (3, 4)
    batch_panel(goog, cache=None)
    assert (cache.hits, cache.misses) == (3, 4)


def test_custom_backend_protocol(goog):
    class DictBackend:
        def __init__(self) -> None:
            self.data: dict[str, object] = {}

        def get(self, key: str) -> object | None:
            return self.data.get(key)

        def set(self, key: str, value: object) -> None:
            self.data[key] = value

    cache = MoonCache(DictBackend())
    batch_panel(goog.tail(100), cache=cache)
    batch_panel(goog.tail(100), cache=cache)
    assert (cache.hits, cache.misses) == (1, 1)
