"""Content-addressed result cache for moon computations.

The key hashes (blake2b) every array's dtype, shape and bytes plus the parameters, so equal
bytes under a different dtype or shape never collide. Storage sits behind the two-method
``CacheBackend`` protocol; the default is a bounded in-process LRU, and a shared backend
(e.g. Redis) only has to implement ``get``/``set``.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any, Protocol, runtime_checkable

import numpy as np


def content_key(*arrays: np.ndarray | None, params: object = None, namespace: str = "") -> str:
    """Hex digest identifying ``arrays`` (dtype + shape + bytes; None allowed) and ``params``.

    ``params`` must have a deterministic ``repr`` (dataclasses, tuples, numbers, strings).
    """
    h = hashlib.blake2b(digest_size=20)
    h.update(namespace.encode())
    for arr in arrays:
        if arr is None:
            h.update(b"\x00none;")
            continue
        a = np.ascontiguousarray(arr)
        h.update(f"\x01{a.dtype.str}{a.shape};".encode())
        h.update(a.data.cast("B") if a.size else b"")
    h.update(b"\x02" + repr(params).encode())
    return h.hexdigest()


@runtime_checkable
class CacheBackend(Protocol):
    """Minimal storage interface: ``get`` returns None on a miss."""

    def get(self, key: str) -> Any | None: ...

    def set(self, key: str, value: Any) -> None: ...


class LruBackend:
    """Bounded, thread-safe in-process LRU mapping."""

    def __init__(self, max_items: int = 256) -> None:
        if max_items < 1:
            raise ValueError("max_items must be >= 1")
        self.max_items = max_items
        self._data: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def set(self, key: str, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.max_items:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


class MoonCache:
    """A backend plus hit/miss counters."""

    def __init__(self, backend: CacheBackend | None = None) -> None:
        self.backend: CacheBackend = backend if backend is not None else LruBackend()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Any | None:
        """Look ``key`` up, counting a hit or a miss."""
        value = self.backend.get(key)
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def set(self, key: str, value: Any) -> None:
        self.backend.set(key, value)

    def reset_stats(self) -> None:
        self.hits = 0
        self.misses = 0


DEFAULT_CACHE = MoonCache(LruBackend(256))
