"""``MeteredCaller``: every model call of a level, priced, budgeted, rate limited and traced."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

from langchain_core.messages import BaseMessage
from pydantic import BaseModel

from sun._telemetry import Telemetry
from sun.llm import ModelInfo, StructuredCaller, StructuredResult, failed_usage, retry_after_s
from sun.mesh._budget import Budget, Charge
from sun.mesh._ratelimit import RateLimiter


def estimate_tokens(text: str) -> int:
    """A generous token estimate for budgeting (3 characters per token, rounded up)."""
    return math.ceil(len(text) / 3)


def provider_of(label: str) -> str:
    """The provider part of a spec label (``anthropic:claude-...`` -> ``anthropic``)."""
    return label.partition(":")[0]


class MeteredCaller:
    """Every model call of a level: reserve budget, take a rate-limit slot, call, price, settle.

    A fallback chain's level uses it as its ``GuardedLLM``'s gate (:meth:`around`, once per
    try: first call, in-chain retry and repair alike); :meth:`invoke` meters ``inner`` alone.

    Args:
        inner: The level's structured caller; kept as ``inner``.
        label: The model spec label.
        info: The model's metadata (prices); None: unknown model, calls are not priced.
        budget: Budgets to reserve in (None: unlimited).
        limiter: Provider rate limits (None: none).
        max_completion_tokens: The completion cap reserved per call.
        telemetry: Traces each call (``llm.call`` span) and counts it (None: off).
    """

    def __init__(
        self,
        inner: StructuredCaller,
        label: str,
        info: ModelInfo | None,
        *,
        budget: Budget | None = None,
        limiter: RateLimiter | None = None,
        max_completion_tokens: int = 512,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.inner = inner
        self.label = label
        self.info = info
        self.budget = budget
        self.limiter = limiter
        self.max_completion_tokens = max_completion_tokens
        self.telemetry = telemetry
        self.provider = provider_of(label)

    def invoke(self, messages: list[BaseMessage], schema: type[BaseModel]) -> StructuredResult:
        """One structured call of ``inner`` within budget and rate limits."""
        return self.around(messages, lambda: self.inner.invoke(messages, schema))

    def around(
        self, messages: list[BaseMessage], call: Callable[[], StructuredResult]
    ) -> StructuredResult:
        """Make ``call`` (one model call) within budget and rate limits; raises
        ``BudgetExhausted`` / ``RateLimited`` before calling when it may not."""
        if self.telemetry is None:
            return self._metered(messages, call)
        with self.telemetry.node("llm.call") as span:
            try:
                result = self._metered(messages, call)
            except Exception as error:
                self.telemetry.record_call(span, self.label, failed_usage(error))
                raise
            self.telemetry.record_call(span, self.label, result.usage)
            return result

    def _cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return 0.0 if self.info is None else self.info.cost_usd(prompt_tokens, completion_tokens)

    def _metered(
        self, messages: list[BaseMessage], call: Callable[[], StructuredResult]
    ) -> StructuredResult:
        prompt_tokens = estimate_tokens("".join(str(m.content) for m in messages))
        worst = Charge(
            calls=1,
            tokens=prompt_tokens + self.max_completion_tokens,
            usd=self._cost(prompt_tokens, self.max_completion_tokens),
        )
        scope = self.budget.current() if self.budget is not None else None
        reservation = scope.reserve(worst) if scope is not None else None
        try:
            if self.limiter is not None:
                self.limiter.acquire(self.provider, worst.tokens)
        except Exception:
            if scope is not None and reservation is not None:
                scope.release(reservation)  # no call was made
            raise
        try:
            result = call()
        except Exception as error:
            if scope is not None and reservation is not None:
                scope.settle(reservation, Charge(calls=1))
            self._honour_retry_after(error)
            raise
        usage = result.usage if self.info is None else self.info.priced(result.usage)
        if usage.cache_hits and not usage.calls:
            saved = self._cost(prompt_tokens, estimate_tokens(result.raw_text))
            usage = usage.model_copy(update={"cache_saved_usd": saved})
        if scope is not None and reservation is not None:
            actual = Charge(
                usage.calls, usage.prompt_tokens + usage.completion_tokens, usage.cost_usd
            )
            scope.settle(reservation, actual)
        return dataclasses.replace(result, usage=usage)

    def _honour_retry_after(self, error: BaseException) -> None:
        wait = retry_after_s(error)
        if wait is not None and self.limiter is not None:
            self.limiter.block(self.provider, wait)
