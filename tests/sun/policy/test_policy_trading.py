"""Trading policies: the default reproduces the routing tree on every GOOG bar; guard rails."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import moons
from bus import BarSeries
from sun._routing import RoutingTree  # the reference the default policy must reproduce
from sun.policy import (
    AgentCall,
    NodeOutput,
    Policy,
    PolicyContext,
    TradingClassifier,
    TradingProfile,
    build_policy_graph,
    load_policy,
    run_policy,
    shipped_policy,
)

PLANETS = ("technical", "sentiment", "execution", "risk")


def moon_rows(series: BarSeries) -> list[dict[str, float]]:
    """The moon row at every bar (as sun/_panel.py builds it for the last bar)."""
    ohlcv = moons.Ohlcv(open=series.open, high=series.high, low=series.low, close=series.close,
                        volume=series.volume)  # fmt: skip
    cols = moons.batch_panel(ohlcv, cache=None)
    return [
        {"close": float(series.close[i]), **{k: float(v[i]) for k, v in cols.items()}}
        for i in range(len(series.close))
    ]


@pytest.fixture(scope="module")
def default_policy() -> Policy:
    return load_policy(shipped_policy("trading_default"))


@pytest.fixture(scope="module")
def rows(goog: BarSeries) -> list[dict[str, float]]:
    return moon_rows(goog)


def headlines_at(i: int) -> int:
    return 2 if i % 3 == 0 else 0


def test_default_policy_equals_routing_tree_on_every_goog_bar(
    default_policy: Policy, rows: list[dict[str, float]]
) -> None:
    tree, classifier = RoutingTree(), TradingClassifier()
    seen: set[tuple[str, ...]] = set()
    for i, row in enumerate(rows):
        route = tree.route(row, headlines_at(i) > 0)
        explanation = default_policy.explain(classifier.classify(row, headlines_at(i)))
        planned = tuple(n for n in PLANETS if explanation.preview[n].startswith("run"))
        assert planned == route.planets, (i, row)
        assert explanation.resolved.params["technical"] == dict(route.params.get("technical", {}))
        seen.add(route.planets + tuple(route.params.get("technical", {}).values()))
    assert len(rows) == 2148
    # every branch of the tree was exercised (warm-up, both styles, sentiment, events, neither)
    assert len(seen) >= 6, seen
    assert any("execution" in s for s in seen) and any("momentum" in s for s in seen)


def planet_agents(log: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    def agent(call: AgentCall) -> NodeOutput:
        log.append((call.node, dict(call.params)))
        return NodeOutput(score=0.1, confidence=0.5)

    return {name: agent for name in (*PLANETS, "reasoner")}


def test_default_policy_executes_the_routed_planets(
    default_policy: Policy, rows: list[dict[str, float]]
) -> None:
    tree, classifier, graph = RoutingTree(), TradingClassifier(), build_policy_graph()
    for i in (
        list(range(0, len(rows), 37))
        + [j for j, r in enumerate(rows) if abs(r["volume_z"]) >= 3][:5]
    ):
        log: list[tuple[str, dict[str, Any]]] = []
        resolved = default_policy.select(classifier.classify(rows[i], headlines_at(i)))
        run = run_policy(graph, resolved, {"i": i}, PolicyContext(agents=planet_agents(log)))
        route = tree.route(rows[i], headlines_at(i) > 0)
        assert tuple(n for n in run.ran() if n in PLANETS) == tuple(
            n for n in PLANETS if n in route.planets
        )
        assert run.ran()[-1] == "reasoner" and run.disposition == "AUTO"
        assert dict(log)["technical"] == dict(route.params.get("technical", {}))


def test_classifier_profile_fields() -> None:
    classifier = TradingClassifier()
    trend = classifier.classify({"close": 110.0, "sma": 100.0, "atr": 5.0, "volume_z": -3.5,
                                 "ret_z": 0.1, "realized_vol": 0.5}, 6,
                                proposed_notional=50_000, notional_limit=100_000)  # fmt: skip
    assert trend.regime == "trend_up" and trend.trend_strength == pytest.approx(2.0)
    assert trend.volatility_tier == "high" and trend.volume_shock and trend.headline_burst
    assert trend.urgency == "high" and trend.materiality == pytest.approx(0.5)
    warm = classifier.classify({"close": 10.0, "sma": float("nan"), "atr": 1.0}, 0)
    assert not warm.technical_ready and warm.data_quality == "degraded" and warm.regime == "range"
    assert classifier.classify({"close": float("nan")}, 0).data_quality == "failed"
    assert classifier.classify({"close": 10.0}, 0, stale=True).data_quality == "failed"


def test_profile_is_extensible(tmp_path: Any) -> None:
    from sun.policy import register_profile

    class DeskProfile(TradingProfile):
        desk_limit_used: float = 0.0

    register_profile("trading_desk", DeskProfile)
    classifier = TradingClassifier(profile_type=DeskProfile,
                                   extra={"desk_limit_used": lambda row: row["close"] / 1000})  # fmt: skip
    profile = classifier.classify({"close": 500.0, "sma": 490.0, "atr": 5.0}, 0)
    assert isinstance(profile, DeskProfile) and profile.desk_limit_used == 0.5
    text = (
        shipped_policy("trading_default")
        .read_text()
        .replace("profile: trading", "profile: trading_desk")
    )
    text = text.replace('when: "true"', 'when: "desk_limit_used < 0.9"')
    path = tmp_path / "desk.yaml"
    path.write_text(text)
    assert load_policy(path).select(profile).rule == "routing_tree"


@pytest.fixture(scope="module")
def guarded() -> Policy:
    return load_policy(shipped_policy("trading_guarded"))


def scored(scores: dict[str, float], confidence: float = 0.8) -> dict[str, Any]:
    def make(name: str) -> Any:
        return lambda call: NodeOutput(score=scores.get(name, 0.0), confidence=confidence)

    return {name: make(name) for name in (*PLANETS, "reasoner")}


TREND = {
    "close": 110.0,
    "sma": 100.0,
    "atr": 5.0,
    "volume_z": 0.0,
    "ret_z": 0.0,
    "realized_vol": 0.2,
}


def test_guarded_agreement_decides_without_the_llm(guarded: Policy) -> None:
    profile = TradingClassifier().classify(TREND, 2)
    run = run_policy(build_policy_graph(), guarded.select(profile), {},
                     PolicyContext(agents=scored({"technical": 0.7, "sentiment": 0.6, "risk": 0.5})))  # fmt: skip
    assert run.disposition == "AUTO" and run.decided_by == "checkpoint agree"
    assert run.statuses()["reasoner"] == "skipped" and run.usage.llm_calls == 0


def test_guarded_conflict_expands_then_reasons(guarded: Policy) -> None:
    profile = TradingClassifier().classify(TREND, 2)
    run = run_policy(build_policy_graph(), guarded.select(profile), {},
                     PolicyContext(agents=scored({"technical": 0.8, "sentiment": -0.7, "risk": 0.1})))  # fmt: skip
    assert [e.node for e in run.trace if e.status == "expanded"] == ["sentiment_wide", "events"]
    assert run.ran()[-1] == "reasoner" and run.disposition == "AUTO"


def test_guarded_large_change_goes_to_review(guarded: Policy) -> None:
    profile = TradingClassifier().classify(TREND, 0, proposed_notional=2e6, notional_limit=1e6)
    run = run_policy(build_policy_graph(), guarded.select(profile), {},
                     PolicyContext(agents=scored({}), interrupt_on_review=False))  # fmt: skip
    assert run.rule == "large_change" and run.disposition == "HIL_REVIEW"
    assert run.ran()[-1] == "reasoner" and run.decision is not None


def test_guarded_failed_data_escalates(guarded: Policy) -> None:
    alerts: list[Any] = []
    profile = TradingClassifier().classify({"close": np.nan}, 0)
    run = run_policy(build_policy_graph(), guarded.select(profile), {},
                     PolicyContext(agents=scored({}), on_escalate=alerts.append))  # fmt: skip
    assert run.disposition == "ESCALATE" and run.usage.nodes_run == 0
    assert alerts and alerts[0].reason == "data quality failed"


def test_guarded_risk_down_means_no_order(guarded: Policy) -> None:
    agents = scored({"technical": 0.8, "sentiment": -0.7})
    agents["risk"] = lambda call: (_ for _ in ()).throw(TimeoutError("risk service"))
    profile = TradingClassifier().classify(TREND, 2)
    run = run_policy(
        build_policy_graph(), guarded.select(profile), {}, PolicyContext(agents=agents)
    )
    assert run.disposition == "ESCALATE" and not run.order_allowed


def test_real_planets_as_agents(goog: BarSeries) -> None:
    from datetime import datetime

    from bus import MarketSnapshot
    from planets import PlanetContext, default_planets
    from sun._panel import compute_panel  # test-side only: builds the moon row as the sun does
    from sun.policy import planet_agent, trading_profile

    snapshot = MarketSnapshot.at(datetime(2011, 3, 1), {"GOOG": goog})
    moons_row = compute_panel(snapshot).for_instrument("GOOG")
    context = PlanetContext(
        instrument="GOOG", as_of=snapshot.as_of, moons=moons_row, snapshot=snapshot
    )
    profile = trading_profile(context)
    route = RoutingTree().route(moons_row, False)
    agents: dict[str, Any] = {n: planet_agent(p, context) for n, p in default_planets().items()}
    agents["reasoner"] = lambda call: NodeOutput(score=0.0, facts={"inputs": len(call.outputs)})
    policy = load_policy(shipped_policy("trading_default"))
    run = run_policy(build_policy_graph(), policy.select(profile), {"instrument": "GOOG"},
                     PolicyContext(agents=agents))  # fmt: skip
    assert tuple(n for n in run.ran() if n in PLANETS) == route.planets
    technical = run.outputs["technical"].data["report"]
    assert technical["planet"] == "technical" and technical["instrument"] == "GOOG"
    assert run.decision is not None and run.decision.facts["inputs"] == len(route.planets)
    # only directional planets vote in ``summary`` (risk appetite is not a direction)
    assert run.outputs["technical"].votes and not run.outputs["risk"].votes
