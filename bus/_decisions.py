"""Contracts that flow up and down the hierarchy: moon panels, planet reports, decisions, orders."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bus._instrument import InstrumentId

Action = Literal["BUY", "SELL", "HOLD"]
Authority = Literal["decide", "adjust", "explain"]
"""How much say the reasoner had: choose the decision, move the quant target within a band,
or only explain the quant decision."""

_FROZEN = ConfigDict(frozen=True, ser_json_inf_nan="constants")


class MoonPanel(BaseModel):
    """Named moon values per instrument at ``as_of``. NaN means "still warming up", not zero."""

    model_config = _FROZEN

    as_of: datetime
    values: dict[str, dict[str, float]]
    spec_key: str = ""
    cache_hits: int = 0
    cache_misses: int = 0

    def for_instrument(self, instrument: str) -> dict[str, float]:
        """Moon values of one instrument; raises ``KeyError`` naming it when absent."""
        try:
            return self.values[instrument]
        except KeyError:
            raise KeyError(f"moon panel has no instrument {instrument!r}") from None


class LlmUsage(BaseModel):
    """LLM accounting for one decision (or an aggregate of many)."""

    model_config = ConfigDict(frozen=True)

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: float = 0.0
    cache_hits: int = 0
    cost_usd: float = 0.0
    """Dollars spent on these calls (0 for local models, cache hits, old journals)."""
    cache_saved_usd: float = 0.0
    """Estimated dollars the response caches saved (what the hits would have cost)."""

    def __add__(self, other: LlmUsage) -> LlmUsage:
        return LlmUsage(
            calls=self.calls + other.calls,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            latency_ms=self.latency_ms + other.latency_ms,
            cache_hits=self.cache_hits + other.cache_hits,
            cost_usd=self.cost_usd + other.cost_usd,
            cache_saved_usd=self.cache_saved_usd + other.cache_saved_usd,
        )


class PlanetReport(BaseModel):
    """One planet's view of one instrument.

    ``evidence`` holds the exact moon values the score was computed from. A planet without
    usable data says so with ``has_data=False`` and ``confidence=0`` instead of a neutral score.
    """

    model_config = _FROZEN

    planet: str = Field(min_length=1)
    instrument: InstrumentId
    as_of: datetime
    score: float = Field(ge=-1.0, le=1.0, allow_inf_nan=False)
    confidence: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)
    has_data: bool = True
    evidence: dict[str, float] = Field(default_factory=dict)
    recommendations: tuple[str, ...] = ()
    veto: bool = False
    veto_reason: str | None = None
    critical: bool = False
    critical_reason: str | None = None
    narrative: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> PlanetReport:
        if self.veto and not self.veto_reason:
            raise ValueError("a veto needs a veto_reason")
        if self.critical and not self.critical_reason:
            raise ValueError("a critical update needs a critical_reason")
        if not self.has_data and self.confidence != 0.0:
            raise ValueError("a report without data must have confidence 0")
        return self


class ReasonedDecision(BaseModel):
    """The structured answer a reasoner (LLM or quant) must produce; kept small on purpose."""

    model_config = ConfigDict(frozen=True)

    action: Action
    target_position: float = Field(ge=-1.0, le=1.0, allow_inf_nan=False)
    confidence: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)
    rationale: str = Field(max_length=600)

    @model_validator(mode="after")
    def _direction_matches(self) -> ReasonedDecision:
        check_direction(self.action, self.target_position)
        return self


def check_direction(action: Action, target_position: float) -> None:
    """BUY needs a positive target, SELL a negative one, HOLD a flat one."""
    if action == "BUY" and target_position <= 0:
        raise ValueError("BUY needs target_position > 0")
    if action == "SELL" and target_position >= 0:
        raise ValueError("SELL needs target_position < 0")
    if action == "HOLD" and target_position != 0:
        raise ValueError("HOLD needs target_position == 0")


def action_for(target_position: float) -> Action:
    """The action implied by a target position."""
    if target_position > 0:
        return "BUY"
    if target_position < 0:
        return "SELL"
    return "HOLD"


class GuardCorrection(BaseModel):
    """A change the risk guard made to a decision, with the limit that required it."""

    model_config = ConfigDict(frozen=True)

    rule: str
    before: float
    after: float
    reason: str


class FallbackAttempt(BaseModel):
    """One level of the reasoning chain that was tried, and why it did or did not decide."""

    model_config = ConfigDict(frozen=True)

    level: str
    ok: bool
    error: str | None = None
    latency_ms: float = 0.0


class PromptRef(BaseModel):
    """Which prompt template (name and version) produced a decision."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: str


