"""The guard: risk supersedes every reasoner. Clamp or veto, and record each correction."""

from __future__ import annotations

import math
from collections.abc import Sequence

from bus import GuardCorrection, PlanetReport, ReasonedDecision, action_for
from planets import RiskLimits, Role


def guard(
    decision: ReasonedDecision,
    reports: Sequence[PlanetReport],
    limits: RiskLimits,
    risk_planet: str = Role.RISK.value,
) -> tuple[ReasonedDecision, tuple[GuardCorrection, ...]]:
    """Apply the risk rules to a reasoned decision.

    Rules, in order: the risk report (from the planet named ``risk_planet``, the one with the
    risk role) must exist and have data (fails closed); a risk veto or
    critical update forces flat; the position is clamped to the tightest of ``max_position``
    and the risk planet's VaR cap. Whatever produced ``decision`` (an LLM, the quant reasoner,
    a council) gets the same treatment.
    """
    target = decision.target_position
    if not math.isfinite(target):
        raise ValueError("a reasoner produced a non-finite target position")
    corrections: list[GuardCorrection] = []
    risk = next((r for r in reports if r.planet == risk_planet), None)

    def correct(rule: str, new_target: float, reason: str) -> None:
        nonlocal target
        if new_target != target:
            corrections.append(
                GuardCorrection(rule=rule, before=target, after=new_target, reason=reason)
            )
            target = new_target

    why = risk_problem(risk)
    if why is not None or risk is None:
        correct("risk_fails_closed", 0.0, f"{why}: no position without a risk assessment")
    elif risk.veto:
        correct("risk_veto", 0.0, risk.veto_reason or "risk veto")
    else:
        cap = limits.max_position
        rule = "max_position"
        risk_cap = risk.evidence.get("position_cap")
        if risk_cap is not None and risk_cap < cap:
            cap, rule = risk_cap, "var_cap"
        if abs(target) > cap:
            correct(rule, math.copysign(cap, target), f"|position| limited to {cap:.3f}")
    if not corrections:
        return decision, ()
    notes = "; ".join(f"{c.rule}: {c.before:+.3f} -> {c.after:+.3f}" for c in corrections)
    guarded = ReasonedDecision(
        action=action_for(target),
        target_position=target,
        confidence=decision.confidence,
        rationale=f"{decision.rationale} [guard: {notes}]"[:600],
    )
    return guarded, tuple(corrections)


def risk_problem(report: PlanetReport | None) -> str | None:
    """Why ``report`` cannot be trusted as the risk assessment, or None if it can.

    Missing, without data, a non-finite or out-of-range score or confidence, or a
    ``position_cap`` that is not a finite number >= 0: each means no position (risk fails
    closed). A report that skipped validation (``model_construct``) gets the same checks.
    """
    if report is None:
        return "risk report missing"
    if not report.has_data:
        return "risk planet has no data"
    values = (report.score, report.confidence)
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
        return "invalid risk report (non-finite score or confidence)"
    if not (-1.0 <= report.score <= 1.0 and 0.0 <= report.confidence <= 1.0):
        return "invalid risk report (score or confidence out of range)"
    cap = report.evidence.get("position_cap")
    if cap is not None and not (isinstance(cap, int | float) and math.isfinite(cap) and cap >= 0):
        return f"invalid risk position_cap {cap!r}"
    return None
