"""A Redis backend for the moon-result cache, shared by every worker on the same Redis.

Implements the two-method ``CacheBackend`` protocol. Values are numpy arrays or dicts of
arrays (what the panel caches), stored in numpy's own ``.npy``/``.npz`` format (never
pickle) and returned read-only. A Redis error degrades to a miss (counted in ``errors``).
"""

from __future__ import annotations

import io
import logging
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

_ARRAY = b"A"
_DICT = b"D"


def encode(value: Any) -> bytes:
    """``value`` (an array or a dict of arrays) as bytes; ``TypeError`` for anything else."""
    buffer = io.BytesIO()
    if isinstance(value, np.ndarray):
        np.save(buffer, value, allow_pickle=False)
        return _ARRAY + buffer.getvalue()
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, np.ndarray) for k, v in value.items()
    ):
        np.savez(buffer, **value)
        return _DICT + buffer.getvalue()
    raise TypeError(f"RedisBackend stores arrays or dicts of arrays, not {type(value).__name__}")


def decode(raw: bytes) -> Any:
    """The value :func:`encode` wrote (arrays read-only)."""
    tag, body = raw[:1], io.BytesIO(raw[1:])
    if tag == _ARRAY:
        array = np.load(body, allow_pickle=False)
        array.setflags(write=False)
        return array
    if tag == _DICT:
        with np.load(body, allow_pickle=False) as archive:
            out = {name: archive[name] for name in archive.files}
        for array in out.values():
            array.setflags(write=False)
        return out
    raise ValueError(f"unknown moon cache entry tag {tag!r}")


class RedisBackend:
    """Moon results in Redis under ``<prefix>moons:<key>`` with an optional TTL.

    Args:
        url: Redis URL (or pass ``client``, a sync ``redis.Redis``).
        prefix: Key prefix (one per deployment).
        ttl_s: Entry lifetime (None: until evicted by Redis' memory policy).
        client: An existing client.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        prefix: str = "heliarch:",
        ttl_s: float | None = 24 * 3600.0,
        client: Any = None,
    ) -> None:
        import redis

        if client is None:
            if url is None:
                raise ValueError("RedisBackend needs a url or a client")
            client = redis.Redis.from_url(url)
        self.client = client
        self.prefix = prefix
        self.ttl_s = ttl_s
        self.errors = 0

    def _key(self, key: str) -> str:
        return f"{self.prefix}moons:{key}"

    def get(self, key: str) -> Any | None:
        try:
            raw = self.client.get(self._key(key))
            return None if raw is None else decode(bytes(raw))
        except Exception as error:
            self.errors += 1
            log.warning("moon cache read failed (treated as a miss): %s", error)
            return None

    def set(self, key: str, value: Any) -> None:
        data = encode(value)
        try:
            if self.ttl_s is None:
                self.client.set(self._key(key), data)
            else:
                self.client.set(self._key(key), data, px=max(1, int(self.ttl_s * 1000)))
        except Exception as error:
            self.errors += 1
            log.warning("moon cache write failed (result not shared): %s", error)

    def close(self) -> None:
        """Release the connection pool."""
        self.client.close()
