"""How one prompt did on one situation: the trial score, the decision utility, the evaluator.

A trial's utility is in ``[-1, 1]``: the decision quality of the prompt's answer (see
:func:`decision_utility`), ``-1`` for an invalid structured output, minus a token-cost charge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

from bus import LlmUsage
from prompts._registry import PromptTemplate


@dataclass(frozen=True)
class TrialScore:
    """How one prompt did on one situation.

    Attributes:
        utility: The trial metric in ``[-1, 1]`` (see :func:`decision_utility`).
        valid: Whether the model produced a valid structured answer.
        position: The signed target position decided (0 for HOLD or invalid).
        strategy_return: ``position * realized forward return``.
        hit: 1 right direction, 0 wrong, 0.5 HOLD, ``None`` when invalid.
        usage: LLM calls and tokens spent.
    """

    utility: float
    valid: bool
    position: float = 0.0
    strategy_return: float = 0.0
    hit: float | None = None
    usage: LlmUsage = field(default_factory=LlmUsage)

    @property
    def tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.usage.prompt_tokens + self.usage.completion_tokens


def return_scale(realized_vol: float, horizon: int, periods_per_year: int = 252) -> float:
    """The volatility of a ``horizon``-bar return, from the annualized ``realized_vol`` moon
    known at decision time (2% when it is unknown); the ``scale`` of :func:`decision_utility`."""
    if math.isfinite(realized_vol) and realized_vol > 0:
        return realized_vol * math.sqrt(horizon / periods_per_year)
    return 0.02


def decision_utility(
    position: float | None,
    forward_return: float,
    scale: float,
    tokens: int = 0,
    token_cost_per_1k: float = 0.0,
) -> TrialScore:
    """The trial metric of one decision.

    ``utility = 0.5 * clip(position * r / scale, -1, 1) + 0.5 * (2 * hit - 1)`` — half
    risk-adjusted return (``scale`` = the forward return's volatility known at decision time),
    half hit rate (HOLD counts 0.5) — minus ``token_cost_per_1k * tokens / 1000``, clipped to
    ``[-1, 1]``. An invalid answer (``position=None``) scores ``-1``.
    """
    usage = LlmUsage(prompt_tokens=tokens)
    if position is None or not math.isfinite(position):
        return TrialScore(utility=-1.0, valid=False, usage=usage)
    strategy = position * forward_return
    hit = 0.5 if position == 0.0 or forward_return == 0.0 else float(strategy > 0)
    risk_adjusted = max(-1.0, min(1.0, strategy / scale)) if scale > 0 else 0.0
    utility = 0.5 * risk_adjusted + 0.5 * (2.0 * hit - 1.0) - token_cost_per_1k * tokens / 1e3
    return TrialScore(
        utility=max(-1.0, min(1.0, utility)),
        valid=True,
        position=position,
        strategy_return=strategy,
        hit=hit,
        usage=usage,
    )


class Evaluator(Protocol):
    """Scores a prompt on one past situation (whose outcome is complete)."""

    def evaluate(self, prompt: PromptTemplate, situation: str) -> TrialScore:
        """Decide with ``prompt`` on ``situation`` and score the decision."""
