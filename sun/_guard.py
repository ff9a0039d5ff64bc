"""The guard: risk supersedes every reasoner. Clamp or veto, and record each correction."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

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
    return _guarded(decision, target, corrections)


def _guarded(
    decision: ReasonedDecision, target: float, corrections: Sequence[GuardCorrection]
) -> tuple[ReasonedDecision, tuple[GuardCorrection, ...]]:
    """``decision`` moved to ``target``, its rationale noting every correction."""
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


_MISSING, _NO_DATA, _VETO, _ASSESSED = range(4)


def guard_many(
    instruments: Sequence[str],
    decisions: Sequence[ReasonedDecision],
    reports: Sequence[Sequence[PlanetReport]],
    limits: RiskLimits,
    risk_planet: str = Role.RISK.value,
) -> list[tuple[ReasonedDecision, tuple[GuardCorrection, ...]]]:
    """:func:`guard` for many instruments at once: the rules run over arrays.

    Each result equals ``guard(decisions[i], reports[i], limits, risk_planet)``.

    Raises:
        ValueError: naming the instrument whose reasoner produced a non-finite target.
    """
    targets = np.array([d.target_position for d in decisions], dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(targets))
    if len(bad):
        raise ValueError(
            f"instrument {instruments[int(bad[0])]!r}: a reasoner produced a non-finite "
            "target position"
        )
    risks = [next((r for r in rs if r.planet == risk_planet), None) for rs in reports]
    state = np.array([_risk_state(r) for r in risks], dtype=np.int64)
    risk_cap = np.array(
        [math.nan if r is None else r.evidence.get("position_cap", math.nan) for r in risks],
        dtype=np.float64,
    )
    tighter = (state == _ASSESSED) & (risk_cap < limits.max_position)
    cap = np.where(tighter, np.maximum(0.0, risk_cap), limits.max_position)
    clamped = np.where(np.abs(targets) > cap, np.copysign(cap, targets), targets)
    guarded = np.where(state == _ASSESSED, clamped, 0.0)
    results = []
    for i, decision in enumerate(decisions):
        before, after = float(targets[i]), float(guarded[i])
        corrections: list[GuardCorrection] = []
        if after != before:
            rule, reason = _rule_of(int(state[i]), risks[i], bool(tighter[i]), float(cap[i]))
            corrections.append(
                GuardCorrection(rule=rule, before=before, after=after, reason=reason)
            )
        results.append(_guarded(decision, after, corrections))
    return results


def _risk_state(risk: PlanetReport | None) -> int:
    if risk is None:
        return _MISSING
    if not risk.has_data:
        return _NO_DATA
    return _VETO if risk.veto else _ASSESSED


def _rule_of(state: int, risk: PlanetReport | None, tighter: bool, cap: float) -> tuple[str, str]:
    """The (rule, reason) :func:`guard` records for a correction in ``state``."""
    if state in (_MISSING, _NO_DATA):
        why = "risk report missing" if state == _MISSING else "risk planet has no data"
        return "risk_fails_closed", f"{why}: no position without a risk assessment"
    if state == _VETO:
        return "risk_veto", (risk.veto_reason if risk else None) or "risk veto"
    return ("var_cap" if tighter else "max_position"), f"|position| limited to {cap:.3f}"
