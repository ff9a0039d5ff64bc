"""Reasoners: turn planet reports into a structured ``ReasonedDecision``.

* :class:`QuantReasoner` – deterministic trust-weighted planet scores, no LLM. Used when no
  model is configured, when the policy skips the LLM, and as the last fallback.
* :class:`LlmReasoner` – the sun's deep-tier chat model with schema-validated output, one
  repair attempt for an invalid or unsafe answer, and LLM usage accounting.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from bus import FallbackAttempt, LlmUsage, PlanetReport, PromptRef, ReasonedDecision
from planets import RiskLimits, Role
from prompts import LiveExperiment, PromptTemplate, get_prompt
from sun._authority import (
    ANSWERS,
    Authority,
    LlmAnswer,
    apply_authority,
    parse_authority,
    rationale_problem,
)
from sun._report_text import describe_reports, format_reports
from sun.llm import StructuredCaller, add_failed_usage

__all__ = [
    "QUANT",
    "LlmAnswer",
    "LlmReasoner",
    "QuantReasoner",
    "Reasoning",
    "ReasonInputs",
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


_LEVEL_PROMPTS: dict[Authority, str] = {"adjust": "sun_adjust", "explain": "sun_explain"}


class LlmReasoner:
    """The deep-tier LLM reasoner (any LangChain chat model via :class:`StructuredLLM`).

    ``authority`` is how much say the model has (see :mod:`sun._authority`): at ``decide`` it
    answers with the ``sun_reason`` prompt; at ``adjust`` / ``explain`` with ``sun_adjust`` /
    ``sun_explain`` around the quant decision (``band``: the most ``adjust`` may move it).
    """

    def __init__(
        self,
        llm: StructuredCaller,
        label: str,
        prompt: PromptTemplate | None = None,
        repair_prompt: PromptTemplate | None = None,
        *,
        authority: Authority = "decide",
        band: float = 0.25,
    ) -> None:
        self.llm = llm
        self.label = label
        self.prompt = prompt or get_prompt("sun_reason")
        self.repair_prompt = repair_prompt or get_prompt("sun_repair")
        self.experiment: LiveExperiment | None = None
        self.authority = authority
        self.band = band
        self.set_authority(authority, band)

    def set_authority(self, authority: str, band: float) -> None:
        """Change the level (checked) and the ``adjust`` band (in (0, 1])."""
        if not 0.0 < band <= 1.0:
            raise ValueError(f"the adjust band must be in (0, 1]; got {band}")
        self.authority = parse_authority(authority)
        self.band = band

    def prompt_for(self, inputs: ReasonInputs) -> PromptTemplate:
        """This decision's prompt: the level's prompt, or the live experiment's arm for it."""
        if self.authority in _LEVEL_PROMPTS:
            return get_prompt(_LEVEL_PROMPTS[self.authority])
        if self.experiment is not None and self.experiment.name == self.prompt.name:
            return self.experiment.choose(LiveExperiment.key(inputs.instrument, inputs.as_of))
        return self.prompt

    def anchor(self, inputs: ReasonInputs) -> ReasonedDecision:
        """The quant decision that ``adjust`` moves and ``explain`` explains."""
        return inputs.quant if inputs.quant is not None else QuantReasoner().reason(inputs)

    def messages(
        self, inputs: ReasonInputs, prompt: PromptTemplate | None = None
    ) -> list[BaseMessage]:
        """The reasoning prompt: planet evidence verbatim, limits, recalled situations.

        Each template declares the variables it uses (``reports``: compact values;
        ``evidence``: what each score means and moon values as relations; ``quant`` and
        ``band`` for the ``adjust`` / ``explain`` levels).
        """
        template = prompt or self.prompt
        quant = self.anchor(inputs) if {"quant", "band"} & set(template.variables) else None
        values: dict[str, object] = {
            "instrument": inputs.instrument,
            "as_of": inputs.as_of,
            "reports": format_reports(inputs.reports),
            "evidence": describe_reports(inputs.reports, inputs.risk_planet),
            "recalled": "; ".join(inputs.recalled) or "none",
            "limits": f"size at most {inputs.position_cap():.3f}",
            "quant": "" if quant is None else f"{quant.action} {quant.target_position:+.2f}",
            "band": f"{self.band:.2f}",
        }
        system, user = template.render(
            **{k: v for k, v in values.items() if k in template.variables}
        )
        return [SystemMessage(system), HumanMessage(user)]

    def _check(
        self, parsed: object, inputs: ReasonInputs, prompt_text: str
    ) -> tuple[ReasonedDecision | None, str | None]:
        """The decision an answer allows at this level, or why the answer is invalid."""
        schema = ANSWERS[self.authority]
        if not isinstance(parsed, schema):
            return None, f"expected a {schema.__name__}"
        problem = rationale_problem(getattr(parsed, "rationale", ""), inputs.reports, prompt_text)
        if problem is not None:
            return None, problem
        decision = apply_authority(
            parsed, self.anchor(inputs), inputs.reports, inputs.directional, self.band
        )
        return decision, unsafe_reason(decision, inputs)

    def reason(self, inputs: ReasonInputs) -> tuple[ReasonedDecision | None, Reasoning]:
        """Ask the model once, repair once if the answer is invalid, unsafe or says nothing.

        Returns the decision and the record of the attempts. If both tries failed the decision
        is None at ``decide`` (the next level decides) and the quant anchor at ``adjust`` /
        ``explain`` (the model never had a say over the numbers; the rationale says so).
        Transport errors (connection, timeout, rate limit) propagate to the caller, carrying
        the usage of the calls made before them (:func:`~sun.llm.failed_usage`).
        """
        prompt = self.prompt_for(inputs)
        messages = self.messages(inputs, prompt)
        prompt_text = "\n".join(str(m.content) for m in messages)
        usage = LlmUsage()
        attempts: list[FallbackAttempt] = []
        for attempt in range(2):
            started = time.perf_counter()
            try:
                result = self.llm.invoke(messages, ANSWERS[self.authority])
            except Exception as failure:  # the calls made so far were made: they go with it
                add_failed_usage(failure, usage)
                raise
            usage = usage + result.usage
            decision, error = None, result.error
            if error is None:
                decision, error = self._check(result.parsed, inputs, prompt_text)
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
        if self.authority != "decide":  # the model had no say over the numbers: they stand
            anchor = self.anchor(inputs)
            note = (
                f" [{self.authority}: no valid answer from {self.label}; the quant decision stands]"
            )
            stands = anchor.model_copy(update={"rationale": (anchor.rationale + note)[:600]})
            return stands, self._record(stands, attempts, usage, prompt)
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
            authority=self.authority,
        )
