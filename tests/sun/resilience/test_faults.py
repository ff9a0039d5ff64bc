"""Fault injection around real components, and the scenarios it drives through the sun."""

from __future__ import annotations

import json
import math
import re
import time
from datetime import datetime

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from bus import BarSeries, MarketSnapshot, SunDecision
from planets import Planet, RiskLimits, TechnicalPlanet, default_planets
from sun import LlmAnswer, ModelConfig, OrchestrationConfig, RoutingTree, Sun, local_available
from sun.llm import StructuredLLM
from sun.resilience import BreakerConfig, ChainPolicy
from sun.testing import (
    FaultSchedule,
    FaultyChatModel,
    FaultyPlanet,
    ScriptedChatModel,
    wrap_planets,
)

AS_OF = datetime(2012, 6, 1)
VALID = json.dumps(
    {"action": "BUY", "size": 0.3, "confidence": 0.6, "rationale": "technical trend is up"}
)
PROMPT = [SystemMessage("Decide. Answer JSON."), HumanMessage("GOOG rsi 55, score +0.3")]
DOWN = ChainPolicy(timeout_s=0.5, max_retries=0, breaker=BreakerConfig(failure_threshold=99))


@pytest.fixture(scope="module")
def snapshot(goog: BarSeries) -> MarketSnapshot:
    return MarketSnapshot.at(AS_OF, {"GOOG": goog})


def test_schedule_is_seeded_and_can_be_forced() -> None:
    one = FaultSchedule(rates={"raise": 0.3, "malformed": 0.2}, seed=7)
    two = FaultSchedule(rates={"raise": 0.3, "malformed": 0.2}, seed=7)
    draws = [one.next() for _ in range(200)]
    assert draws == [two.next() for _ in range(200)]
    assert 40 <= draws.count("raise") <= 80 and 20 <= draws.count("malformed") <= 60
    cyclic = FaultSchedule(["ok", "hang"])
    assert [cyclic.next() for _ in range(4)] == ["ok", "hang", "ok", "hang"]
    cyclic.force("raise")
    assert cyclic.next() == "raise" and cyclic.history[-1] == "raise"
    cyclic.force(None)
    assert cyclic.next() == "hang"  # the pattern resumes at call 6


@pytest.mark.parametrize(
    ("fault", "expect"),
    [
        ("ok", "valid"),
        ("malformed", "JSON"),
        ("out_of_range", "schema validation failed"),
        ("adversarial", "valid"),
        ("raise", ConnectionError),
        ("timeout", TimeoutError),
        ("rate_limit", "429"),
        ("permanent", "401"),
    ],
)
def test_faulty_chat_model_over_a_scripted_model(fault: str, expect: object) -> None:
    model = FaultyChatModel(
        inner=ScriptedChatModel(script=[VALID], prompts=[]), schedule=FaultSchedule([fault])
    )
    llm = StructuredLLM(model, "faulty")
    if isinstance(expect, type):
        with pytest.raises(expect):
            llm.invoke(PROMPT, LlmAnswer)
        return
    if expect in ("429", "401"):
        with pytest.raises(Exception, match=str(expect)):
            llm.invoke(PROMPT, LlmAnswer)
        return
    result = llm.invoke(PROMPT, LlmAnswer)
    if expect == "valid":
        assert result.ok
        if fault == "adversarial":
            assert result.parsed.size == 1.0 and result.parsed.confidence == 1.0  # type: ignore[union-attr]
    else:
        assert not result.ok and str(expect) in (result.error or "")


@pytest.mark.parametrize("fault", ["crash", "nan", "out_of_range", "contradictory"])
def test_faulty_planet_reports_are_contained_as_no_data(
    snapshot: MarketSnapshot, fault: str
) -> None:
    planets = wrap_planets(default_planets(), {"technical": FaultSchedule([fault])})
    with Sun("quant", planets=planets, checkpoint="none") as sun:
        decision = sun.decide(snapshot)
        health = sun.health()
    technical = next(r for r in decision.planet_reports if r.planet == "technical")
    assert not technical.has_data and technical.confidence == 0.0
    assert technical.recommendations[0].startswith("planet failed")
    assert health["planets"]["technical"]["status"] in ("degraded", "down")
    assert decision.target_position == 0.0  # no directional data: HOLD, never a fake signal


def test_hung_planet_times_out_without_stalling_the_decision(snapshot: MarketSnapshot) -> None:
    planets = wrap_planets(default_planets(), {"sentiment": FaultSchedule(["hang"])}, hang_s=5.0)
    planets["technical"] = FaultyPlanet(TechnicalPlanet(), FaultSchedule(["hang"]), hang_s=5.0)
    with Sun(
        "quant",
        planets=planets,
        checkpoint="none",
        orchestration=OrchestrationConfig(planet_timeout_s=0.15),
    ) as sun:
        sun.decide(snapshot)  # warm-up (graph, moon cache)
        started = time.perf_counter()
        decision = sun.decide(snapshot)
        elapsed = time.perf_counter() - started
    technical = next(r for r in decision.planet_reports if r.planet == "technical")
    assert technical.recommendations == ("planet timed out after 0.15s",)
    assert elapsed < 2.5  # bounded by the 0.15 s planet timeout, far below the 5 s hang


def _unsafe(decision: SunDecision, cap: float, risk_down: bool) -> bool:
    if risk_down:
        return decision.target_position != 0.0
    return abs(decision.target_position) > cap + 1e-12


