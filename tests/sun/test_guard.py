"""Risk supersedes: whatever a reasoner says, the guarded decision respects the limits."""

from __future__ import annotations

import math
from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bus import PlanetReport, ReasonedDecision, action_for
from planets import RiskLimits
from sun import guard
from sun._guard import guard_targets, guarded_rationale

AS_OF = datetime(2020, 1, 1)
positions = st.floats(-1.0, 1.0, allow_nan=False)


def decision(target: float) -> ReasonedDecision:
    return ReasonedDecision(
        action=action_for(target), target_position=target, confidence=0.5, rationale="r"
    )


def risk(cap: float | None, veto: bool = False, has_data: bool = True) -> PlanetReport:
    evidence = {} if cap is None else {"position_cap": cap}
    return PlanetReport(
        planet="risk", instrument="X", as_of=AS_OF, score=0.0,
        confidence=1.0 if has_data else 0.0, has_data=has_data, evidence=evidence,
        veto=veto, veto_reason="breaker" if veto else None,
    )  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(target=positions, cap=st.floats(0.0, 2.0), max_position=st.floats(0.01, 1.0))
def test_guarded_position_never_exceeds_any_cap(
    target: float, cap: float, max_position: float
) -> None:
    limits = RiskLimits(max_position=max_position)
    guarded, corrections = guard(decision(target), [risk(cap)], limits)
    assert abs(guarded.target_position) <= min(cap, max_position) + 1e-12
    assert guarded.action == action_for(guarded.target_position)
    assert bool(corrections) == (guarded.target_position != target)


@settings(max_examples=100, deadline=None)
@given(target=positions)
def test_risk_fails_closed_and_veto_forces_flat(target: float) -> None:
    limits = RiskLimits()
    for reports in ([], [risk(1.0, has_data=False)], [risk(1.0, veto=True)]):
        guarded, corrections = guard(decision(target), reports, limits)
        assert guarded.target_position == 0.0 and guarded.action == "HOLD"
        if target != 0.0:
            assert corrections[0].rule in {"risk_fails_closed", "risk_veto"}


bad_caps = st.one_of(
    st.just(math.nan), st.just(math.inf), st.just(-math.inf), st.floats(max_value=-1e-9)
)


@settings(max_examples=200, deadline=None)
@given(target=positions, cap=bad_caps)
def test_an_invalid_risk_cap_fails_closed(target: float, cap: float) -> None:
    """A NaN, infinite or negative position_cap is no assessment: no position at all."""
    fields = {**risk(0.3).model_dump(), "evidence": {"position_cap": cap}}
    report = PlanetReport.model_construct(**fields)  # like a planet that skipped validation
    guarded, corrections = guard(decision(target), [report], RiskLimits())
    assert guarded.target_position == 0.0
    if target != 0.0:
        assert corrections[0].rule == "risk_fails_closed"
        assert "position_cap" in corrections[0].reason


@settings(max_examples=300, deadline=None)
@given(
    target=st.floats(-1.0, 1.0, allow_nan=False),
    score=st.one_of(st.floats(allow_nan=True, allow_infinity=True)),
    confidence=st.one_of(st.floats(allow_nan=True, allow_infinity=True)),
    cap=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    has_data=st.booleans(),
    veto=st.booleans(),
    max_position=st.floats(0.01, 1.0),
)
def test_no_risk_report_yields_a_position_outside_the_true_limits(
    target: float,
    score: float,
    confidence: float,
    cap: float | None,
    has_data: bool,
    veto: bool,
    max_position: float,
) -> None:
    """Whatever the risk report holds, the guarded position is within every valid limit."""
    evidence = {} if cap is None else {"position_cap": cap}
    report = PlanetReport.model_construct(
        planet="risk", instrument="X", as_of=AS_OF, score=score, confidence=confidence,
        has_data=has_data, evidence=evidence, veto=veto, veto_reason="v" if veto else None,
        critical=False, critical_reason=None, recommendations=(),
    )  # fmt: skip
    guarded, _ = guard(decision(target), [report], RiskLimits(max_position=max_position))
    valid_cap = cap is not None and math.isfinite(cap) and cap >= 0
    trusted = (
        has_data
        and not veto
        and math.isfinite(score)
        and math.isfinite(confidence)
        and -1 <= score <= 1
        and 0 <= confidence <= 1
        and (cap is None or valid_cap)
    )
    bound = min(max_position, cap if valid_cap and cap is not None else max_position)
    assert abs(guarded.target_position) <= (bound if trusted else 0.0) + 1e-12


ODD = st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 1.5, -2.0, 1, 0, "0.5", None, True])
SCORES = st.one_of(st.floats(-1.0, 1.0), ODD)  # valid often, so the other values decide
CONFIDENCES = st.one_of(st.floats(0.0, 1.0), ODD)
CAPS = st.one_of(
    st.sampled_from(["none", math.nan, math.inf, -math.inf, -0.0, -0.5, 0.3, 2.0, 0, 1, "1"]),
    st.floats(allow_nan=True, allow_infinity=True),
)
MOSTLY = st.sampled_from([True, True, True, False])
risk_rows = st.tuples(MOSTLY, SCORES, CONFIDENCES, CAPS, st.booleans(), MOSTLY)


@settings(max_examples=500, deadline=None)
@given(rows=st.lists(st.tuples(positions, risk_rows), min_size=1, max_size=8))
def test_guard_targets_screen_risk_reports_exactly_as_guard(rows: list[tuple]) -> None:
    """Unvalidated risk reports (``model_construct``: any value, NaN, ints, text, no report):
    the array screen of ``guard_targets`` decides each exactly as ``guard`` (risk fails closed)."""
    decisions, reports = [], []
    for target, (present, score, confidence, cap, veto, has_data) in rows:
        evidence = {} if cap == "none" else {"position_cap": cap}
        report = PlanetReport.model_construct(
            planet="risk", instrument="X", as_of=AS_OF, score=score, confidence=confidence,
            has_data=has_data, evidence=evidence, veto=veto, veto_reason="breaker",
        )  # fmt: skip
        decisions.append(decision(target))
        reports.append([report] if present else [])
    limits = RiskLimits(max_position=0.8)
    names = [f"X{i}" for i in range(len(rows))]
    expected = [guard(d, rs, limits) for d, rs in zip(decisions, reports, strict=True)]
    targets, corrections = guard_targets(names, [d.target_position for d in decisions],
                                         reports, limits)  # fmt: skip
    assert targets == [g.target_position for g, _ in expected]
    assert corrections == [c for _, c in expected]
    for d, (g, c) in zip(decisions, expected, strict=True):  # a corrected decision's rest
        rationale = guarded_rationale(d.rationale, c) if c else d.rationale
        assert (g.confidence, g.rationale) == (d.confidence, rationale)
        assert g.action == (action_for(g.target_position) if c else d.action)
