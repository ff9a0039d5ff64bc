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
    guarded = ReasonedDecision(
        action=action_for(target),
        target_position=target,
        confidence=decision.confidence,
        rationale=guarded_rationale(decision.rationale, corrections),
    )
    return guarded, tuple(corrections)


def guarded_rationale(rationale: str, corrections: Sequence[GuardCorrection]) -> str:
    """A rationale noting the guard's corrections (at most 600 characters)."""
    return f"{rationale} [guard: {correction_notes(corrections)}]"[:600]


def correction_notes(corrections: Sequence[GuardCorrection]) -> str:
    """Each correction as ``rule: before -> after``, the way a rationale notes them."""
    return "; ".join(f"{c.rule}: {c.before:+.3f} -> {c.after:+.3f}" for c in corrections)


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


GuardedTargets = tuple[list[float], list[tuple[GuardCorrection, ...]]]
"""Per instrument: the guarded target, and the guard's corrections (none: unchanged)."""


def guard_targets(
    instruments: Sequence[str],
    targets: Sequence[float],
    reports: Sequence[Sequence[PlanetReport]],
    limits: RiskLimits,
    risk_planet: str = Role.RISK.value,
) -> GuardedTargets:
    """:func:`guard` for many instruments at once, the rules run over arrays, for a caller
    holding its decisions as columns (``targets``): each target as ``guard`` leaves it and
    the corrections it records. A corrected decision's rationale is
    :func:`guarded_rationale`, its action ``action_for`` the new target, its confidence
    unchanged; an uncorrected one is unchanged.

    Raises:
        ValueError: naming the instrument whose reasoner produced a non-finite target.
    """
    before_all = np.array(targets, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(before_all))
    if len(bad):
        raise ValueError(
            f"instrument {instruments[int(bad[0])]!r}: a reasoner produced a non-finite "
            "target position"
        )
    risks = [_risk_report(rs, risk_planet) for rs in reports]
    state, risk_cap = _risk_states(risks)
    tighter = (state == _ASSESSED) & (risk_cap < limits.max_position)
    cap = np.where(tighter, np.maximum(0.0, risk_cap), limits.max_position)
    clamped = np.where(np.abs(before_all) > cap, np.copysign(cap, before_all), before_all)
    guarded = np.where(state == _ASSESSED, clamped, 0.0)
    afters: list[float] = guarded.tolist()
    corrections: list[tuple[GuardCorrection, ...]] = []
    # one conversion per column, not a numpy scalar read (and ``float``) per instrument
    for i, (before, after) in enumerate(zip(before_all.tolist(), afters, strict=True)):
        if after == before:  # nothing to correct (``_guarded``'s case)
            corrections.append(())
            continue
        rule, reason = _rule_of(int(state[i]), risks[i], bool(tighter[i]), float(cap[i]))
        corrections.append((GuardCorrection(rule=rule, before=before, after=after, reason=reason),))
    return afters, corrections


def _risk_report(reports: Sequence[PlanetReport], risk_planet: str) -> PlanetReport | None:
    for report in reports:
        if report.planet == risk_planet:
            return report
    return None


def _risk_states(risks: Sequence[PlanetReport | None]) -> tuple[np.ndarray, np.ndarray]:
    """(:func:`_risk_state`, the ``position_cap`` or NaN) per risk report. The numbers of
    reports holding floats are screened over arrays; any other report (missing, without
    data, values of other types, a screen failing) gets :func:`risk_problem` itself."""
    nan = math.nan
    rows = [
        (r.score, r.confidence, r.evidence.get("position_cap"), r.veto)
        if r is not None and r.has_data is True
        else (nan, nan, nan, False)
        for r in risks
    ]
    score = np.array([row[0] if type(row[0]) is float else nan for row in rows])
    confidence = np.array([row[1] if type(row[1]) is float else nan for row in rows])
    caps = [row[2] for row in rows]  # None (no cap) screens as 0.0, a non-float as NaN
    cap = np.array([0.0 if c is None else c if type(c) is float else nan for c in caps])
    with np.errstate(invalid="ignore"):
        fine = (score >= -1.0) & (score <= 1.0) & (confidence >= 0.0) & (confidence <= 1.0)
        fine &= np.isfinite(cap) & (cap >= 0.0)
    vetoed = np.array([row[3] for row in rows], dtype=np.bool_)
    state = np.where(fine, np.where(vetoed, _VETO, _ASSESSED), _UNTRUSTED).astype(np.int64)
    for i in np.flatnonzero(~fine).tolist():  # the exact rule (and its reason) decides
        state[i] = _risk_state(risks[i])
    risk_cap = np.array(
        [nan if r is None else r.evidence.get("position_cap", nan) for r in risks],
        dtype=np.float64,
    )
    return state, risk_cap


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