def _council_sun(
    planets: dict[str, Planet],
    *,
    limits: RiskLimits | None = None,
    orchestration: OrchestrationConfig | None = None,
) -> Sun:
    model = ScriptedChatModel(script=[ConnectionError("sun model down")], prompts=[])
    return Sun(
        "anthropic:m",
        planets=planets,
        limits=limits,
        models=ModelConfig(chat_model=model, chain_policy=DOWN),
        orchestration=orchestration,
        checkpoint="none",
    )


def test_one_byzantine_planet_cannot_move_the_council_outside_the_honest_range(
    snapshot: MarketSnapshot,
) -> None:
    with _council_sun(default_planets()) as sun:
        honest = sun.decide(snapshot)
    tally = honest.rationale.split("(", 2)[-1]
    honest_scores = [float(x) for x in re.findall(r"[\w/]+ ([+-]\d\.\d\d)", tally)]
    assert len(honest_scores) == 6
    low, high = min(honest_scores) - 0.005, max(honest_scores) + 0.005
    for seed in range(4):
        faults = {"technical": FaultSchedule(["adversarial"], seed=seed)}
        with _council_sun(wrap_planets(default_planets(), faults)) as sun:
            decision = sun.decide(snapshot)
        assert decision.fallback_level == "council"
        assert "n=6, f=1" in decision.rationale
        risk = next(r for r in decision.planet_reports if r.planet == "risk")
        assert not _unsafe(decision, risk.evidence["position_cap"], False)
        # the liar is trimmed: the council lands within the honest votes' range
        assert low <= decision.target_position <= high


def test_two_planets_down_keeps_quorum_with_variants(goog: BarSeries) -> None:
    from bus import Headline

    snap = MarketSnapshot.at(
        AS_OF,
        {"GOOG": goog},
        headlines=[Headline(timestamp=AS_OF, text="Google shares rally on strong growth")],
    )
    faults = {"technical": FaultSchedule(["crash"]), "sentiment": FaultSchedule(["crash"])}
    with _council_sun(wrap_planets(default_planets(), faults)) as sun:
        decision = sun.decide(snap)
    assert decision.fallback_level == "council"
    assert "n=7, f=2" in decision.rationale and "5 valid" in decision.rationale
    with _council_sun(
        wrap_planets(default_planets(), faults),
        orchestration=OrchestrationConfig(council_variants=2),
    ) as sun:
        small = sun.decide(snap)
    assert small.fallback_level == "hold" and "no quorum" in small.rationale
    assert small.target_position == 0.0


@pytest.mark.parametrize("fault", ["crash", "nan", "hang"])
def test_risk_planet_down_fails_closed_at_every_level(snapshot: MarketSnapshot, fault: str) -> None:
    faults = {"risk": FaultSchedule([fault])}
    limits = RiskLimits(max_position=0.5)
    with _council_sun(
        wrap_planets(default_planets(), faults, hang_s=0.5),
        limits=limits,
        orchestration=OrchestrationConfig(planet_timeout_s=0.1, router=RoutingTree()),
    ) as sun:
        council = sun.decide(snapshot)
    assert council.target_position == 0.0 and "fails closed" in council.rationale
    model = ScriptedChatModel(script=[VALID], prompts=[])
    with Sun(
        "anthropic:m",
        planets=wrap_planets(default_planets(), faults, hang_s=0.5),
        limits=limits,
        checkpoint="none",
        models=ModelConfig(chat_model=model),
        orchestration=OrchestrationConfig(planet_timeout_s=0.1, router=RoutingTree()),
    ) as sun:
        llm = sun.decide(snapshot)
    assert llm.fallback_level == "primary" and llm.target_position == 0.0
    assert any(c.rule == "risk_fails_closed" for c in llm.corrections)
    with Sun(  # the default policy's failure rule: no order without risk, no LLM call either
        "anthropic:m",
        planets=wrap_planets(default_planets(), faults, hang_s=0.5),
        limits=limits,
        checkpoint="none",
        models=ModelConfig(chat_model=model),
        orchestration=OrchestrationConfig(planet_timeout_s=0.1),
    ) as sun:
        escalated = sun.decide(snapshot)
    assert escalated.disposition == "ESCALATE" and escalated.order_intent is None
    assert escalated.disposition_reason == "failure rule: required risk failed"
    assert escalated.target_position == 0.0 and model.calls == 1


needs_local = pytest.mark.skipif(not local_available(), reason="local model not installed")


@pytest.mark.slow
@needs_local
def test_faulty_wrapper_around_the_real_local_model(snapshot: MarketSnapshot) -> None:
    from sun import build_chat_model

    local = build_chat_model("local", max_tokens=256, timeout_s=30.0)  # 200-char rationale
    schedule = FaultSchedule(["ok", "malformed", "raise", "ok"])
    faulty = FaultyChatModel(inner=local, schedule=schedule)
    llm = StructuredLLM(faulty, "local")
    first = llm.invoke(PROMPT, LlmAnswer)
    assert first.ok, first.error  # the real grammar-constrained answer passes through
    assert not llm.invoke(PROMPT, LlmAnswer).ok
    with pytest.raises(ConnectionError):
        llm.invoke(PROMPT, LlmAnswer)
    policy = ChainPolicy(timeout_s=20.0, backoff_s=0.001)
    with Sun(
        "local", checkpoint="none", models=ModelConfig(chat_model=faulty, chain_policy=policy)
    ) as sun:
        decision = sun.decide(snapshot)
    assert decision.fallback_level in ("primary", "council", "hold")
    assert not math.isnan(decision.target_position)
