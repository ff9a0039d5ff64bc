"""The sun's fallback chain: primary model -> backup model(s) -> (planet council -> HOLD).

Each model level is an :class:`LlmReasoner` behind three protections:

* a **per-call timeout**: the call runs in a daemon worker thread; the caller waits at most
  ``timeout_s`` (and never past the level's ``budget_s``), so a hung provider cannot stall a
  decision. The abandoned thread finishes (or not) on its own.
* **retries with jittered exponential backoff** for transient errors only (connection errors,
  timeouts, HTTP 408/429/5xx from httpx / anthropic / openai, classified by exception type and
  status code, see :func:`is_transient`). Invalid or unsafe output is never retried here: it
  gets the reasoner's one repair attempt.
* a **circuit breaker** (:class:`~sun.resilience._breaker.CircuitBreaker`) that skips the level while open
  and probes it again after a cool-down, plus **adaptive throttling**: a level whose recent p95
  latency exceeds ``latency_budget_ms`` is shed for ``shed_cooldown_s`` while a later model level
  is available (the expensive model goes first).

:meth:`FallbackChain.run` returns the first level's valid answer, or ``None``; either way every
level tried (or skipped) is recorded as a :class:`~bus.FallbackAttempt` saying why it failed.
The council and HOLD levels are added by the sun graph (``sun._reason._reason``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bus import FallbackAttempt, LlmUsage, PromptRef
from sun._llm_reasoner import LlmReasoner
from sun._reasoning import Reasoning, ReasonInputs
from sun.llm import (
    ReplayedFailure,
    RetriesExhausted,
    StructuredLLM,
    failed_usage,
)
from sun.resilience._breaker import CircuitBreaker, Clock, Transition
from sun.resilience._guarded import ChainPolicy, GuardedLLM
from sun.resilience._health import HealthBoard


@dataclass
class ModelLevel:
    """One model of the chain: its reasoner (over a :class:`GuardedLLM`) and its breaker."""

    name: str
    reasoner: LlmReasoner
    guarded: GuardedLLM
    breaker: CircuitBreaker
    shed_until: float = 0.0

    @property
    def label(self) -> str:
        """The model spec label (e.g. ``local``, ``anthropic:claude-...``)."""
        return self.reasoner.label


def _error_text(error: BaseException) -> str:
    if isinstance(error, RetriesExhausted | ReplayedFailure):
        return str(error)
    return f"{type(error).__name__}: {error}"


class FallbackChain:
    """Ordered model levels (``primary``, ``backup-1``, ...) tried until one answers validly."""

    def __init__(
        self,
        levels: Sequence[ModelLevel],
        policy: ChainPolicy,
        *,
        health: HealthBoard | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        if not levels:
            raise ValueError("a fallback chain needs at least one model level")
        self.levels = list(levels)
        self.policy = policy
        self.health = health
        self._clock = clock

    @classmethod
    def build(
        cls,
        models: Sequence[tuple[str, StructuredLLM]],
        policy: ChainPolicy | None = None,
        *,
        health: HealthBoard | None = None,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> FallbackChain:
        """A chain over ``(spec label, StructuredLLM)`` pairs, the first being the primary."""
        policy = policy or ChainPolicy()
        levels = []
        for index, (label, llm) in enumerate(models):
            name = "primary" if index == 0 else f"backup-{index}"
            guarded = GuardedLLM(
                llm,
                name,
                dataclasses.replace(policy, seed=policy.seed + index),
                health=health,
                clock=clock,
                sleep=sleep,
            )
            reasoner = LlmReasoner(guarded, label=label)
            breaker = CircuitBreaker(
                name, policy.breaker, clock=clock, listener=_transition_listener(health)
            )
            levels.append(ModelLevel(name, reasoner, guarded, breaker))
        return cls(levels, policy, health=health, clock=clock)

    @property
    def primary(self) -> ModelLevel:
        """The first level."""
        return self.levels[0]

    def _shed_reason(self, index: int, level: ModelLevel) -> str | None:
        """Adaptive throttling: why ``level`` is skipped for latency now, or None."""
        budget = self.policy.latency_budget_ms
        later = [other for other in self.levels[index + 1 :] if other.breaker.state != "open"]
        if budget is None or not later:
            return None
        now = self._clock()
        if now < level.shed_until:
            return f"shed for latency (retry in {level.shed_until - now:.1f}s)"
        if level.shed_until:  # cool-down over: start afresh
            level.shed_until = 0.0
            level.guarded.latencies.clear()
        window = level.guarded.latencies
        p95 = window.percentile(0.95)
        if len(window) >= self.policy.shed_min_samples and p95 is not None and p95 > budget:
            level.shed_until = now + self.policy.shed_cooldown_s
            reason = f"shed: recent p95 {p95:.0f} ms > budget {budget:.0f} ms"
            if self.health is not None:
                self.health.emit({"event": "shed", "level": level.name, "reason": reason})
            return reason
        return None

    def run(
        self, inputs: ReasonInputs
    ) -> tuple[Reasoning | None, list[FallbackAttempt], LlmUsage, PromptRef | None]:
        """Try each level in order.

        Returns:
            The deciding level's reasoning (``level`` = its name, ``attempts`` = every attempt
            so far) or None, the attempts, the accumulated LLM usage and the prompt used.
        """
        attempts: list[FallbackAttempt] = []
        usage = LlmUsage()
        prompt: PromptRef | None = None
        for index, level in enumerate(self.levels):
            tag = f"{level.name}:{level.label}"
            shed = self._shed_reason(index, level)
            if shed is not None:
                attempts.append(FallbackAttempt(level=tag, ok=False, error=shed))
                continue
            if not level.breaker.allow():
                wait = level.breaker.retry_in()
                attempts.append(
                    FallbackAttempt(
                        level=tag, ok=False, error=f"circuit open (probe in {wait:.1f}s)"
                    )
                )
                continue
            started = time.perf_counter()
            level.guarded.deadline = self._clock() + self.policy.level_budget_s
            try:
                decided, record = level.reasoner.reason(inputs)
            except Exception as error:  # transport failure (after retries) or permanent error
                usage = usage + failed_usage(error)
                text = _error_text(error)
                if getattr(error, "counts_against_model", True):  # not e.g. a spent budget
                    level.breaker.record(False, text)
                elapsed = (time.perf_counter() - started) * 1e3
                attempts.append(
                    FallbackAttempt(level=tag, ok=False, error=text, latency_ms=elapsed)
                )
                continue
            finally:
                level.guarded.deadline = None
            usage = usage + record.usage
            prompt = record.prompt
            attempts.extend(
                a.model_copy(update={"level": f"{level.name}:{a.level}"}) for a in record.attempts
            )
            if decided is not None:
                level.breaker.record(True)
                reasoning = dataclasses.replace(
                    record, level=level.name, attempts=tuple(attempts), usage=usage
                )
                return reasoning, attempts, usage, prompt
            level.breaker.record(False, record.attempts[-1].error if record.attempts else None)
        return None, attempts, usage, prompt

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Per level: model label, breaker state and transitions, throttle state, p95 latency."""
        now = self._clock()
        out: dict[str, dict[str, Any]] = {}
        for level in self.levels:
            p95 = level.guarded.latencies.percentile(0.95)
            out[level.name] = {
                "model": level.label,
                "breaker": level.breaker.snapshot(),
                "shed": now < level.shed_until,
                "p95_latency_ms": None if p95 is None else round(p95, 3),
            }
        return out


def _transition_listener(health: HealthBoard | None) -> Callable[[Transition], None] | None:
    if health is None:
        return None

    def listen(transition: Transition) -> None:
        health.emit(
            {
                "event": "breaker",
                "level": transition.name,
                "from": transition.before,
                "to": transition.after,
                "reason": transition.reason,
            }
        )

    return listen
