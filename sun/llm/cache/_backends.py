"""LLM cache entries and storage: :class:`CachedAnswer` and :class:`LlmResponseCache`.

:class:`LlmResponseCache` stores raw answers with a TTL in a backend: :class:`TtlLruBackend`
(in-process, the default) or :class:`RedisLlmBackend` (shared by every worker and sun), counts
hits and misses and tells its listeners about every answer used.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from bus import PromptRef, register_payload

log = logging.getLogger("sun.llm.cache")

DEFAULT_TTL_S = 24 * 3600.0


class CachedAnswer(BaseModel):
    """One raw LLM answer as cached and journaled."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(min_length=1)
    model: str
    prompt: PromptRef | None = None
    text: str
    created_unix: float = Field(default_factory=time.time)


register_payload("llm_answer", CachedAnswer)


@dataclass(frozen=True)
class LlmAnswerEvent:
    """An answer that was used for a call: served from the cache (``hit``) or by the model."""

    answer: CachedAnswer
    hit: bool


@runtime_checkable
class LlmCacheBackend(Protocol):
    """Storage of serialized answers; ``get`` returns None on a miss or after the TTL."""

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str, ttl_s: float | None) -> None: ...


class TtlLruBackend:
    """Bounded, thread-safe in-process LRU with per-entry expiry.

    Args:
        max_items: Capacity; the least recently used entry is evicted beyond it.
        clock: Monotonic time source (injectable for tests).
    """

    def __init__(self, max_items: int = 1024, clock: Callable[[], float] = time.monotonic):
        if max_items < 1:
            raise ValueError("max_items must be >= 1")
        self.max_items = max_items
        self._clock = clock
        self._data: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            expires, value = item
            if expires <= self._clock():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    def set(self, key: str, value: str, ttl_s: float | None) -> None:
        expires = float("inf") if ttl_s is None else self._clock() + ttl_s
        with self._lock:
            self._data[key] = (expires, value)
            self._data.move_to_end(key)
            while len(self._data) > self.max_items:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


class RedisLlmBackend:
    """Answers in Redis (``SET key value PX ttl``), shared by every process on the same prefix.

    A Redis error degrades to a miss (logged and counted in ``errors``); it never fails a call.

    Args:
        url: Redis URL (or pass ``client``).
        prefix: Key prefix, e.g. one per deployment.
        client: An existing sync ``redis.Redis``.
    """

    def __init__(
        self, url: str | None = None, *, prefix: str = "heliarch:", client: Any = None
    ) -> None:
        import redis

        if client is None and url is None:
            raise ValueError("RedisLlmBackend needs a url or a client")
        self.client = client if client is not None else redis.Redis.from_url(str(url))
        self.prefix = prefix
        self.errors = 0

    def _key(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def get(self, key: str) -> str | None:
        try:
            value = self.client.get(self._key(key))
        except Exception as error:
            self.errors += 1
            log.warning("LLM cache read failed (treated as a miss): %s", error)
            return None
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    def set(self, key: str, value: str, ttl_s: float | None) -> None:
        try:
            if ttl_s is None:
                self.client.set(self._key(key), value)
            else:
                self.client.set(self._key(key), value, px=max(1, int(ttl_s * 1000)))
        except Exception as error:
            self.errors += 1
            log.warning("LLM cache write failed (answer not cached): %s", error)

    def close(self) -> None:
        """Release the connection pool."""
        self.client.close()


class LlmResponseCache:
    """Raw LLM answers by key with a TTL, hit/miss counters and answer listeners.

    Args:
        backend: Storage; an in-process :class:`TtlLruBackend` by default.
        ttl_s: Lifetime of a stored answer (None: no expiry).
    """

    def __init__(
        self, backend: LlmCacheBackend | None = None, *, ttl_s: float | None = DEFAULT_TTL_S
    ) -> None:
        self.backend: LlmCacheBackend = backend if backend is not None else TtlLruBackend()
        self.ttl_s = ttl_s
        self.hits = 0
        self.misses = 0
        self._listeners: list[Callable[[LlmAnswerEvent], None]] = []
        self._lock = threading.Lock()

    @classmethod
    def redis(cls, url: str, *, prefix: str = "heliarch:", ttl_s: float | None = DEFAULT_TTL_S):
        """A cache shared through Redis at ``url``."""
        return cls(RedisLlmBackend(url, prefix=prefix), ttl_s=ttl_s)

    def get(self, key: str) -> CachedAnswer | None:
        """The cached answer for ``key`` (counted as a hit or a miss)."""
        raw = self.backend.get(key)
        answer = None
        if raw is not None:
            try:
                answer = CachedAnswer.model_validate_json(raw)
            except ValueError as error:
                log.warning("unreadable LLM cache entry %s: %s", key, error)
        with self._lock:
            if answer is None:
                self.misses += 1
            else:
                self.hits += 1
        return answer

    def put(self, answer: CachedAnswer, ttl_s: float | None = None) -> None:
        """Store ``answer`` under its key (with the cache's TTL unless ``ttl_s`` is given)."""
        self.backend.set(answer.key, answer.model_dump_json(), ttl_s or self.ttl_s)

    def preload(self, answers: Sequence[CachedAnswer]) -> None:
        """Store many answers without expiry (replay)."""
        for answer in answers:
            self.backend.set(answer.key, answer.model_dump_json(), None)

    def subscribe(self, listener: Callable[[LlmAnswerEvent], None]) -> None:
        """Call ``listener`` with every answer used through this cache (hit or model call)."""
        self._listeners.append(listener)

    def notify(self, answer: CachedAnswer, hit: bool) -> None:
        """Tell the listeners that ``answer`` was used (a listener error is logged only)."""
        event = LlmAnswerEvent(answer, hit)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("LLM answer listener failed")

    def reset_stats(self) -> None:
        """Zero the hit and miss counters."""
        with self._lock:
            self.hits = self.misses = 0
