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

    if risk is None or not risk.has_data:
        why = "risk report missing" if risk is None else "risk planet has no data"
        correct("risk_fails_closed", 0.0, f"{why}: no position without a risk assessment")
    elif risk.veto:
        correct("risk_veto", 0.0, risk.veto_reason or "risk veto")
    else:
        cap = limits.max_position
        rule = "max_position"
        risk_cap = risk.evidence.get("position_cap")
        if risk_cap is not None and risk_cap < cap:
            cap, rule = max(0.0, risk_cap), "var_cap"
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
