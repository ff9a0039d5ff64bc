"""Learning: labels only after the horizon, hand-checked Hedge weights, tracker, the loop."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from learning import (
    HedgeTrust,
    Labelled,
    LearningLoop,
    OutcomeLabeler,
    PerformanceTracker,
    market_regime,
    planet_loss,
)
from memory import Outcome, Situation, UniversalMemory
from sun import QuantReasoner

T0 = datetime(2011, 3, 1)


def situation(day: int, target: float = 0.5, scores=None, regime: str = "up/calm") -> Situation:
    return Situation("X", T0 + timedelta(days=day), None, "BUY" if target > 0 else "HOLD",
                     target, 0.5, regime, dict(scores or {}))  # fmt: skip


def test_label_is_written_exactly_when_the_horizon_completes() -> None:
    labeler = OutcomeLabeler(horizon=3)
    closes = [100.0, 101.0, 99.0, 104.0, 90.0]
    assert labeler.on_bar("X", T0, closes[0]) == []
    labeler.submit(situation(0, target=0.5))
    for day in (1, 2):
        assert labeler.on_bar("X", T0 + timedelta(days=day), closes[day]) == []
        assert len(labeler.pending()) == 1
    (done,) = labeler.on_bar("X", T0 + timedelta(days=3), closes[3])
    assert done.outcome.horizon_end == T0 + timedelta(days=3)
    assert done.outcome.realized_return == pytest.approx(0.04)
    assert done.outcome.strategy_return == pytest.approx(0.02)
    assert done.outcome.alpha == pytest.approx(-0.02)
    assert done.outcome.hit is True and labeler.pending() == []
    with pytest.raises(ValueError):
        labeler.on_bar("X", T0 + timedelta(days=3), 100.0)  # time never goes back
    with pytest.raises(ValueError):
        OutcomeLabeler(2).submit(situation(0))  # no bar observed yet


def test_hedge_update_hand_checked() -> None:
    trust = HedgeTrust(["a", "b"], eta=0.5, share=0.0)
    trust.update({"a": 0.0, "b": 1.0})
    # a = 1, b = e^-0.5 = 0.606531; total 2 preserved: scale 2 / 1.606531
    assert trust.weights["a"] == pytest.approx(1.244919, abs=1e-6)
    assert trust.weights["b"] == pytest.approx(0.755081, abs=1e-6)
    shared = HedgeTrust(["a", "b"], eta=0.5, share=0.1)
    shared.update({"a": 0.0, "b": 1.0})
    # mixed: a = 0.9 + 0.1 * 0.803265 = 0.980327, b = 0.545878 + 0.080327 = 0.626204
    assert shared.weights["a"] == pytest.approx(2 * 0.980327 / 1.606531, abs=1e-6)
    assert sum(shared.weights.values()) == pytest.approx(2.0)


def test_sleeping_planets_keep_their_weight_and_consumers_see_updates() -> None:
    trust = HedgeTrust(["a", "b", "c"], eta=1.0, share=0.0)
    quant = QuantReasoner(trust.weights)
    trust.update({"a": 1.0, "b": 0.0})
    assert trust.weights["c"] == 1.0 and quant.weights is trust.weights
    assert trust.weights["a"] + trust.weights["b"] == pytest.approx(2.0)
    assert trust.weights["a"] == pytest.approx(2 * math.exp(-1) / (1 + math.exp(-1)))


def test_planet_loss() -> None:
    assert planet_loss(1.0, 1.0, 0.02) == 0.0
    assert planet_loss(1.0, 1.0, -0.02) == 1.0
    assert planet_loss(0.5, 0.4, -0.01) == pytest.approx(0.6)
    assert planet_loss(0.7, 0.9, 0.0) == 0.5


def test_tracker_hand_checked() -> None:
    tracker = PerformanceTracker(periods_per_year=250)
    rets = [0.02, -0.01, 0.03]
    for i, r in enumerate(rets):
        s = situation(i, target=0.5, scores={"momentum": (0.8, 0.5)})
        o = Outcome(T0, 5, r, 0.5 * r, -0.5 * r, 0.5)
        tracker.update(Labelled(s, o))
    sun = tracker.stats("sun", "up/calm")
    assert sun.count == 3 and sun.hit_rate == pytest.approx(2 / 3)
    assert sun.mean == pytest.approx(0.5 * 0.04 / 3)
    std = math.sqrt(sum((0.5 * r - 0.5 * 0.04 / 3) ** 2 for r in rets) / 2)
    assert sun.sharpe(250) == pytest.approx((0.5 * 0.04 / 3) / std * math.sqrt(50))
    assert tracker.stats("momentum").mean == pytest.approx(0.4 * 0.04 / 3)


def test_market_regime() -> None:
    moons = {"close": 110.0, "sma": 100.0, "atr": 2.0, "realized_vol": 0.2, "var95": 0.02}
    assert market_regime(moons) == "up/calm"
    assert market_regime({**moons, "close": 90.0, "realized_vol": 0.6}) == "down/volatile"
    assert market_regime({**moons, "var95": float("nan")}) == "warmup"


@dataclass
class _Report:
    planet: str
    score: float
    confidence: float
    has_data: bool = True
    evidence: dict = field(default_factory=dict)


@dataclass
class _Decision:
    instrument: str
    as_of: datetime
    target_position: float
    planet_reports: list
    action: str = "BUY"
    confidence: float = 0.5


def test_loop_learns_only_from_completed_outcomes(tmp_path: Path) -> None:
    memory = UniversalMemory(tmp_path)
    loop = LearningLoop(memory, horizon=2, distill_every=0)
    off = LearningLoop(None, horizon=2, enabled=False)
    closes = [100, 102, 104, 106, 108, 110]
    for day, close in enumerate(closes):
        moment = T0 + timedelta(days=day)
        for each in (loop, off):
            each.on_bar("X", moment, close)
            each.sink(_Decision("X", moment, 0.5, [
                _Report("momentum", 0.8, 1.0), _Report("mean_reversion", -0.6, 1.0),
                _Report("risk", 1.0, 1.0),
            ]))  # fmt: skip
        if day < 2:
            assert loop.weights == {}
    assert loop.labelled == 4 and off.labelled == 4
    assert set(loop.weights) == {"momentum", "mean_reversion"}  # risk is not directional
    assert loop.weights["momentum"] > 1.0 > loop.weights["mean_reversion"]
    assert off.weights == {}
    assert loop.tracker.stats("momentum").hit_rate == 1.0
    assert len(memory.episodic.episode("default")) == 6 + 4
    assert loop.distill("X", T0) == 0  # min_count not reached: nothing to say yet
