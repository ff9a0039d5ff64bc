"""Each graph node is a plain function of (state, runtime): testable alone, without a graph."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import pytest
from langgraph.runtime import Runtime

from bus import BarSeries, MarketSnapshot, ReasonedDecision
from planets import Planet, PlanetContext, RiskLimits, RiskPlanet, Role, default_planets
from sun import OrchestrationConfig, QuantReasoner, Reasoning, SunContext
from sun._nodes import guard_decision, ingest, moon_panel, propagate, route
from sun.resilience import Council, HealthBoard

AS_OF = datetime(2012, 6, 1)


class HouseRisk(RiskPlanet):
    """A user's own risk planet under its own name: it takes the risk role."""

    name = "house_risk"


def context(planets: Mapping[str, Planet]) -> Runtime[SunContext]:
    sun_context = SunContext(
        planets=planets,
        limits=RiskLimits(max_position=0.5),
        orchestration=OrchestrationConfig(),
        quant=QuantReasoner(),
        chain=None,
        council=Council(),
        health=HealthBoard(),
    )
    return Runtime(context=sun_context)


@pytest.fixture(scope="module")
def state(goog: BarSeries) -> dict:
    snapshot = MarketSnapshot.at(AS_OF, {"GOOG": goog})
    runtime = context(default_planets())
    ingested = ingest({"snapshot": snapshot}, runtime)
    return {**ingested, **moon_panel(ingested, runtime)}


def test_ingest_picks_the_first_instrument_and_rejects_an_unknown_one(goog: BarSeries) -> None:
    snapshot = MarketSnapshot.at(AS_OF, {"GOOG": goog})
    runtime = context(default_planets())
    assert ingest({"snapshot": snapshot}, runtime)["instrument"] == "GOOG"
    with pytest.raises(KeyError, match="MSFT"):
        ingest({"snapshot": snapshot, "instrument": "MSFT"}, runtime)


def test_route_always_consults_the_planet_with_the_risk_role(state: dict) -> None:
    planets: dict[str, Planet] = {**default_planets(), "house_risk": HouseRisk()}
    del planets["risk"]
    routed = route(state, context(planets))["route"]
    assert "house_risk" in routed["planets"] and "risk" not in routed["planets"]
    assert routed["planets"][0] == "technical"


def test_a_sun_needs_exactly_one_risk_planet() -> None:
    planets = {name: p for name, p in default_planets().items() if Role.RISK not in p.roles}
    with pytest.raises(ValueError, match="exactly one planet with the risk role"):
        context(planets)
    with pytest.raises(ValueError, match="found"):
        context({**default_planets(), "house_risk": HouseRisk()})


def test_guard_node_enforces_the_risk_role_planets_cap(state: dict) -> None:
    planets: dict[str, Planet] = {**default_planets(), "house_risk": HouseRisk()}
    del planets["risk"]
    runtime = context(planets)
    report = HouseRisk().report(
        PlanetContext("GOOG", AS_OF, state["panel"].for_instrument("GOOG"), state["snapshot"])
    )
    wild = ReasonedDecision(action="BUY", target_position=1.0, confidence=0.9, rationale="all in")
    guarded = guard_decision(
        {
            **state,
            "route": {"planets": ("house_risk",)},
            "reports": [report],
            "reasoning": Reasoning(decision=wild, reasoner="test", level="test"),
        },
        runtime,
    )["decision"]
    assert guarded.target_position == 0.5
    assert [c.rule for c in guarded.corrections] == ["max_position"]


def test_propagate_sizes_orders_only_with_an_execution_role_planet(state: dict) -> None:
    planet_input = PlanetContext(
        "GOOG", AS_OF, state["panel"].for_instrument("GOOG"), state["snapshot"]
    )
    reasoning = Reasoning(
        decision=ReasonedDecision(action="BUY", target_position=0.3, confidence=0.5, rationale="r"),
        reasoner="test",
        level="test",
    )
    decided = {
        **state,
        "position": 0.0,
        "route": {"planets": ("risk",)},
        "reports": [RiskPlanet().report(planet_input)],
        "reasoning": reasoning,
    }
    with_execution = context(default_planets())
    guarded = {**decided, **guard_decision(decided, with_execution)}
    assert guarded["decision"].target_position == 0.3
    intent = propagate(guarded, with_execution)["decision"].order_intent
    assert intent is not None and intent.side == "BUY"
    planets = {n: p for n, p in default_planets().items() if Role.EXECUTION not in p.roles}
    assert propagate(guarded, context(planets))["decision"].order_intent is None
