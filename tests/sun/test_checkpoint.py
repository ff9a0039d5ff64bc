"""Durable execution: a run interrupted mid-graph resumes on the same thread id."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from bus import BarSeries, MarketSnapshot, SunDecision
from planets import PlanetContext, TechnicalPlanet, default_planets
from sun import Sun, SunHooks
from sun._checkpointer import CHECKPOINT_TYPES


class CountingTechnical(TechnicalPlanet):
    """The real technical planet, counting how often it runs."""

    runs = 0

    def report(self, context: PlanetContext):  # type: ignore[no-untyped-def]
        CountingTechnical.runs += 1
        return super().report(context)


class CrashOnce:
    """A decision sink that fails the first time, like a process dying while journaling."""

    def __init__(self) -> None:
        self.crashed = False
        self.seen: list[SunDecision] = []

    def __call__(self, decision: SunDecision) -> None:
        if not self.crashed:
            self.crashed = True
            raise RuntimeError("simulated crash in propagate")
        self.seen.append(decision)


@pytest.fixture(params=["sqlite", "postgres"])
def checkpoint_target(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        return str(tmp_path / "checkpoints.sqlite")
    return request.getfixturevalue("postgres_url")


def test_interrupted_run_resumes_from_checkpoint(goog: BarSeries, checkpoint_target: str) -> None:
    snapshot = MarketSnapshot.at(datetime(2012, 6, 1), {"GOOG": goog})
    planets = {**default_planets(), "technical": CountingTechnical()}
    sink = CrashOnce()
    thread = f"test-{uuid.uuid4().hex}"
    CountingTechnical.runs = 0
    with Sun(
        "quant", planets=planets, checkpoint=checkpoint_target, hooks=SunHooks(sinks=[sink])
    ) as sun:
        with pytest.raises(RuntimeError, match="simulated crash"):
            sun.decide(snapshot, thread_id=thread)
        assert CountingTechnical.runs == 1
        state = sun.graph.get_state({"configurable": {"thread_id": thread}})
        assert state.next == ("propagate",)
        decision = sun.resume(thread)
    assert CountingTechnical.runs == 1, "planets must not run again on resume"
    assert sink.seen == [decision]
    with Sun("quant", checkpoint="none") as fresh:
        assert fresh.decide(snapshot).target_position == decision.target_position


# Each revived type is stored in a checkpoint under its module path and name: moving one
# would leave every pending review a user holds unrevivable after an upgrade.
STORED_TYPE_PATHS = {
    ("bus._snapshot", "MarketSnapshot"),
    ("bus._bars", "BarSeries"),
    ("bus._snapshot", "Headline"),
    ("bus._snapshot", "OrderBookSizes"),
    ("bus._decisions", "MoonPanel"),
    ("bus._decisions", "PlanetReport"),
    ("bus._decisions", "ReasonedDecision"),
    ("bus._decisions", "SunDecision"),
    ("bus._decisions", "OrderIntent"),
    ("bus._decisions", "LlmUsage"),
    ("bus._decisions", "GuardCorrection"),
    ("bus._decisions", "FallbackAttempt"),
    ("bus._decisions", "PromptRef"),
    ("bus._decisions", "TraceStep"),
    ("bus._decisions", "ReviewRecord"),
    ("bus._decisions", "EscalationAlert"),
    ("planets._base", "PlanetContext"),
    ("planets._limits", "RiskLimits"),
    ("sun._reasoning", "Reasoning"),
}


def test_checkpointed_types_keep_their_stored_paths() -> None:
    """A type in a checkpoint is revived by importing its stored module path: none moved."""
    stored = {(kind.__module__, kind.__qualname__) for kind in CHECKPOINT_TYPES}
    assert stored == STORED_TYPE_PATHS
