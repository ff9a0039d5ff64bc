"""The model mesh: capability-aware routing by tier, progressive refinement (quick first, deep
when needed), budgets that stop spending (per decision, run and day, shared through Redis) and
per-provider rate limits.

    from sun import ModelConfig, Sun
    from sun.mesh import BudgetConfig, BudgetLimits, MeshConfig, Tier
    mesh = MeshConfig(quick=Tier(["openai:gpt-4o-mini"]), deep=Tier(["anthropic:claude-sonnet-4-5"]),
                      budget=BudgetConfig(per_day=BudgetLimits(usd=5.0), redis_url=url))
    sun = Sun(models=ModelConfig(mesh=mesh))
"""

from sun.llm import retry_after_s
from sun.mesh._budget import (
    Budget,
    BudgetConfig,
    BudgetExhausted,
    BudgetLimits,
    Charge,
    DecisionBudget,
    MemoryLedger,
    RedisDayLedger,
)
from sun.mesh._caller import MeteredCaller, estimate_tokens, provider_of
from sun.mesh._mesh import Mesh, MeshConfig, meter_chain
from sun.mesh._ratelimit import RateLimit, RateLimited, RateLimiter
from sun.mesh._tiers import Refinement, Tier, candidate_label, choose_model

__all__ = [
    "Budget",
    "BudgetConfig",
    "BudgetExhausted",
    "BudgetLimits",
    "Charge",
    "DecisionBudget",
    "MemoryLedger",
    "Mesh",
    "MeshConfig",
    "MeteredCaller",
    "RateLimit",
    "RateLimited",
    "RateLimiter",
    "RedisDayLedger",
    "Refinement",
    "Tier",
    "candidate_label",
    "choose_model",
    "estimate_tokens",
    "meter_chain",
    "provider_of",
    "retry_after_s",
]
