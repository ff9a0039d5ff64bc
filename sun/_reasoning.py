"""Reasoners: turn planet reports into a structured ``ReasonedDecision``.

* :class:`QuantReasoner` – deterministic trust-weighted planet scores, no LLM. Used when no
  model is configured, when the policy skips the LLM, and as the last fallback.
* what every reasoner shares: its inputs (:class:`ReasonInputs`), its record
  (:class:`Reasoning`, or :class:`Provenance` without the decision) and the risk check of an
  answer (:func:`unsafe_reason`). The LLM reasoner is :mod:`sun._llm_reasoner`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bus import FallbackAttempt, LlmUsage, PlanetReport, PromptRef, ReasonedDecision
from planets import RiskLimits, Role
from sun._authority import Authority

__all__ = [
    "QUANT",
    "EMERGENCY",
    "Provenance",
    "QuantReasoner",
    "Reasoning",
    "ReasonInputs",
    "Source",
    "unsafe_reason",
]

QUANT = "quant"
EMERGENCY = "emergency"
"""The level of a decision a critical report made flat, before any reasoner was asked."""


@dataclass(frozen=True)
class ReasonInputs:
    """Everything a reasoner may see for one decision (nothing after ``as_of``)."""

    instrument: str
    as_of: str
    reports: tuple[PlanetReport, ...]
    recalled: tuple[str, ...]
    limits: RiskLimits
    directional: frozenset[str]
    risk_planet: str = Role.RISK.value
    quant: ReasonedDecision | None = None
    """The quant reasoner's decision: the anchor of the ``adjust`` and ``explain`` levels."""

    def position_cap(self) -> float:
        """The tightest position cap: the limit, and the risk planet's VaR cap if it gave one."""
        cap = self.limits.max_position
        for report in self.reports:
            if report.planet == self.risk_planet and "position_cap" in report.evidence:
                cap = min(cap, report.evidence["position_cap"])
        return cap


@dataclass(frozen=True)
class Reasoning:
    """A reasoned decision with who produced it, at which level, and what it cost."""

    decision: ReasonedDecision
    reasoner: str
    level: str
    attempts: tuple[FallbackAttempt, ...] = ()
    usage: LlmUsage = field(default_factory=LlmUsage)
    prompt: PromptRef | None = None
    authority: Authority = "decide"


@dataclass(frozen=True)
class Provenance:
    """Who reasoned a decision, at which level, and what it cost, without the decision: what
    a universe pass keeps beside its decisions' columns (its quant instruments share one)."""

    reasoner: str
    level: str
    attempts: tuple[FallbackAttempt, ...] = ()
    usage: LlmUsage = field(default_factory=LlmUsage)
    prompt: PromptRef | None = None


Source = Reasoning | Provenance
"""Where a decision came from: the reasoning itself, or its provenance alone."""


class QuantReasoner:
    """Trust-weighted average of the directional planets' confidence-weighted scores.

    ``position = sum(w_i * c_i * s_i) / sum(w_i)`` over directional planets with data; a result
    inside ``hold_band`` is HOLD. With no directional data the answer is HOLD with confidence 0
    and says so: missing data is never dressed up as a neutral signal.
    """

    def __init__(self, weights: Mapping[str, float] | None = None, hold_band: float = 0.1) -> None:
        self.weights = weights if weights is not None else {}  # live: learning updates it
        self.hold_band = hold_band

    def reason(self, inputs: ReasonInputs) -> ReasonedDecision:
        """Decide from the reports alone."""
        voters = [r for r in inputs.reports if r.planet in inputs.directional and r.has_data]
        if not voters:
            return ReasonedDecision(
                action="HOLD",
                target_position=0.0,
                confidence=0.0,
                rationale="[quant] no data from any directional planet: holding",
            )
        total_weight = sum(self.weights.get(r.planet, 1.0) for r in voters)
        signed = sum(self.weights.get(r.planet, 1.0) * r.confidence * r.score for r in voters)
        combined = max(-1.0, min(1.0, signed / total_weight))
        position = 0.0 if abs(combined) < self.hold_band else combined
        agreeing = [r for r in voters if r.score * combined > 0]
        confidence = sum(r.confidence for r in agreeing) / len(voters)
        parts = ", ".join(f"{r.planet} {r.score:+.2f}@{r.confidence:.2f}" for r in voters)
        band = f"; inside the hold band {self.hold_band}" if position == 0.0 else ""
        return ReasonedDecision(
            action=_action(position),
            target_position=position,
            confidence=min(1.0, confidence),
            rationale=f"[quant] trust-weighted planet score {combined:+.3f} ({parts}){band}",
        )


def _action(position: float) -> str:
    return "BUY" if position > 0 else "SELL" if position < 0 else "HOLD"


def unsafe_reason(decision: ReasonedDecision, inputs: ReasonInputs) -> str | None:
    """Why an LLM answer breaks the risk limits, or None if it is within them."""
    cap = inputs.position_cap()
    if abs(decision.target_position) > cap + 1e-12:
        return f"size {abs(decision.target_position):.3f} exceeds the risk limit {cap:.3f}"
    return None
