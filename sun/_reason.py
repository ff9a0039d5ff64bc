"""How the ``reason`` node decides: the emergency stop, the quant-only and ``auto`` policies,
the model fallback chain, and the planet council when every model level failed."""

from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import replace

from bus import FallbackAttempt, LlmUsage, PlanetReport, PromptRef, ReasonedDecision
from sun._context import SunContext
from sun._plan_runtime import decision_cap
from sun._reasoning import EMERGENCY, QUANT, Reasoning, ReasonInputs
from sun._state import SunState
from sun._view import planet_context
from sun.resilience import COUNCIL

NO_LLM_IN_PLAN = "skipped: the policy's plan has no LLM reasoner"

PLANETS_AGREE = "skipped: planets agree"
"""Why the ``auto`` policy asked no model: the directional planets agree."""


def sorted_reports(state: SunState) -> tuple[PlanetReport, ...]:
    """The planets' reports in a stable order (by planet name)."""
    return tuple(sorted(state.get("reports", []), key=lambda r: r.planet))


def reason_inputs(
    state: SunState, context: SunContext, reports: tuple[PlanetReport, ...]
) -> ReasonInputs:
    """Everything a reasoner may see for this decision (``reports``: the state's, sorted),
    with the quant decision as anchor."""
    inputs = ReasonInputs(
        instrument=state["instrument"],
        as_of=state["snapshot"].as_of.isoformat(),
        reports=reports,
        recalled=tuple(state.get("recalled", [])),
        limits=context.limits,
        directional=context.directional,
        risk_planet=context.risk_planet,
    )
    return replace(inputs, quant=context.quant.reason(inputs))


def emergency_reasoning(reports: tuple[PlanetReport, ...]) -> Reasoning | None:
    """The emergency flat when a report (sorted by planet) is critical, else None. Checked
    before anything else is worked out: no reasoner, not even the quant one, is asked."""
    critical = [r for r in reports if r.critical]
    if not critical:
        return None
    reasons = "; ".join(f"{r.planet}: {r.critical_reason}" for r in critical)
    flat = ReasonedDecision(
        action="HOLD", target_position=0.0, confidence=1.0, rationale=f"[emergency] {reasons}"
    )
    return Reasoning(decision=flat, reasoner=critical[0].planet, level=EMERGENCY)


def decide_reasoning(state: SunState, context: SunContext) -> Reasoning:
    """Emergency flat, quant, policy skip, model chain, or council: the first that applies."""
    reports = sorted_reports(state)
    emergency = emergency_reasoning(reports)
    if emergency is not None:
        return emergency
    inputs = reason_inputs(state, context, reports)
    chain = context.chain
    if chain is None:
        decision = inputs.quant or context.quant.reason(inputs)
        return Reasoning(decision=decision, reasoner=QUANT, level=QUANT)
    stop = state.get("stop")
    if stop is not None and stop["disposition"] in ("AUTO", "ESCALATE"):
        decision = inputs.quant or context.quant.reason(inputs)
        why = f"skipped: {stop['by']}: {stop['reason']}"
        note = FallbackAttempt(level=chain.primary.label, ok=False, error=why)
        return Reasoning(decision=decision, reasoner=QUANT, level="policy", attempts=(note,))
    route = state.get("route", {})
    if not route.get("llm", True):
        decision = inputs.quant or context.quant.reason(inputs)
        why = route.get("llm_skip") or NO_LLM_IN_PLAN
        note = FallbackAttempt(level=chain.primary.label, ok=False, error=why)
        return Reasoning(decision=decision, reasoner=QUANT, level="policy", attempts=(note,))
    if context.orchestration.llm_policy == "auto" and planets_agree(inputs, context):
        decision = inputs.quant or context.quant.reason(inputs)
        note = FallbackAttempt(level=chain.primary.label, ok=False, error=PLANETS_AGREE)
        return Reasoning(decision=decision, reasoner=QUANT, level="policy", attempts=(note,))
    cap, deadline, no_call = decision_cap(context, state)
    if no_call is not None:
        decision = inputs.quant or context.quant.reason(inputs)
        note = FallbackAttempt(level=chain.primary.label, ok=False, error=no_call)
        return Reasoning(decision=decision, reasoner=QUANT, level="policy", attempts=(note,))
    mesh, ledger = context.mesh, context.budget
    with ledger.decision(cap, deadline) if ledger is not None else nullcontext() as budget:
        spent = budget.exhausted() if budget is not None else None
        if spent is not None:
            return _budget_exhausted(inputs, context, spent)
        if mesh is not None:
            decided, attempts, usage, prompt = mesh.run(inputs, chain, context.quant.reason(inputs))
        else:
            decided, attempts, usage, prompt = chain.run(inputs)
    if decided is not None:
        return decided
    return _convene_council(state, context, inputs, attempts, usage, prompt)


def _budget_exhausted(inputs: ReasonInputs, context: SunContext, why: str) -> Reasoning:
    """No LLM call is allowed: the quant reasoner decides and says why."""
    decision = context.quant.reason(inputs)
    decision = decision.model_copy(update={"rationale": f"[{why}] {decision.rationale}"[:600]})
    note = FallbackAttempt(level="budget", ok=False, error=why)
    return Reasoning(decision=decision, reasoner=QUANT, level=QUANT, attempts=(note,))


def _convene_council(
    state: SunState,
    context: SunContext,
    inputs: ReasonInputs,
    attempts: list[FallbackAttempt],
    usage: LlmUsage,
    prompt: PromptRef | None,
) -> Reasoning:
    """Every model level failed: the planets' council decides (HOLD below quorum)."""
    started = time.perf_counter()
    shared = planet_context(state, context)
    verdict = context.council.decide(
        inputs.reports,
        context.directional,
        context.limits,
        lambda _name: shared,
        risk_planet=context.risk_planet,
    )
    note = FallbackAttempt(
        level=verdict.level,
        ok=True,
        error=None if verdict.level == COUNCIL else verdict.decision.rationale[:300],
        latency_ms=(time.perf_counter() - started) * 1e3,
    )
    return Reasoning(
        decision=_noting_budget(verdict.decision, attempts),
        reasoner=COUNCIL,
        level=verdict.level,
        attempts=(*attempts, note),
        usage=usage,
        prompt=prompt,
    )


def _noting_budget(decision: ReasonedDecision, attempts: list[FallbackAttempt]) -> ReasonedDecision:
    """The council's decision, its rationale saying so when a spent budget stopped the models."""
    for attempt in attempts:
        at = (attempt.error or "").find("budget exhausted")
        if at >= 0:
            note = attempt.error[at:] if attempt.error else ""
            return decision.model_copy(update={"rationale": f"[{note}] {decision.rationale}"[:600]})
    return decision


def planets_agree(inputs: ReasonInputs, context: SunContext) -> bool:
    """True when every directional planet with data points the same way, strongly."""
    voters = [r for r in inputs.reports if r.planet in inputs.directional and r.has_data]
    if not voters:
        return True
    signs = {r.score > 0 for r in voters}
    threshold = context.orchestration.agree_threshold
    return len(signs) == 1 and all(
        r.confidence >= threshold and abs(r.score) >= 0.3 for r in voters
    )
