"""Confidence in sizing: only a calibrated confidence scales a position, and only down."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bus import BarSeries, MarketSnapshot, ReasonedDecision
from learning import LearningLoop
from sun import ConfidenceSizing, OrchestrationConfig, Sun, SunHooks, size_by_confidence

AS_OF = datetime(2012, 6, 1)  # the quant reasoner sells: technical -0.615


def _decide(goog: BarSeries, sizing: ConfidenceSizing | None):
    with Sun("quant", checkpoint="none", orchestration=OrchestrationConfig(sizing=sizing)) as sun:
        return sun.decide(MarketSnapshot.at(AS_OF, {"GOOG": goog}))


def test_uncalibrated_confidence_never_scales_size(goog: BarSeries) -> None:
    plain = _decide(goog, None)
    asked: list[tuple[str, float]] = []

    def uncalibrated(reasoner: str, confidence: float) -> float | None:
        asked.append((reasoner, confidence))
        return None

    sized = _decide(goog, ConfidenceSizing(uncalibrated))
    assert plain.target_position < 0.0
    assert sized.target_position == plain.target_position
    assert asked == [("quant", plain.confidence)]
    (step,) = [s for s in sized.trace if s.node == "size"]
    assert "not calibrated" in step.reason and "confidence unused" in step.reason
    assert not [s for s in plain.trace if s.node == "size"]  # no sizing configured: no step


@pytest.mark.parametrize(
    ("hit_rate", "factor"), [(0.4, 0.0), (0.5, 0.0), (0.55, 0.5), (0.6, 1.0), (0.9, 1.0)]
)
def test_calibrated_hit_rate_scales_the_target(
    goog: BarSeries, hit_rate: float, factor: float
) -> None:
    plain = _decide(goog, None)
    sized = _decide(goog, ConfidenceSizing(lambda _r, _c: hit_rate))
    assert sized.target_position == pytest.approx(plain.target_position * factor, abs=1e-6)
    assert sized.action == ("HOLD" if factor == 0.0 else plain.action)
    (step,) = [s for s in sized.trace if s.node == "size"]
    assert f"calibrated hit rate {hit_rate:.2f}" in step.reason


@given(
    target=st.floats(-1.0, 1.0),
    confidence=st.floats(0.0, 1.0),
    hit_rate=st.one_of(st.none(), st.floats(0.0, 1.0)),
    full=st.floats(0.51, 1.0),
)
def test_sizing_only_shrinks_and_never_flips(
    target: float, confidence: float, hit_rate: float | None, full: float
) -> None:
    decision = ReasonedDecision(
        action="BUY" if target > 0 else "SELL" if target < 0 else "HOLD",
        target_position=target,
        confidence=confidence,
        rationale="r",
    )
    sized, _ = size_by_confidence(
        decision, "quant", ConfidenceSizing(lambda _r, _c: hit_rate, full)
    )
    assert abs(sized.target_position) <= abs(target) + 1e-9
    assert sized.target_position * target >= 0.0
    if hit_rate is None:
        assert sized == decision


def test_full_size_hit_rate_must_beat_a_coin() -> None:
    with pytest.raises(ValueError, match="full_size_hit_rate"):
        ConfidenceSizing(lambda _r, _c: None, full_size_hit_rate=0.5)


def test_learning_loop_calibrates_each_reasoner_from_its_labelled_outcomes(
    goog: BarSeries,
) -> None:
    """A quant walk-forward feeds the loop; sizing then uses the quant reasoner's fit only."""
    loop = LearningLoop(horizon=5, enabled=False)
    config = OrchestrationConfig(sizing=ConfidenceSizing(loop.calibrated))
    stamps = goog.timestamps[1500:1700]
    with Sun(
        "quant", checkpoint="none", orchestration=config, hooks=SunHooks(sinks=[loop.sink])
    ) as sun:
        decisions = []
        for i, stamp in enumerate(stamps):
            when = datetime.fromisoformat(str(stamp)[:19])
            loop.on_bar("GOOG", when, float(goog.close[1500 + i]))
            decisions.append(sun.decide(MarketSnapshot.at(when, {"GOOG": goog})))
    assert loop.calibrators.keys() == {"quant"}
    fitted = loop.calibrators["quant"]
    assert len(fitted) >= fitted.min_samples
    assert loop.calibrated("quant", 0.5) is not None
    assert loop.calibrated("local", 0.5) is None  # another reasoner's record is not borrowed
    notes = [s.reason for d in decisions for s in d.trace if s.node == "size"]
    assert any("not calibrated yet" in n for n in notes[:40])
    assert any("calibrated hit rate" in n for n in notes[-40:])
