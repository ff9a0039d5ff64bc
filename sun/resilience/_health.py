"""Heartbeats and the health view: last seen, last latency and outcome per model and planet.

Every model call and every planet consultation beats the :class:`HealthBoard`; ``Sun.health()``
returns :meth:`HealthBoard.view` merged with the breaker and throttle state of each model. A
``listener`` receives every event (breaker transitions included) for telemetry.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sun.resilience._breaker import LatencyWindow

HealthEvent = dict[str, Any]


@dataclass
class Heartbeat:
    """What is known about one component from its latest calls."""

    kind: str
    name: str
    calls: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    last_seen: float | None = None
    last_ok: bool | None = None
    last_latency_ms: float | None = None
    last_error: str | None = None
    latencies: LatencyWindow = field(default_factory=LatencyWindow)

    def as_dict(self, now: float) -> dict[str, Any]:
        """JSON-friendly view; ``age_s`` is the time since the last heartbeat."""
        p95 = self.latencies.percentile(0.95)
        return {
            "calls": self.calls,
            "failures": self.failures,
            "consecutive_failures": self.consecutive_failures,
            "last_ok": self.last_ok,
            "last_latency_ms": _round(self.last_latency_ms),
            "p95_latency_ms": _round(p95),
            "age_s": None if self.last_seen is None else round(now - self.last_seen, 3),
            "last_error": self.last_error,
            "status": self.status,
        }

    @property
    def status(self) -> str:
        """``unknown`` (never called), ``ok``, ``degraded`` (last call failed) or ``down``."""
        if self.last_seen is None:
            return "unknown"
        if self.consecutive_failures >= 3:
            return "down"
        return "ok" if self.last_ok else "degraded"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


class HealthBoard:
    """Thread-safe heartbeats of the sun's models and planets."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        listener: Callable[[HealthEvent], None] | None = None,
    ) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._beats: dict[tuple[str, str], Heartbeat] = {}
        self.listeners: list[Callable[[HealthEvent], None]] = [listener] if listener else []
        self.events: list[HealthEvent] = []

    def beat(
        self, kind: str, name: str, latency_ms: float, ok: bool, error: str | None = None
    ) -> None:
        """Record one call of component ``name`` (``kind`` is ``model`` or ``planet``)."""
        with self._lock:
            beat = self._beats.setdefault((kind, name), Heartbeat(kind, name))
            beat.calls += 1
            beat.last_seen = self._clock()
            beat.last_ok = ok
            beat.last_latency_ms = latency_ms
            beat.latencies.add(latency_ms)
            if ok:
                beat.consecutive_failures = 0
            else:
                beat.failures += 1
                beat.consecutive_failures += 1
                beat.last_error = (error or "")[:300]

    def emit(self, event: HealthEvent) -> None:
        """Keep a telemetry event (breaker transition, shed, ...) and pass it to listeners."""
        stamped = {"at": self._clock(), **event}
        with self._lock:
            self.events.append(stamped)
            del self.events[:-200]
            listeners = list(self.listeners)
        for listener in listeners:
            listener(stamped)

    def get(self, kind: str, name: str) -> Heartbeat | None:
        """The heartbeat of one component, if it was ever called."""
        with self._lock:
            return self._beats.get((kind, name))

    def view(self) -> dict[str, dict[str, dict[str, Any]]]:
        """``{"models": {name: {...}}, "planets": {name: {...}}}``."""
        now = self._clock()
        out: dict[str, dict[str, dict[str, Any]]] = {"models": {}, "planets": {}}
        with self._lock:
            for (kind, name), beat in sorted(self._beats.items()):
                out.setdefault(f"{kind}s", {})[name] = beat.as_dict(now)
        return out
