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


_UNTRUSTED, _VETO, _ASSESSED = range(3)


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
    if risk is None or risk_problem(risk) is not None:
        return _UNTRUSTED
    return _VETO if risk.veto else _ASSESSED


def _rule_of(state: int, risk: PlanetReport | None, tighter: bool, cap: float) -> tuple[str, str]:
    """The (rule, reason) :func:`guard` records for a correction in ``state``."""
    if state == _UNTRUSTED:
        why = risk_problem(risk)
        return "risk_fails_closed", f"{why}: no position without a risk assessment"
    if state == _VETO:
        return "risk_veto", (risk.veto_reason if risk else None) or "risk veto"
    return ("var_cap" if tighter else "max_position"), f"|position| limited to {cap:.3f}"
