"""Per-provider rate limits shared by workers through a real Redis; Retry-After honoured."""

from __future__ import annotations

import uuid

import pytest
import redis
from conftest import DEEP

from sun.llm import StructuredResult
from sun.mesh import MeteredCaller, RateLimit, RateLimited, RateLimiter, retry_after_s
from sun.testing import HttpStatusError


class Clock:
    """A manual clock whose sleep advances it (no test waits for real time)."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0  # on a minute boundary + 20 s
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _limiters(url: str, clock: Clock, limit: RateLimit, n: int = 2) -> list[RateLimiter]:
    prefix = f"test:rate:{uuid.uuid4().hex}"
    return [
        RateLimiter.redis(url, {"openai": limit}, prefix=prefix, clock=clock, sleep=clock.sleep)
        for _ in range(n)
    ]


def test_requests_per_minute_shared_by_workers(redis_url: str) -> None:
    clock = Clock()
    first, second = _limiters(redis_url, clock, RateLimit(requests_per_min=3))
    assert [first.acquire("openai"), second.acquire("openai"), first.acquire("openai")] == [0, 0, 0]
    waited = second.acquire("openai")  # the window is full for everyone: wait for the next
    assert waited == pytest.approx(40.0) and clock.slept == [pytest.approx(40.0)]
    assert first.acquire("anthropic") == 0  # other providers are not limited


def test_tokens_per_minute(redis_url: str) -> None:
    clock = Clock()
    (limiter,) = _limiters(redis_url, clock, RateLimit(tokens_per_min=1000), n=1)
    limiter.acquire("openai", 600)
    assert limiter.acquire("openai", 600) == pytest.approx(40.0)


def test_a_wait_past_the_cap_is_one_clear_error(redis_url: str) -> None:
    clock = Clock()
    (limiter,) = _limiters(redis_url, clock, RateLimit(requests_per_min=1), n=1)
    limiter.max_wait_s = 5.0
    limiter.acquire("openai")
    with pytest.raises(RateLimited, match="would wait 40.0s"):
        limiter.acquire("openai")


class Response:
    headers = {"retry-after": "7"}


class TooManyRequests(HttpStatusError):
    def __init__(self) -> None:
        super().__init__(429, "slow down")
        self.response = Response()


class Failing:
    def invoke(self, messages: object, schema: object) -> StructuredResult:
        raise TooManyRequests()


def test_retry_after_blocks_every_worker(redis_url: str) -> None:
    clock = Clock()
    first, second = _limiters(redis_url, clock, RateLimit(requests_per_min=100))
    caller = MeteredCaller(Failing(), "openai:gpt-4o-mini", DEEP, limiter=first)
    with pytest.raises(TooManyRequests):
        caller.invoke([], object)  # type: ignore[arg-type]
    assert second.acquire("openai") == pytest.approx(7.0)  # the other worker honours it


def test_retry_after_is_read_through_wrappers() -> None:
    from sun.llm import RetriesExhausted

    assert retry_after_s(RetriesExhausted(2, TooManyRequests())) == 7.0
    assert retry_after_s(ValueError("x")) is None
    with pytest.raises(ValueError, match="requests_per_min must be a positive int"):
        RateLimit(requests_per_min=0)


def test_bad_redis_url_is_an_error() -> None:
    with pytest.raises(ValueError):
        RateLimiter.redis("nothing://", {})
    assert redis  # the real client is what the limiter uses
