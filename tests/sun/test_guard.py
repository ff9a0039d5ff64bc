"""Risk supersedes: whatever a reasoner says, the guarded decision respects the limits."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bus import PlanetReport, ReasonedDecision, action_for
from planets import RiskLimits
from sun import guard

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
