"""Reasoners: turn planet reports into a structured ``ReasonedDecision``.

* :class:`QuantReasoner` – deterministic trust-weighted planet scores, no LLM. Used when no
  model is configured, when the policy skips the LLM, and as the last fallback.
* :class:`LlmReasoner` – the sun's deep-tier chat model with schema-validated output, one
  repair attempt for an invalid or unsafe answer, and LLM usage accounting.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ConfigDict, Field

from bus import FallbackAttempt, LlmUsage, PlanetReport, PromptRef, ReasonedDecision
from planets import RiskLimits, Role
from prompts import LiveExperiment, PromptTemplate, get_prompt
from sun.llm import StructuredCaller

QUANT = "quant"


class LlmAnswer(BaseModel):
    """What the LLM is asked to produce: direction and size are separate fields.

    Keeping size unsigned makes "BUY with a negative position" impossible to express, which
    matters for small embedded models; :meth:`to_decision` derives the signed target.
    """

    model_config = ConfigDict(frozen=True)

    action: Literal["BUY", "SELL", "HOLD"]
    size: float = Field(ge=0.0, le=1.0, allow_inf_nan=False, description="fraction of the cap")
    confidence: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)
    rationale: str = Field(max_length=200)

    def to_decision(self) -> ReasonedDecision:
        """The signed decision: BUY -> +size, SELL -> -size, HOLD -> 0."""
        sign = {"BUY": 1.0, "SELL": -1.0, "HOLD": 0.0}[self.action]
        target = sign * self.size
        return ReasonedDecision(
            action=self.action if target != 0.0 else "HOLD",
            target_position=target,
            confidence=self.confidence,
            rationale=self.rationale,
        )


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


def format_reports(reports: Sequence[PlanetReport]) -> str:
    """One compact line per planet: score, confidence and every evidence value.

    Evidence values are the reports' own numbers rounded to 4 significant digits (``%.4g``):
    prompt length dominates the embedded model's latency, and digits cost a token each.
    """
    lines = []
    for report in reports:
        if not report.has_data:
            lines.append(f"{report.planet}: NO DATA ({'; '.join(report.recommendations)})")
            continue
        evidence = " ".join(f"{k}={_number(v)}" for k, v in report.evidence.items())
        line = (
            f"{report.planet}: score={report.score:+.3f} conf={report.confidence:.2f} | {evidence}"
        )
        if report.veto:
            line += f" | VETO: {report.veto_reason}"
        lines.append(line)
    return "\n".join(lines)


def _number(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else "NaN"


def unsafe_reason(decision: ReasonedDecision, inputs: ReasonInputs) -> str | None:
    """Why an LLM answer breaks the risk limits, or None if it is within them."""
    cap = inputs.position_cap()
    if abs(decision.target_position) > cap + 1e-12:
        return f"size {abs(decision.target_position):.3f} exceeds the risk limit {cap:.3f}"
    return None


class LlmReasoner:
    """The deep-tier LLM reasoner (any LangChain chat model via :class:`StructuredLLM`)."""

    def __init__(
        self,
        llm: StructuredCaller,
        label: str,
        prompt: PromptTemplate | None = None,
        repair_prompt: PromptTemplate | None = None,
    ) -> None:
        self.llm = llm
        self.label = label
        self.prompt = prompt or get_prompt("sun_reason")
        self.repair_prompt = repair_prompt or get_prompt("sun_repair")
        self.experiment: LiveExperiment | None = None

    def prompt_for(self, inputs: ReasonInputs) -> PromptTemplate:
        """This decision's prompt: the live experiment's arm for it, else the configured one."""
        if self.experiment is not None and self.experiment.name == self.prompt.name:
            return self.experiment.choose(LiveExperiment.key(inputs.instrument, inputs.as_of))
        return self.prompt

    def messages(
        self, inputs: ReasonInputs, prompt: PromptTemplate | None = None
    ) -> list[BaseMessage]:
        """The reasoning prompt: planet evidence verbatim, limits, recalled situations."""
        system, user = (prompt or self.prompt).render(
            instrument=inputs.instrument,
            as_of=inputs.as_of,
            reports=format_reports(inputs.reports),
            recalled="; ".join(inputs.recalled) or "none",
            limits=f"size at most {inputs.position_cap():.3f}",
        )
        return [SystemMessage(system), HumanMessage(user)]

    def reason(self, inputs: ReasonInputs) -> tuple[ReasonedDecision | None, Reasoning]:
        """Ask the model once, repair once if the answer is invalid or unsafe.

        Returns the decision (None if both tries failed) and the record of the attempts.
        Transport errors (connection, timeout, rate limit) propagate to the caller.
        """
        prompt = self.prompt_for(inputs)
        messages = self.messages(inputs, prompt)
        usage = LlmUsage()
        attempts: list[FallbackAttempt] = []
        for attempt in range(2):
            started = time.perf_counter()
            result = self.llm.invoke(messages, LlmAnswer)
            usage = usage + result.usage
            error = result.error
            parsed = result.parsed
            decision = parsed.to_decision() if isinstance(parsed, LlmAnswer) else None
            if decision is not None and error is None:
                error = unsafe_reason(decision, inputs)
            elapsed = (time.perf_counter() - started) * 1e3
            level = self.label if attempt == 0 else f"{self.label} (repair)"
            attempts.append(
                FallbackAttempt(level=level, ok=error is None, error=error, latency_ms=elapsed)
            )
            if error is None and decision is not None:
                return decision, self._record(decision, attempts, usage, prompt)
            repair_system, repair_user = self.repair_prompt.render(error=error)
            messages = [
                *messages,
                AIMessage(result.raw_text or ""),
                HumanMessage(f"{repair_system}\n{repair_user}"),
            ]
        return None, self._record(None, attempts, usage, prompt)

    def _record(
        self,
        decision: ReasonedDecision | None,
        attempts: list[FallbackAttempt],
        usage: LlmUsage,
        prompt: PromptTemplate,
    ) -> Reasoning:
        placeholder = decision or ReasonedDecision(
            action="HOLD", target_position=0.0, confidence=0.0, rationale="(no valid LLM answer)"
        )
        return Reasoning(
            decision=placeholder,
            reasoner=self.label,
            level="primary",
            attempts=tuple(attempts),
            usage=usage,
            prompt=PromptRef(name=prompt.name, version=prompt.version),
        )
