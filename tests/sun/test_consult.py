"""Consulting planets in the sun graph: the in-process ones in one task, the others in a task
each; every planet under its own timeout, failures contained, the trace step per planet."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

import pytest

from bus import BarSeries, Headline, MarketSnapshot, PlanetReport, SunDecision
from planets import PlanetContext, RiskPlanet, TechnicalPlanet, default_planets
from sun import OrchestrationConfig, Sun

AS_OF = datetime(2012, 6, 1)


class OwnTaskRisk(RiskPlanet):
    """The risk planet as a remote or slow one would be: consulted in a task of its own."""

    in_process = False


class CountingRisk(RiskPlanet):
    """The risk planet, counting its reports."""

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def report(self, context: PlanetContext) -> PlanetReport:
        with self.lock:
            self.calls += 1
        return super().report(context)


class Hanging(TechnicalPlanet):
    """A technical planet that hangs (in process: consulted with the others)."""

    def __init__(self, hang_s: float) -> None:
        self.hang_s = hang_s

    def report(self, context: PlanetContext) -> PlanetReport:
        time.sleep(self.hang_s)
        return super().report(context)


class Crashing(TechnicalPlanet):
    def report(self, context: PlanetContext) -> PlanetReport:
        raise RuntimeError("boom")


@pytest.fixture
def snapshot(goog: BarSeries) -> MarketSnapshot:
    headline = Headline(timestamp=AS_OF, text="record profit, strong growth", instrument="GOOG")
    return MarketSnapshot.at(AS_OF, {"GOOG": goog}, headlines=[headline])


def steps(decision: SunDecision) -> dict[str, tuple[str, str]]:
    return {
        s.node.removeprefix("consult:"): (s.status, s.reason)
        for s in decision.trace
        if s.node.startswith("consult:")
    }


@pytest.mark.parametrize("timeout", [5.0, None])
def test_in_process_planets_share_one_task_and_others_get_their_own(
    snapshot: MarketSnapshot, timeout: float | None
) -> None:
    planets: dict[str, Any] = {**default_planets(), "risk": OwnTaskRisk()}
    orchestration = OrchestrationConfig(planet_timeout_s=timeout)
    with Sun("quant", checkpoint="none", planets=planets, orchestration=orchestration) as sun:
        items = list(sun.stream(snapshot, stream_mode=["updates", "custom"]))
        decision = sun.decide(snapshot)
    updates = [next(iter(data)) for mode, data in items if mode == "updates"]
    assert updates.count("consult_inline") == 1 and updates.count("consult") == 1
    (inline,) = [data["consult_inline"] for mode, data in items if mode == "updates"
                 and "consult_inline" in data]  # fmt: skip
    assert sorted(r.planet for r in inline["reports"]) == ["sentiment", "technical"]
    events = [
        data["planet"] for mode, data in items if mode == "custom" and data["event"] == "planet"
    ]
    assert sorted(events) == ["risk", "sentiment", "technical"]
    assert steps(decision)["execution"][0] == "skipped"
    assert {name: status for name, (status, _) in steps(decision).items() if status == "ran"} == {
        "technical": "ran",
        "sentiment": "ran",
        "risk": "ran",
    }
    style = decision.planet_reports[[r.planet for r in decision.planet_reports].index("technical")]
    assert style.has_data and steps(decision)["technical"][1].startswith("style=")


def test_a_hung_planet_times_out_and_the_rest_run_once(goog: BarSeries) -> None:
    snapshot = MarketSnapshot.at(AS_OF, {"GOOG": goog})
    risk = CountingRisk()
    planets: dict[str, Any] = {**default_planets(), "technical": Hanging(1.0), "risk": risk}
    orchestration = OrchestrationConfig(planet_timeout_s=0.2)
    with Sun("quant", checkpoint="none", planets=planets, orchestration=orchestration) as sun:
        started = time.perf_counter()
        decision = sun.decide(snapshot)
        elapsed = time.perf_counter() - started
        time.sleep(1.2)  # the abandoned thread wakes up: it must not report the rest again
    assert elapsed < 0.9  # the technical planet's 0.2 s, not its 1 s hang
    assert steps(decision)["technical"] == ("failed", "planet timed out after 0.2s")
    technical = next(r for r in decision.planet_reports if r.planet == "technical")
    assert not technical.has_data and technical.recommendations == ("planet timed out after 0.2s",)
    assert steps(decision)["risk"][0] == "ran" and steps(decision)["sentiment"][0] == "skipped"
    assert risk.calls == 1


@pytest.mark.parametrize("timeout", [5.0, None])
def test_a_failing_planet_is_contained_in_the_shared_task(
    snapshot: MarketSnapshot, timeout: float | None
) -> None:
    planets: dict[str, Any] = {**default_planets(), "technical": Crashing()}
    orchestration = OrchestrationConfig(planet_timeout_s=timeout)
    with Sun("quant", checkpoint="none", planets=planets, orchestration=orchestration) as sun:
        decision = sun.decide(snapshot)
        health = sun.health()
    assert steps(decision)["technical"] == ("failed", "planet failed: RuntimeError: boom")
    assert steps(decision)["risk"][0] == "ran"
    assert health["planets"]["technical"]["status"] in ("degraded", "down")
    technical = next(r for r in decision.planet_reports if r.planet == "technical")
    assert not technical.has_data and technical.recommendations[0].startswith("planet failed")
