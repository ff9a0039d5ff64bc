"""Task tiers and cost-aware routing: the cheapest model with the capabilities, in time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sun.llm import Capability, ModelInfo, ModelRegistry, parse_model_spec


@dataclass(frozen=True)
class Tier:
    """The models one tier (``quick`` or ``deep``) may use, and what it needs from them.

    Attributes:
        candidates: Spec strings (``openai:gpt-4o-mini``) or ``(label, chat_model)`` pairs.
        requires: Capabilities every chosen model must have.
        latency_budget_ms: Models whose latency prior exceeds this are not chosen (None: any).
        min_context: Smallest context window accepted, in tokens.
        typical_prompt_tokens: Prompt size used to compare prices.
        typical_completion_tokens: Completion size used to compare prices.
    """

    candidates: Sequence[Any]
    requires: frozenset[Capability] = field(
        default_factory=lambda: frozenset({"structured_output"})
    )
    latency_budget_ms: float | None = None
    min_context: int = 4096
    typical_prompt_tokens: int = 1500
    typical_completion_tokens: int = 150

    def __post_init__(self) -> None:
        if not self.candidates:
            raise ValueError("a tier needs at least one candidate model")
        if self.latency_budget_ms is not None and not self.latency_budget_ms > 0:
            raise ValueError(f"latency_budget_ms must be > 0, got {self.latency_budget_ms!r}")


def candidate_label(candidate: Any) -> str:
    """The spec label of a candidate (a spec string or a ``(label, model)`` pair)."""
    if isinstance(candidate, str):
        return parse_model_spec(candidate).label
    if isinstance(candidate, tuple) and len(candidate) == 2 and isinstance(candidate[0], str):
        return candidate[0]
    raise TypeError(
        f"a tier candidate is a spec string or a (label, chat_model) pair; got {candidate!r}"
    )


def _rejection(tier: Tier, info: ModelInfo) -> str | None:
    missing = sorted(c for c in tier.requires if not info.has(c))
    if missing:
        return f"lacks {', '.join(missing)}"
    if info.context_window < tier.min_context:
        return f"context {info.context_window} < {tier.min_context}"
    if tier.latency_budget_ms is not None and info.latency_ms > tier.latency_budget_ms:
        return f"latency prior {info.latency_ms:g} ms > budget {tier.latency_budget_ms:g} ms"
    return None


def choose_model(tier: Tier, registry: ModelRegistry) -> Any:
    """The cheapest candidate that has the capabilities and fits the latency budget.

    Ties go to the lower latency prior, then to the earlier candidate.

    Raises:
        UnknownModelError: A candidate has no metadata.
        ValueError: No candidate qualifies (the message says why each was rejected).
    """
    fitting: list[tuple[float, float, int, Any]] = []
    rejected: list[str] = []
    for index, candidate in enumerate(tier.candidates):
        label = candidate_label(candidate)
        info = registry.info(label)
        why = _rejection(tier, info)
        if why is not None:
            rejected.append(f"{label}: {why}")
            continue
        cost = info.cost_usd(tier.typical_prompt_tokens, tier.typical_completion_tokens)
        fitting.append((cost, info.latency_ms, index, candidate))
    if not fitting:
        raise ValueError(f"no model fits the tier: {'; '.join(rejected)}")
    return min(fitting, key=lambda item: item[:3])[3]


@dataclass(frozen=True)
class Refinement:
    """When a quick-tier answer is escalated to the deep tier.

    Attributes:
        min_confidence: Escalate an answer less confident than this.
        on_disagreement: Escalate when the answer's direction opposes the planets' (the quant
            reasoner's non-flat direction).
    """

    min_confidence: float = 0.6
    on_disagreement: bool = True

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be in [0, 1], got {self.min_confidence!r}")
