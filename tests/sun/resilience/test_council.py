"""The planet council: robust aggregation (property-based), quorum, and risk failing closed."""

from __future__ import annotations

import math
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bus import PlanetReport
from planets import PlanetContext, RiskLimits
from sun.resilience._council import Council, risk_gate
from sun.resilience._votes import (
    Vote,
    action_of,
    aggregate,
    fault_tolerance,
    invalid_reason,
    quorum,
    vote_from_report,
)

AS_OF = datetime(2012, 6, 1)
HOLD_BAND = 0.1

scores = st.floats(min_value=-1.0, max_value=1.0, allow_nan=False)
confidences = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


def honest_vote(name: str, score: float, confidence: float) -> Vote:
    return Vote(name, action_of(score, HOLD_BAND), score, confidence)


@st.composite
def adversarial_vote(draw: st.DrawFn, name: str) -> Vote:
    """Anything a faulty voter might send: extremes, NaN, out of range, contradictions."""
    kind = draw(st.sampled_from(["extreme", "valid", "nan", "range", "contradictory", "crash"]))
    if kind == "extreme":
        sign = draw(st.sampled_from([-1.0, 1.0]))
        return Vote(name, action_of(sign, HOLD_BAND), sign, 1.0)
    if kind == "valid":
        return honest_vote(name, draw(scores), draw(confidences))
    if kind == "nan":
        return Vote(name, "BUY", math.nan, draw(confidences))
    if kind == "range":
        return Vote(name, "BUY", draw(st.floats(1.0001, 1e9)), draw(st.floats(0.0, 50.0)))
    if kind == "contradictory":
        return Vote(name, "BUY", -abs(draw(scores)), draw(confidences))
    return Vote(name, "HOLD", 0.0, 0.0, "crashed")


@st.composite
def councils(draw: st.DrawFn) -> tuple[list[Vote], list[Vote], int]:
    n = draw(st.integers(min_value=1, max_value=16))
    f = fault_tolerance(n)
    bad = draw(st.integers(min_value=0, max_value=f))
    honest = [
        honest_vote(f"h{i}", draw(scores), draw(confidences)) for i in range(n - bad)
    ]  # fmt: skip
    adversarial = [draw(adversarial_vote(f"a{i}")) for i in range(bad)]
    return honest, adversarial, n


@settings(max_examples=400, deadline=None)
@given(
    council=councils(),
    weights=st.dictionaries(
        st.sampled_from([f"h{i}" for i in range(16)] + [f"a{i}" for i in range(6)]),
        st.floats(min_value=0.01, max_value=100.0),
    ),
    data=st.data(),
)
def test_aggregate_stays_within_the_honest_range(
    council: tuple[list[Vote], list[Vote], int], weights: dict[str, float], data: st.DataObject
) -> None:
    honest, adversarial, n = council
    votes = data.draw(st.permutations(honest + adversarial))
    result = aggregate(votes, weights, hold_band=HOLD_BAND)
    assert result.n == n and result.f == fault_tolerance(n)
    assert result.has_quorum  # n - f >= 2f + 1 valid votes whatever the f faulty ones send
    low = min(v.score for v in honest)
    high = max(v.score for v in honest)
    assert result.score is not None and low - 1e-12 <= result.score <= high + 1e-12


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=16),
    data=st.data(),
)
def test_fewer_than_quorum_valid_votes_is_hold(n: int, data: st.DataObject) -> None:
    need = quorum(n)
    valid_count = data.draw(st.integers(min_value=0, max_value=need - 1))
    votes = [
        honest_vote(f"v{i}", data.draw(scores), data.draw(confidences)) for i in range(valid_count)
    ]
    votes += [data.draw(adversarial_vote(f"x{i}")) for i in range(n - valid_count)]
    votes = [v for v in votes if invalid_reason(v, HOLD_BAND) is None][:valid_count]
    votes += [Vote(f"down{i}", "HOLD", 0.0, 0.0, "timed out") for i in range(n - len(votes))]
    result = aggregate(votes, hold_band=HOLD_BAND)
    assert not result.has_quorum and result.score is None

    council = Council(hold_band=HOLD_BAND)
    reports = [
        _report(v.voter, v.score, v.confidence, has_data=v.abstain_reason is None) for v in votes
    ]
    verdict = council.decide(
        [*reports, _risk()], frozenset(v.voter for v in votes), RiskLimits(), _no_context
    )
    assert verdict.level == "hold" and verdict.decision.action == "HOLD"
    assert verdict.decision.target_position == 0.0
    assert "no quorum" in verdict.decision.rationale


def _report(
    planet: str, score: float, confidence: float, *, has_data: bool = True, **extra: object
) -> PlanetReport:
    if not has_data:
        return PlanetReport(
            planet=planet, instrument="GOOG", as_of=AS_OF, score=0.0, confidence=0.0,
            has_data=False, recommendations=("planet timed out after 1s",),
        )  # fmt: skip
    return PlanetReport(
        planet=planet, instrument="GOOG", as_of=AS_OF, score=score, confidence=confidence, **extra
    )


