"""One model level's call protections (see :mod:`sun.resilience._chain`): the per-call
timeout, retries with jittered exponential backoff for transient errors only, and the
health heartbeat of every call; :class:`ChainPolicy` holds the settings of all of them."""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from langchain_core.messages import BaseMessage
from pydantic import BaseModel

from bus import LlmUsage
from sun.llm import (
    CallGate,
    CallTimeout,
    RetriesExhausted,
    StructuredCaller,
    StructuredResult,
    add_failed_usage,
    call_with_timeout,
    failed_usage,
    is_transient,
    retry_after_s,
)
from sun.resilience._breaker import BreakerConfig, Clock, LatencyWindow
from sun.resilience._health import HealthBoard


@dataclass(frozen=True)
class ChainPolicy:
    """Timeouts, retries, breaker and throttling settings shared by the model levels.

    Attributes:
        timeout_s: Per-call timeout (the provider timeout should be set to the same value).
        budget_s: Wall-clock budget of one level per decision (calls, retries, repair).
        max_retries: Retries of a transient error (0 = try once).
        backoff_s: First backoff; doubles per retry, capped at ``backoff_max_s``, full jitter.
        backoff_max_s: Largest backoff.
        breaker: When a level's breaker opens and for how long.
        latency_budget_ms: Shed a level whose recent p95 latency exceeds this (None: never).
        shed_min_samples: Latencies needed before throttling considers a level.
        shed_cooldown_s: How long a shed level is skipped.
        seed: Seed of the backoff jitter (deterministic runs).
    """

    timeout_s: float = 30.0
    budget_s: float | None = None
    max_retries: int = 1
    backoff_s: float = 0.05
    backoff_max_s: float = 1.0
    breaker: BreakerConfig = field(default_factory=BreakerConfig)
    latency_budget_ms: float | None = None
    shed_min_samples: int = 5
    shed_cooldown_s: float = 30.0
    seed: int = 0

    @property
    def level_budget_s(self) -> float:
        """``budget_s``, or by default enough for one call, one retry and one repair."""
        return self.budget_s if self.budget_s is not None else 2.5 * self.timeout_s


class GuardedLLM:
    """A :class:`StructuredLLM` with a per-call timeout, transient retries and heartbeats.

    Duck-types ``StructuredLLM.invoke`` so an unchanged :class:`LlmReasoner` can use it. Each
    try (the first call and every retry) goes through ``gate`` when set (the mesh's budget,
    rate limits, prices and traces); a retry after a 429 waits at least its ``Retry-After``.
    Calls that failed are counted in the returned usage, or on the raised error
    (:func:`~sun.llm.failed_usage`).
    """

    def __init__(
        self,
        inner: StructuredCaller,
        name: str,
        policy: ChainPolicy,
        *,
        health: HealthBoard | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Clock = time.monotonic,
        gate: CallGate | None = None,
    ) -> None:
        self.inner = inner
        self.name = name
        self.policy = policy
        self.health = health
        self.gate = gate
        self._sleep = sleep
        self._clock = clock
        self._rng = random.Random(policy.seed)
        self._rng_lock = threading.Lock()
        self._local = threading.local()
        self.latencies = LatencyWindow()

    @property
    def deadline(self) -> float | None:
        """The current level budget's deadline (per thread: concurrent decisions are apart)."""
        return getattr(self._local, "deadline", None)

    @deadline.setter
    def deadline(self, value: float | None) -> None:
        self._local.deadline = value

    def _jitter(self, retry: int) -> float:
        cap = min(self.policy.backoff_max_s, self.policy.backoff_s * 2**retry)
        with self._rng_lock:
            return self._rng.uniform(0.0, cap)

    def _try(
        self, messages: list[BaseMessage], schema: type[BaseModel], timeout: float
    ) -> StructuredResult:
        def call() -> StructuredResult:
            try:
                result: StructuredResult = call_with_timeout(
                    lambda: self.inner.invoke(messages, schema), timeout, self.name
                )
            except CallTimeout as error:  # the call was made (and may still be billed)
                if not failed_usage(error).calls:
                    add_failed_usage(error, LlmUsage(calls=1, latency_ms=timeout * 1e3))
                raise
            return result

        return call() if self.gate is None else self.gate.around(messages, call)

    def invoke(self, messages: list[BaseMessage], schema: type[BaseModel]) -> StructuredResult:
        """One structured call, retried on transient errors within the level's deadline."""
        tries = 0
        failed = LlmUsage()  # the tries that raised before this one
        while True:
            timeout = self.policy.timeout_s
            if self.deadline is not None:
                timeout = min(timeout, self.deadline - self._clock())
                if timeout <= 0.0:
                    spent = CallTimeout(f"{self.name}: level budget exhausted")
                    add_failed_usage(spent, failed)
                    raise spent
            tries += 1
            started = time.perf_counter()
            try:
                result = self._try(messages, schema, timeout)
            except Exception as error:
                elapsed = (time.perf_counter() - started) * 1e3
                self._beat(elapsed, False, f"{type(error).__name__}: {error}")
                if not is_transient(error):
                    add_failed_usage(error, failed)
                    raise
                failed = failed + failed_usage(error)
                pause = max(self._jitter(tries - 1), retry_after_s(error) or 0.0)
                left = None if self.deadline is None else self.deadline - self._clock()
                if tries > self.policy.max_retries or (left is not None and left <= pause):
                    exhausted = RetriesExhausted(tries, error)
                    add_failed_usage(exhausted, failed)
                    raise exhausted from error
                self._sleep(pause)
                continue
            elapsed = (time.perf_counter() - started) * 1e3
            self.latencies.add(elapsed)
            self._beat(elapsed, True, None)
            if failed.calls:
                return dataclasses.replace(result, usage=failed + result.usage)
            return result

    def _beat(self, latency_ms: float, ok: bool, error: str | None) -> None:
        if self.health is not None:
            self.health.beat("model", self.name, latency_ms, ok, error)
