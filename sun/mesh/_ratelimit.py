"""Rate limits per provider (requests and tokens per minute), shared by workers through Redis.

Each provider has a one-minute window counter (``<prefix>:<provider>:<minute>``) checked and
incremented by one Lua script; a full window makes the caller wait for the next one (up to
``max_wait_s``). A 429 answer's ``Retry-After`` blocks the provider for every worker until then.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


class RateLimited(RuntimeError):
    """A provider's rate limit would need a longer wait than allowed."""


@dataclass(frozen=True)
class RateLimit:
    """One provider's limits (``None`` = unlimited on that dimension).

    Attributes:
        requests_per_min: Calls per minute.
        tokens_per_min: Estimated prompt + completion tokens per minute.
    """

    requests_per_min: int | None = None
    tokens_per_min: int | None = None

    def __post_init__(self) -> None:
        for name in ("requests_per_min", "tokens_per_min"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value <= 0):
                raise ValueError(f"{name} must be a positive int or None, got {value!r}")


_TAKE = """
local req = tonumber(redis.call('HGET', KEYS[1], 'req') or '0')
local tok = tonumber(redis.call('HGET', KEYS[1], 'tok') or '0')
local rpm, tpm = tonumber(ARGV[2]), tonumber(ARGV[3])
if rpm >= 0 and req + 1 > rpm then return 0 end
if tpm >= 0 and tok + tonumber(ARGV[1]) > tpm and tok > 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'req', 1)
redis.call('HINCRBY', KEYS[1], 'tok', ARGV[1])
redis.call('EXPIRE', KEYS[1], 120)
return 1
"""


class RateLimiter:
    """Shared per-provider windows (Redis) or this process's only (no client)."""

    def __init__(
        self,
        limits: Mapping[str, RateLimit],
        *,
        client: Any = None,
        prefix: str = "heliarch:rate",
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_wait_s: float = 60.0,
    ) -> None:
        self.limits = dict(limits)
        self.client = client
        self.prefix = prefix
        self.clock = clock
        self.sleep = sleep
        self.max_wait_s = max_wait_s
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int, int]] = {}
        self._blocked: dict[str, float] = {}
        self._script = client.register_script(_TAKE) if client is not None else None

    @classmethod
    def redis(cls, url: str, limits: Mapping[str, RateLimit], **kw: Any) -> RateLimiter:
        """A limiter shared through the Redis at ``url``."""
        import redis

        client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        return cls(limits, client=client, **kw)

    def block(self, provider: str, seconds: float) -> None:
        """No calls to ``provider`` (by any worker) for ``seconds`` (a 429's Retry-After)."""
        until = self.clock() + seconds
        if self.client is not None:
            key = f"{self.prefix}:{provider}:blocked"
            self.client.set(key, repr(until), px=max(1, int(seconds * 1000)))
        else:
            with self._lock:
                self._blocked[provider] = max(self._blocked.get(provider, 0.0), until)

    def _blocked_until(self, provider: str) -> float:
        if self.client is not None:
            raw = self.client.get(f"{self.prefix}:{provider}:blocked")
            return float(raw) if raw else 0.0
        with self._lock:
            return self._blocked.get(provider, 0.0)

    def _take(self, provider: str, tokens: int, limit: RateLimit, minute: int) -> bool:
        rpm = -1 if limit.requests_per_min is None else limit.requests_per_min
        tpm = -1 if limit.tokens_per_min is None else limit.tokens_per_min
        if self._script is not None:
            key = f"{self.prefix}:{provider}:{minute}"
            return bool(self._script(keys=[key], args=[tokens, rpm, tpm]))
        with self._lock:
            window = self._windows.get(provider)
            req, tok = (window[1], window[2]) if window and window[0] == minute else (0, 0)
            if (rpm >= 0 and req + 1 > rpm) or (tpm >= 0 and tok > 0 and tok + tokens > tpm):
                return False
            self._windows[provider] = (minute, req + 1, tok + tokens)
            return True

    def acquire(self, provider: str, tokens: int = 0) -> float:
        """Wait until ``provider`` may take one more call of ``tokens``; returns seconds waited.

        Raises:
            RateLimited: The wait would exceed ``max_wait_s``.
        """
        limit = self.limits.get(provider)
        waited = 0.0
        while True:
            now = self.clock()
            pause = self._blocked_until(provider) - now
            if pause <= 0 and (
                limit is None or self._take(provider, tokens, limit, int(now // 60))
            ):
                return waited
            if pause <= 0:
                pause = 60.0 - now % 60.0
            if waited + pause > self.max_wait_s:
                raise RateLimited(
                    f"rate limit of {provider!r}: would wait {waited + pause:.1f}s "
                    f"(> max_wait_s {self.max_wait_s:g})"
                )
            self.sleep(pause)
            waited += pause