def _risk(cap: float = 0.5, **extra: object) -> PlanetReport:
    fields = {"evidence": {"position_cap": cap}, **extra}
    return _report("risk", 0.5, 1.0, **fields)


def _no_context(name: str) -> PlanetContext:
    raise AssertionError("no variants in this council")


BULLS = [_report(f"p{i}", 0.8, 0.9) for i in range(4)]
VOTERS = frozenset(f"p{i}" for i in range(4))


@pytest.mark.parametrize(
    ("risk", "why"),
    [
        (None, "risk report missing"),
        (_report("risk", 0.0, 0.0, has_data=False), "no data"),
        (_risk(veto=True, veto_reason="VaR too high"), "risk veto"),
        (_risk(critical=True, critical_reason="drawdown", veto=True, veto_reason="dd"), "veto"),
        (_risk(cap=math.nan), "invalid risk position_cap"),
        (_risk(cap=-0.3), "invalid risk position_cap"),
        (PlanetReport.model_construct(**{**_risk().model_dump(), "score": math.nan}), "invalid"),
        (PlanetReport.model_construct(**{**_risk().model_dump(), "confidence": 3.0}), "invalid"),
    ],
)
def test_risk_fails_closed(risk: PlanetReport | None, why: str) -> None:
    reports = [*BULLS] + ([risk] if risk is not None else [])
    verdict = Council().decide(reports, VOTERS, RiskLimits(), _no_context)
    assert verdict.decision.action == "HOLD" and verdict.decision.target_position == 0.0
    assert not verdict.gate.allowed and why in verdict.gate.reason
    assert why in verdict.decision.rationale


def test_valid_risk_caps_the_council() -> None:
    verdict = Council().decide([*BULLS, _risk(cap=0.3)], VOTERS, RiskLimits(), _no_context)
    assert verdict.level == "council" and verdict.decision.action == "BUY"
    assert verdict.decision.target_position == pytest.approx(0.3)
    limits = RiskLimits(max_position=0.2)
    verdict = Council().decide([*BULLS, _risk(cap=0.9)], VOTERS, limits, _no_context)
    assert verdict.decision.target_position == pytest.approx(0.2)


def test_risk_gate_allows_a_clean_report() -> None:
    gate = risk_gate(_risk(cap=0.4), RiskLimits())
    assert gate.allowed and gate.cap == pytest.approx(0.4)


@pytest.mark.parametrize(
    ("report", "reason"),
    [
        (None, "no report"),
        (_report("p", 0.0, 0.0, has_data=False), "timed out"),
        (
            PlanetReport.model_construct(
                **{**_report("p", 0.5, 0.5).model_dump(), "has_data": False}
            ),
            "no data but a score",
        ),
        (PlanetReport.model_construct(**{**_report("p", 0.5, 0.5).model_dump(), "score": 4.0}), "out of"),
        (PlanetReport.model_construct(**{**_report("p", 0.5, 0.5).model_dump(), "score": math.inf}), "non-finite"),
        (
            PlanetReport.model_construct(
                **{**_report("p", 0.5, 0.5).model_dump(), "veto": True, "veto_reason": None}
            ),
            "veto without a reason",
        ),
    ],
)  # fmt: skip
def test_faulty_reports_abstain(report: PlanetReport | None, reason: str) -> None:
    vote = vote_from_report("p", report)
    assert reason in (invalid_reason(vote) or "")


@pytest.mark.parametrize(
    ("vote", "reason"),
    [
        (Vote("x", "BUY", -0.4, 0.9), "self-contradictory"),
        (Vote("x", "SELL", 0.4, 0.9), "self-contradictory"),
        (Vote("x", "HOLD", 0.9, 0.9), "self-contradictory"),
        (Vote("x", "BUY", 0.4, 1.5), "confidence"),
        (Vote("x", "BUY", math.nan, 0.5), "non-finite"),
    ],
)
def test_invalid_votes_are_named(vote: Vote, reason: str) -> None:
    assert reason in (invalid_reason(vote) or "")


def test_one_extreme_voter_among_four_is_trimmed() -> None:
    votes = [honest_vote(f"h{i}", s, 0.8) for i, s in enumerate((0.2, 0.3, 0.25))]
    votes.append(Vote("liar", "SELL", -1.0, 1.0))
    result = aggregate(votes)
    assert result.f == 1 and "liar" not in result.kept
    assert result.score is not None and 0.2 <= result.score <= 0.3


def test_trust_weights_shift_the_aggregate_within_the_kept_votes() -> None:
    votes = [honest_vote(f"h{i}", s, 0.8) for i, s in enumerate((0.1, 0.2, 0.5, 0.6, 0.9))]
    equal = aggregate(votes).score
    tilted = aggregate(votes, {"h3": 10.0}).score
    assert equal is not None and tilted is not None
    assert tilted > equal and 0.2 <= tilted <= 0.6
