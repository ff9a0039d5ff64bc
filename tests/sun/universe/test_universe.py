"""A whole universe per tick equals deciding its instruments one by one.

The universe is ``heliarch.backtest.bundled_universe`` (windows, offsets, scalings and
inversions of the bundled real GOOG / EURUSD / BTCUSD bars on one daily clock; see its
docstring). The BTCUSD-based instruments have only ~150 bars: too short a history.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pytest

from bus import (
    BarSeries,
    EscalationAlert,
    Headline,
    MarketSnapshot,
    OrderBookSizes,
    SunDecision,
    to_datetime,
)
from planets import RiskLimits, default_planets, style_planets
from sun import ModelConfig, OrchestrationConfig, StyleRouting, Sun, SunHooks
from sun.testing import FaultSchedule, FaultyPlanet, ScriptedChatModel
from sun.universe import (
    NO_DATA,
    PortfolioLimits,
    UniverseConfig,
    UniverseEngine,
    load_universe,
)


def snapshot_at(
    universe: Mapping[str, BarSeries], benchmark: BarSeries, tick: int, **kwargs: Any
) -> MarketSnapshot:
    stamp = benchmark.timestamps[tick]
    present = {n: s for n, s in universe.items() if s.timestamps[0] <= stamp}
    return MarketSnapshot.at(to_datetime(stamp), present, benchmark=benchmark, **kwargs)


def extras(universe: Mapping[str, BarSeries], tick_stamp: Any) -> dict[str, Any]:
    """Headlines on a few instruments (sentiment planet), an order book on one."""
    names = list(universe)
    when = to_datetime(tick_stamp)
    headlines = [
        Headline(timestamp=when, text="record profit, strong growth", instrument=names[2]),
        Headline(timestamp=when, text="lawsuit and losses, shares plunge", instrument=names[5]),
    ]
    books = {names[4]: OrderBookSizes(timestamp=when, bid_sizes=(5.0, 3.0), ask_sizes=(1.0, 1.0))}
    return {"headlines": headlines, "order_books": books}


def assert_same(universe_decisions: Mapping[str, SunDecision], sun: Sun, snapshot: MarketSnapshot,
                positions: Mapping[str, float]) -> None:  # fmt: skip
    assert list(universe_decisions) == list(snapshot.instruments)
    for name, decision in universe_decisions.items():
        single = sun.decide(snapshot, name, position=positions.get(name, 0.0))
        assert _untraced(decision) == _untraced(single), name


@pytest.mark.parametrize("planet_set", ["default", "styles"])
def test_decide_universe_equals_decide_per_instrument(
    universe: tuple[dict[str, BarSeries], BarSeries], planet_set: str
) -> None:
    bars, benchmark = universe
    styles = planet_set == "styles"
    orchestration = OrchestrationConfig(router=StyleRouting()) if styles else None
    planets = style_planets() if styles else default_planets()
    positions = {name: 0.25 for name in list(bars)[::7]}
    limits = RiskLimits(max_var95=0.005)  # tight: the guard's VaR cap bites on some
    with Sun(
        "quant", checkpoint="none", planets=planets, orchestration=orchestration, limits=limits
    ) as sun:
        for tick in (-3, -2):  # the first replays every history, the second streams one bar
            snapshot = snapshot_at(
                bars, benchmark, tick, **extras(bars, benchmark.timestamps[tick])
            )
            decided = sun.decide_universe(snapshot, positions=positions)
            assert_same(decided, sun, snapshot, positions)
        stats = sun.universe.moons_for(sun.context).stats
        assert stats["warmups"] == 1 and stats["stream_updates"] == 1
    levels = {d.fallback_level for d in decided.values()}
    assert "quant" in levels
    short = [d for name, d in decided.items() if name.startswith("BTCUSD")]
    assert short and all(d.target_position == 0.0 for d in short)
    assert all(
        any(c.rule == "risk_fails_closed" for c in d.corrections) or d.action == "HOLD"
        for d in short
    )
    reports = {r.planet for d in decided.values() for r in d.planet_reports}
    assert {"risk", "sentiment"} <= reports
    assert any(c.rule == "var_cap" for d in decided.values() for c in d.corrections)
    assert any(d.order_intent is not None for d in decided.values())


def _defective(bars: dict[str, BarSeries]) -> tuple[dict[str, BarSeries], dict[str, str]]:
    """Copies of the universe with a mid-window gap, a missing last bar, a halted last bar,
    and a NaN close (rejected at the boundary by ``load_universe``)."""
    names = list(bars)
    changed: dict[str, Any] = dict(bars)

    def frame(series: BarSeries) -> pd.DataFrame:
        return pd.DataFrame(
            {f: np.array(getattr(series, f)) for f in ("open", "high", "low", "close", "volume")},
            index=pd.DatetimeIndex(series.timestamps),
        )

    gap = frame(bars[names[0]]).drop(index=pd.DatetimeIndex(bars[names[0]].timestamps[-5:-4]))
    stale = frame(bars[names[1]]).iloc[:-1]
    halted = frame(bars[names[2]])
    last = halted.index[-1]
    previous = float(halted["close"].iloc[-2])
    halted.loc[last, ["open", "high", "low", "close", "volume"]] = [previous] * 4 + [0.0]
    broken = frame(bars[names[3]])
    broken.loc[broken.index[-10], "close"] = np.nan
    changed.update({names[0]: gap, names[1]: stale, names[2]: halted, names[3]: broken})
    return load_universe(changed)


def test_gaps_halts_nan_and_short_histories_are_flat_with_the_reason(
    universe: tuple[dict[str, BarSeries], BarSeries],
) -> None:
    bars, benchmark = universe
    good, rejected = _defective(bars)
    names = list(bars)
    assert list(rejected) == [names[3]] and "close" in rejected[names[3]]
    snapshot = snapshot_at(good, benchmark, -1)
    with Sun("quant", checkpoint="none") as sun:
        decided = sun.decide_universe(snapshot, rejected=rejected)
        expected = {
            names[0]: "gap: 1 bar(s)",
            names[1]: "gap: no bar at the universe's last tick",
            names[2]: "halted",
            names[3]: "close",
        }
        for name, reason in expected.items():
            decision = decided[name]
            assert decision.target_position == 0.0 and decision.fallback_level == NO_DATA
            assert reason in decision.rationale
            assert decision.planet_reports and all(not r.has_data for r in decision.planet_reports)
            assert all(reason in r.recommendations[0] for r in decision.planet_reports)
        for name in names[4:]:
            if name in snapshot.bars:
                assert _untraced(decided[name]) == _untraced(sun.decide(snapshot, name)), name
    short = [decided[n] for n in names if n.startswith("BTCUSD")]
    assert short and all(d.target_position == 0.0 for d in short)
    assert all(
        any(not r.has_data and "var95" in r.recommendations[0] for r in d.planet_reports)
        for d in short
    )


def test_bad_arguments_name_the_instrument(
    universe: tuple[dict[str, BarSeries], BarSeries],
) -> None:
    bars, benchmark = universe
    snapshot = snapshot_at(bars, benchmark, -1)
    with Sun("quant", checkpoint="none") as sun:
        with pytest.raises(KeyError, match="NOPE"):
            sun.decide_universe(snapshot, ["GOOG000", "NOPE"])
        with pytest.raises(ValueError, match="GOOG000"):
            sun.decide_universe(snapshot, ["GOOG000"], positions={"GOOG000": float("nan")})
        with pytest.raises(ValueError, match="GOOG000.*twice"):
            sun.decide_universe(snapshot, ["GOOG000", "GOOG000"])


class _CountingModel(ScriptedChatModel):
    """A scripted model that records how many calls overlap."""

    active: int = 0
    peak: int = 0
    lock: Any = None

    def _generate(self, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        time.sleep(0.01)  # long enough for calls to overlap; no time needs to pass
        try:
            return super()._generate(*args, **kwargs)
        finally:
            with self.lock:
                self.active -= 1


ANSWER = json.dumps(
    {"action": "BUY", "size": 0.3, "confidence": 0.6, "rationale": "technical trend is up"}
)


@pytest.mark.parametrize("concurrency", [1, 3])
def test_llm_is_asked_only_for_instruments_the_policy_sends_with_bounded_concurrency(
    universe: tuple[dict[str, BarSeries], BarSeries], concurrency: int
) -> None:
    bars, benchmark = universe
    snapshot = snapshot_at(bars, benchmark, -1)
    model = _CountingModel(script=[ANSWER], prompts=[], lock=threading.Lock())
    orchestration = OrchestrationConfig(llm_policy="auto", planet_timeout_s=None)
    with Sun("openai:gpt-test", checkpoint="none", models=ModelConfig(chat_model=model),
             orchestration=orchestration) as sun:  # fmt: skip
        sun.universe = UniverseEngine(UniverseConfig(llm_concurrency=concurrency))
        decided = sun.decide_universe(snapshot)
    asked = [d for d in decided.values() if d.llm_usage.calls]
    levels = {d.fallback_level for d in decided.values()}
    assert asked and "policy" in levels
    assert model.calls == sum(d.llm_usage.calls for d in decided.values()) == len(asked)
    assert all(d.fallback_level == "primary" for d in asked)
    assert 1 <= model.peak <= concurrency


def test_portfolio_guardian_limits_are_recorded(
    universe: tuple[dict[str, BarSeries], BarSeries],
) -> None:
    bars, benchmark = universe
    snapshot = snapshot_at(bars, benchmark, -1)
    limits = PortfolioLimits(max_gross=0.8, max_net=0.3, max_cluster_gross=0.5)
    with Sun("quant", checkpoint="none") as sun:
        plain = sun.decide_universe(snapshot)
        guarded = sun.decide_universe(snapshot, portfolio=limits)
    targets = np.array([d.target_position for d in guarded.values()])
    assert np.abs(targets).sum() <= 0.8 + 1e-9 and abs(targets.sum()) <= 0.3 + 1e-9
    for name, decision in guarded.items():
        before = plain[name].target_position
        after = decision.target_position
        assert abs(after) <= abs(before) + 1e-15 and after * before >= 0.0
        extra = [c for c in decision.corrections if c.rule.startswith("portfolio:")]
        assert bool(extra) == (after != before)
        if extra:
            assert extra[0].before == before and extra[-1].after == after
            assert decision.order_intent is None or decision.order_intent.target_position == after


def test_sinks_receive_every_universe_decision_once(
    universe: tuple[dict[str, BarSeries], BarSeries],
) -> None:
    bars, benchmark = universe
    snapshot = snapshot_at(bars, benchmark, -1)
    seen: list[SunDecision] = []
    with Sun("quant", checkpoint="none") as sun:
        sun.add_sink(seen.append)
        decided = sun.decide_universe(snapshot, rejected={"LATE001": "no data: feed down"})
    assert [d.instrument for d in seen] == list(decided) == [*snapshot.instruments, "LATE001"]
    assert decided["LATE001"].target_position == 0.0 and "feed down" in decided["LATE001"].rationale


def _untraced(decision: SunDecision) -> SunDecision:
    """The decision without its execution trace: the graph's node steps have no counterpart in
    the one vectorized pass (everything else must be equal)."""
    return decision.model_copy(update={"trace": ()})


def test_the_failure_rule_escalates_the_instruments_whose_risk_failed(
    universe: tuple[dict[str, BarSeries], BarSeries],
) -> None:
    """Risk crashes for every other instrument: those escalate (no order, an alert each, the
    same disposition as ``decide``); the others are decided normally."""
    bars, benchmark = universe
    planets = dict(default_planets())
    planets["risk"] = FaultyPlanet(planets["risk"], FaultSchedule(pattern=["crash", "ok"]))
    alerts: list[EscalationAlert] = []
    positions = {name: 0.1 for name in bars}
    with Sun("quant", checkpoint="none", planets=planets,
             hooks=SunHooks(alert_sink=alerts.append)) as sun:  # fmt: skip
        snapshot = snapshot_at(bars, benchmark, -2)
        decided = sun.decide_universe(snapshot, positions=positions)
    escalated = {n for n, d in decided.items() if d.disposition == "ESCALATE"}
    live = [n for n, d in decided.items() if d.fallback_level != NO_DATA]
    assert 0 < len(escalated) < len(live)
    assert {a.instrument for a in alerts} == escalated
    for name in escalated:
        decision = decided[name]
        assert decision.order_intent is None and decision.alert is not None
        assert decision.disposition_reason == "failure rule: required risk failed"
        assert [s.status for s in decision.trace if s.node == "consult:risk"] == ["failed"]
        (risk,) = [r for r in decision.planet_reports if r.planet == "risk"]
        assert not risk.has_data
    assert all(decided[n].disposition == "AUTO" for n in set(live) - escalated)
    name = sorted(escalated)[0]
    planets["risk"] = FaultyPlanet(default_planets()["risk"], FaultSchedule(pattern=["crash"]))
    with Sun("quant", checkpoint="none", planets=planets) as sun:
        single = sun.decide(snapshot, name, position=positions[name])
    assert single.disposition == "ESCALATE"
    assert _untraced(single.model_copy(update={"alert": None})) == _untraced(
        decided[name].model_copy(update={"alert": None})
    )


def test_policy_skipped_and_model_decided_instruments_equal_decide(
    universe: tuple[dict[str, BarSeries], BarSeries],
) -> None:
    """With a model chain and the ``auto`` policy, every branch of a pass (emergency, the
    policy skip to quant, the model) gives each instrument what ``decide`` gives it."""
    bars, benchmark = universe
    snapshot = snapshot_at(bars, benchmark, -1)
    model = ScriptedChatModel(script=[ANSWER], prompts=[])
    orchestration = OrchestrationConfig(llm_policy="auto", planet_timeout_s=None)
    with Sun("openai:gpt-test", checkpoint="none", models=ModelConfig(chat_model=model),
             orchestration=orchestration) as sun:  # fmt: skip
        decided = sun.decide_universe(snapshot)
        by_level: dict[str, list[str]] = {}
        for name, decision in decided.items():
            by_level.setdefault(decision.fallback_level, []).append(name)
        assert {"policy", "primary"} <= set(by_level)
        for names in by_level.values():
            for name in names[:3]:
                single = sun.decide(snapshot, name)
                assert _comparable(decided[name]) == _comparable(single), name


def _comparable(decision: SunDecision) -> SunDecision:
    """The decision without its trace, the model calls' measured latencies zeroed."""
    usage = decision.llm_usage.model_copy(update={"latency_ms": 0.0})
    attempts = tuple(a.model_copy(update={"latency_ms": 0.0}) for a in decision.attempts)
    return _untraced(decision).model_copy(update={"llm_usage": usage, "attempts": attempts})