class OrderIntent(BaseModel):
    """What the execution planet would send to a broker (heliarch never calls one)."""

    model_config = ConfigDict(frozen=True)

    instrument: InstrumentId
    as_of: datetime
    side: Literal["BUY", "SELL"]
    quantity: float = Field(gt=0.0, allow_inf_nan=False)
    reference_price: float = Field(gt=0.0, allow_inf_nan=False)
    notional: float = Field(gt=0.0, allow_inf_nan=False)
    target_position: float = Field(ge=-1.0, le=1.0, allow_inf_nan=False)
    caps: tuple[str, ...] = ()
    reason: str = ""


Disposition = Literal["AUTO", "HIL_REVIEW", "ESCALATE"]


class TraceStep(BaseModel):
    """One node of a decision's execution: ran, skipped, expanded or failed; why; how long."""

    model_config = ConfigDict(frozen=True)

    node: str
    status: Literal["ran", "skipped", "expanded", "failed"]
    reason: str = ""
    duration_ms: float = 0.0

    def __eq__(self, other: object) -> bool:
        """Same node, status and reason: timings vary between runs of the same decision, so
        two decisions made the same way compare equal."""
        if not isinstance(other, TraceStep):
            return NotImplemented
        return (self.node, self.status, self.reason) == (other.node, other.status, other.reason)

    def __hash__(self) -> int:
        return hash((self.node, self.status, self.reason))


ReviewStatus = Literal["pending", "approved", "rejected", "modified"]


class ReviewRecord(BaseModel):
    """A human review of a HIL_REVIEW decision: pending, or who resolved it and how."""

    model_config = ConfigDict(frozen=True)

    thread_id: str | None = Field(None, description="checkpoint thread to resume (None: none)")
    status: ReviewStatus = "pending"
    by: str = ""
    note: str = ""
    proposed_target: float = Field(0.0, description="the guarded target shown to the reviewer")
    requested_target: float | None = Field(None, description="the reviewer's target (modify)")


class EscalationAlert(BaseModel):
    """An ESCALATE decision's alert: no order; who should look and why."""

    model_config = ConfigDict(frozen=True)

    instrument: InstrumentId
    as_of: datetime
    reason: str
    by: str = Field("", description="what escalated: a checkpoint, the failure rule")
    policy: str = ""
    rule: str = ""
    proposed_target: float | None = None


class SunDecision(BaseModel):
    """The sun's decision for one instrument, with everything needed to trace it."""

    model_config = _FROZEN

    instrument: InstrumentId
    as_of: datetime
    action: Action
    target_position: float = Field(ge=-1.0, le=1.0, allow_inf_nan=False)
    confidence: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)
    rationale: str
    reasoner: str = Field(description="who reasoned: 'quant' or a model spec such as 'local'")
    fallback_level: str = Field(description="the chain level that produced the decision")
    attempts: tuple[FallbackAttempt, ...] = ()
    emergency: bool = False
    planet_reports: tuple[PlanetReport, ...] = ()
    corrections: tuple[GuardCorrection, ...] = ()
    order_intent: OrderIntent | None = None
    llm_usage: LlmUsage = Field(default_factory=LlmUsage)
    prompt: PromptRef | None = None
    routed_planets: tuple[str, ...] = ()
    recalled: tuple[str, ...] = ()
    trace: tuple[TraceStep, ...] = Field(
        (), description="every node of the decision: ran / skipped / expanded / failed, why, ms"
    )
    disposition: Disposition = Field(
        "AUTO", description="AUTO (order may follow), HIL_REVIEW (a human decides) or ESCALATE"
    )
    disposition_reason: str = ""
    review: ReviewRecord | None = Field(None, description="HIL_REVIEW: pending, or its outcome")
    alert: EscalationAlert | None = Field(None, description="ESCALATE: the alert published")
    authority: Authority = Field(
        default="decide", description="the reasoner's authority level (older journals: decide)"
    )

    @field_validator("target_position")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("target_position must be finite")
        return value

    @model_validator(mode="after")
    def _direction_matches(self) -> SunDecision:
        check_direction(self.action, self.target_position)
        return self
