"""One model level's building blocks: which errors are transient (by type and status), the
per-call timeout that never waits for a hung call, and the circuit breaker's states."""

from __future__ import annotations

import time

import anthropic
import httpx
import openai
import pytest
from pydantic import BaseModel, ValidationError

from sun.llm import CallTimeout, call_with_timeout, is_transient
from sun.resilience import BreakerConfig, CircuitBreaker
from sun.testing import HttpStatusError

REQUEST = httpx.Request("POST", "https://api.example.test/v1/messages")


def _status(cls: type, code: int) -> Exception:
    return cls("boom", response=httpx.Response(code, request=REQUEST), body=None)


class _Schema(BaseModel):
    x: int


def _validation_error() -> ValidationError:
    try:
        _Schema.model_validate({"x": "not a number"})
    except ValidationError as error:
        return error
    raise AssertionError


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (ConnectionError("reset"), True),
        (TimeoutError("slow"), True),
        (CallTimeout("hung"), True),
        (HttpStatusError(429, "slow down"), True),
        (HttpStatusError(503, "overloaded"), True),
        (HttpStatusError(401, "bad key"), False),
        (HttpStatusError(400, "bad request"), False),
        (ValueError("bad output"), False),
        (_validation_error(), False),
        (httpx.ConnectError("refused", request=REQUEST), True),
        (httpx.ReadTimeout("slow", request=REQUEST), True),
        (
            httpx.HTTPStatusError(
                "x", request=REQUEST, response=httpx.Response(502, request=REQUEST)
            ),
            True,
        ),
        (anthropic.APIConnectionError(request=REQUEST), True),
        (anthropic.APITimeoutError(request=REQUEST), True),
        (_status(anthropic.RateLimitError, 429), True),
        (_status(anthropic.InternalServerError, 529), True),
        (_status(anthropic.AuthenticationError, 401), False),
        (_status(anthropic.BadRequestError, 400), False),
        (openai.APIConnectionError(request=REQUEST), True),
        (_status(openai.RateLimitError, 429), True),
        (_status(openai.InternalServerError, 500), True),
        (_status(openai.PermissionDeniedError, 403), False),
    ],
)
def test_transient_errors_are_classified_by_type_and_status(
    error: Exception, transient: bool
) -> None:
    assert is_transient(error) is transient


def test_chained_cause_is_classified() -> None:
    try:
        try:
            raise ConnectionError("socket closed")
        except ConnectionError as inner:
            raise RuntimeError("wrapper") from inner
    except RuntimeError as outer:
        assert is_transient(outer)


def test_call_with_timeout_does_not_wait_for_a_hung_call() -> None:
    started = time.perf_counter()
    with pytest.raises(CallTimeout, match="within 0.1s"):
        call_with_timeout(lambda: time.sleep(5.0), 0.1, "hung")
    assert time.perf_counter() - started < 2.0  # far below the 5 s hang: it did not wait
    assert call_with_timeout(lambda: 42, 1.0) == 42
    with pytest.raises(KeyError):
        call_with_timeout(lambda: {}["missing"], 1.0)


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_consecutive_failures_and_recovers_through_half_open() -> None:
    clock = _Clock()
    seen: list[tuple[str, str]] = []
    breaker = CircuitBreaker(
        "primary",
        BreakerConfig(failure_threshold=3, cooldown_s=10.0),
        clock=clock,
        listener=lambda t: seen.append((t.before, t.after)),
    )
    for _ in range(3):
        assert breaker.allow()
        breaker.record(False, "ConnectionError")
    assert breaker.state == "open" and not breaker.allow()
    assert breaker.retry_in() == pytest.approx(10.0)
    clock.now += 10.0
    assert breaker.state == "half_open"
    assert breaker.allow() and not breaker.allow()  # one probe at a time
    breaker.record(False, "still down")
    assert breaker.state == "open"
    clock.now += 10.0
    assert breaker.allow()
    breaker.record(True)
    assert breaker.state == "closed" and breaker.allow()
    assert seen == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
    ]
    assert "3 consecutive failures" in breaker.transitions[0].reason


def test_breaker_opens_on_error_rate_over_the_window() -> None:
    breaker = CircuitBreaker(
        "m", BreakerConfig(failure_threshold=99, window=10, error_rate=0.5, min_calls=10)
    )
    for ok in [True, False] * 5:
        breaker.record(ok)
    assert breaker.state == "closed"  # exactly 50%: not over the threshold
    breaker.record(False)
    assert breaker.state == "open"
    assert "error rate 60%" in breaker.transitions[-1].reason
