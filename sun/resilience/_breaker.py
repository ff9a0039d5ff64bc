"""Circuit breaker and latency window for one model (or any other dependency).

States::

    closed --(N consecutive failures, or error rate > threshold over the window)--> open
    open --(cool-down elapsed)--> half_open        (the next call is a probe)
    half_open --(probe ok)--> closed
    half_open --(probe fails)--> open               (cool-down starts again)

Every transition is kept (``transitions``) and passed to an optional listener, so the health
view and telemetry show when and why a breaker moved. The clock is injectable for tests.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

BreakerState = Literal["closed", "open", "half_open"]
Clock = Callable[[], float]


@dataclass(frozen=True)
class BreakerConfig:
    """When a breaker opens and how long it stays open.

    Attributes:
        failure_threshold: Consecutive failures that open the breaker.
        window: Number of recent calls the error rate is computed over.
        error_rate: Error rate over ``window`` that opens the breaker (once ``min_calls`` seen).
        min_calls: Calls needed in the window before the error rate counts.
        cooldown_s: Time open before a half-open probe is allowed.
    """

    failure_threshold: int = 3
    window: int = 20
    error_rate: float = 0.5
    min_calls: int = 10
    cooldown_s: float = 30.0


@dataclass(frozen=True)
class Transition:
    """One state change of a breaker."""

    at: float
    name: str
    before: BreakerState
    after: BreakerState
    reason: str


class CircuitBreaker:
    """A thread-safe circuit breaker.

    Call :meth:`allow` before using the dependency (False: skip it, it is open), then
    :meth:`record` the outcome. In ``half_open`` only one probe is let through at a time.
    """

    def __init__(
        self,
        name: str,
        config: BreakerConfig | None = None,
        *,
        clock: Clock = time.monotonic,
        listener: Callable[[Transition], None] | None = None,
    ) -> None:
        self.name = name
        self.config = config or BreakerConfig()
        self._clock = clock
        self._listener = listener
        self._lock = threading.Lock()
        self._state: BreakerState = "closed"
        self._consecutive = 0
        self._outcomes: deque[bool] = deque(maxlen=self.config.window)
        self._opened_at = 0.0
        self._probing = False
        self.transitions: list[Transition] = []

    @property
    def state(self) -> BreakerState:
        """The current state (``open`` turns ``half_open`` once the cool-down has elapsed)."""
        with self._lock:
            self._maybe_half_open()
            return self._state

    def _move(self, after: BreakerState, reason: str) -> None:
        if after == self._state:
            return
        transition = Transition(self._clock(), self.name, self._state, after, reason)
        self._state = after
        self.transitions.append(transition)
        del self.transitions[:-100]
        if self._listener is not None:
            self._listener(transition)

    def _maybe_half_open(self) -> None:
        if self._state == "open" and self._clock() - self._opened_at >= self.config.cooldown_s:
            self._move("half_open", f"cool-down of {self.config.cooldown_s:g}s elapsed")
            self._probing = False

    def allow(self) -> bool:
        """Whether a call may go through now (claims the probe slot when half-open)."""
        with self._lock:
            self._maybe_half_open()
            if self._state == "closed":
                return True
            if self._state == "half_open" and not self._probing:
                self._probing = True
                return True
            return False

    def retry_in(self) -> float:
        """Seconds until an open breaker lets a probe through (0 when not open)."""
        with self._lock:
            if self._state != "open":
                return 0.0
            return max(0.0, self.config.cooldown_s - (self._clock() - self._opened_at))

    def record(self, ok: bool, error: str | None = None) -> None:
        """Record the outcome of one call that :meth:`allow` let through."""
        with self._lock:
            self._outcomes.append(ok)
            if ok:
                self._consecutive = 0
                if self._state == "half_open":
                    self._probing = False
                    self._outcomes.clear()
                    self._move("closed", "half-open probe succeeded")
                return
            self._consecutive += 1
            why = f": {error}" if error else ""
            if self._state == "half_open":
                self._probing = False
                self._open(f"half-open probe failed{why}")
                return
            if self._state != "closed":
                return
            if self._consecutive >= self.config.failure_threshold:
                self._open(f"{self._consecutive} consecutive failures{why}")
                return
            seen = len(self._outcomes)
            rate = self._outcomes.count(False) / seen if seen else 0.0
            if seen >= self.config.min_calls and rate > self.config.error_rate:
                self._open(f"error rate {rate:.0%} over the last {seen} calls{why}")

    def _open(self, reason: str) -> None:
        self._opened_at = self._clock()
        self._move("open", reason[:300])

    def snapshot(self) -> dict[str, object]:
        """State, counters and the last transitions, for the health view."""
        with self._lock:
            self._maybe_half_open()
            seen = len(self._outcomes)
            return {
                "state": self._state,
                "consecutive_failures": self._consecutive,
                "error_rate": round(self._outcomes.count(False) / seen, 3) if seen else 0.0,
                "window_calls": seen,
                "transitions": [
                    {"at": t.at, "from": t.before, "to": t.after, "reason": t.reason}
                    for t in self.transitions[-5:]
                ],
            }


class LatencyWindow:
    """Recent latencies of one dependency, for percentiles and adaptive throttling."""

    def __init__(self, size: int = 20) -> None:
        self._values: deque[float] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, latency_ms: float) -> None:
        """Add one observed latency."""
        with self._lock:
            self._values.append(latency_ms)

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)

    def percentile(self, q: float) -> float | None:
        """The ``q`` quantile (0..1, nearest rank) of the window, None when empty."""
        with self._lock:
            ordered = sorted(self._values)
        if not ordered:
            return None
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]

    def clear(self) -> None:
        """Forget the window (after a shed cool-down, the model starts afresh)."""
        with self._lock:
            self._values.clear()
