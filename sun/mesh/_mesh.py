"""The model mesh of one sun: tiers, progressive refinement, budgets and rate limits."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bus import FallbackAttempt, LlmUsage, PromptRef, ReasonedDecision
from sun._reasoning import Reasoning, ReasonInputs
from sun._telemetry import Telemetry
from sun.llm import ModelRegistry, StructuredLLM
from sun.mesh._budget import Budget, BudgetConfig
from sun.mesh._caller import MeteredCaller
from sun.mesh._ratelimit import RateLimit, RateLimiter
from sun.mesh._tiers import Refinement, Tier, choose_model
from sun.resilience import ChainPolicy, FallbackChain, HealthBoard

ChainRun = tuple[Reasoning | None, list[FallbackAttempt], LlmUsage, PromptRef | None]


@dataclass(frozen=True)
class MeshConfig:
    """Capabilities, routing, refinement, budgets and rate limits of the sun's models.

    Attributes:
        registry: Model metadata (shipped defaults, plus your declarations).
        quick: The quick tier; when set, it answers first and the deep tier refines.
        deep: The deep tier; when set, its routed model replaces the ``sun_model`` spec.
        refinement: When a quick answer is escalated to the deep tier.
        budget: Per-decision, per-run and per-day caps (None: unlimited).
        rate_limits: Per provider (``anthropic``, ``openai``, ...).
        rate_limit_redis_url: Share the rate-limit windows through this Redis.
        max_completion_tokens: Completion cap reserved per call (the provider's max tokens).
    """

    registry: ModelRegistry = field(default_factory=ModelRegistry.default)
    quick: Tier | None = None
    deep: Tier | None = None
    refinement: Refinement = field(default_factory=Refinement)
    budget: BudgetConfig | None = None
    rate_limits: Mapping[str, RateLimit] = field(default_factory=dict)
    rate_limit_redis_url: str | None = None
    max_completion_tokens: int = 512


Builder = Callable[[Any], tuple[str, StructuredLLM]]


class Mesh:
    """The runtime of a :class:`MeshConfig`: the quick chain, the budget, the rate limiter."""

    def __init__(
        self,
        config: MeshConfig,
        quick_chain: FallbackChain | None,
        budget: Budget | None,
        limiter: RateLimiter | None,
    ) -> None:
        self.config = config
        self.quick_chain = quick_chain
        self.budget = budget
        self.limiter = limiter

    @classmethod
    def build(
        cls,
        config: MeshConfig,
        deep_chain: FallbackChain | None,
        builder: Builder,
        policy: ChainPolicy,
        *,
        health: HealthBoard | None = None,
        clock: Callable[[], float] | None = None,
        telemetry: Telemetry | None = None,
    ) -> Mesh:
        """Route the quick tier, and meter every level of both chains."""
        budget = Budget(config.budget or BudgetConfig())  # uncapped: a policy may still cap
        limiter = None
        if config.rate_limits:
            limiter = (
                RateLimiter.redis(config.rate_limit_redis_url, config.rate_limits)
                if config.rate_limit_redis_url
                else RateLimiter(config.rate_limits)
            )
        quick_chain = None
        if config.quick is not None:
            chosen = builder(choose_model(config.quick, config.registry))
            quick_chain = FallbackChain.build(
                [chosen], policy, health=health, clock=clock or time.monotonic
            )
            for level in quick_chain.levels:
                level.name = level.guarded.name = "quick"
        mesh = cls(config, quick_chain, budget, limiter)
        for chain in (quick_chain, deep_chain):
            if chain is not None:
                meter_chain(
                    chain,
                    config.registry,
                    budget=budget,
                    limiter=limiter,
                    telemetry=telemetry,
                    max_completion_tokens=config.max_completion_tokens,
                )
        return mesh

    def run(self, inputs: ReasonInputs, deep: FallbackChain, quant: ReasonedDecision) -> ChainRun:
        """Quick tier first, the deep tier when the quick answer needs refining."""
        if self.quick_chain is None:
            return deep.run(inputs)
        quick, attempts, usage, prompt = self.quick_chain.run(inputs)
        why = self.escalation(quick, quant)
        if why is None and quick is not None:
            return quick, attempts, usage, prompt
        scope = self.budget.current() if self.budget is not None else None
        spent = scope.exhausted() if scope is not None else None
        if spent is not None:
            skip = FallbackAttempt(level="deep", ok=False, error=f"not escalated ({why}): {spent}")
            if quick is not None:
                kept = (*attempts, skip)
                return dataclasses.replace(quick, attempts=kept), list(kept), usage, prompt
            return None, [*attempts, skip], usage, prompt
        note = FallbackAttempt(level="quick", ok=False, error=f"escalated to deep: {why}")
        decided, deep_attempts, deep_usage, deep_prompt = deep.run(inputs)
        merged = [*attempts, note, *deep_attempts]
        total = usage + deep_usage
        if decided is None and quick is not None:  # the deep tier failed: the quick answer stands
            merged.append(
                FallbackAttempt(level="deep", ok=False, error="deep tier failed: quick answer kept")
            )
            return (
                dataclasses.replace(quick, attempts=tuple(merged), usage=total),
                merged,
                total,
                prompt,
            )
        if decided is not None:
            decided = dataclasses.replace(decided, attempts=tuple(merged), usage=total)
        return decided, merged, total, deep_prompt or prompt

    def escalation(self, quick: Reasoning | None, quant: ReasonedDecision) -> str | None:
        """Why a quick answer goes to the deep tier, or None to keep it."""
        if quick is None:
            return "quick answer invalid"
        answer = quick.decision
        rule = self.config.refinement
        if answer.confidence < rule.min_confidence:
            return f"confidence {answer.confidence:.2f} < {rule.min_confidence:.2f}"
        if rule.on_disagreement and answer.target_position * quant.target_position < 0:
            return (
                f"disagrees with the planets ({answer.action} vs quant {quant.action} "
                f"{quant.target_position:+.2f})"
            )
        return None


def meter_chain(
    chain: FallbackChain,
    registry: ModelRegistry,
    *,
    strict: bool = True,
    budget: Budget | None = None,
    limiter: RateLimiter | None = None,
    telemetry: Telemetry | None = None,
    max_completion_tokens: int = 512,
) -> None:
    """Put every level's model calls behind pricing, the budget, the rate limits and
    telemetry (each try of its ``GuardedLLM``: retries and repairs are calls too).

    Args:
        strict: An unknown model is an error (a mesh needs its metadata); otherwise it is
            simply not priced.
    """
    for level in chain.levels:
        info = registry.info(level.label) if strict or level.label in registry else None
        level.guarded.gate = MeteredCaller(
            level.guarded.inner,
            level.label,
            info,
            budget=budget,
            limiter=limiter,
            max_completion_tokens=max_completion_tokens,
            telemetry=telemetry,
        )
