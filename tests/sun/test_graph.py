"""The fused sun graph (decide without a checkpointer) against the full one: the same decision
and the same trace (statuses, reasons, order), on the paths the policy stages take."""

from __future__ import annotations

from typing import Any

import pytest

from bus import BarSeries, MarketSnapshot, SunDecision
from planets import RiskLimits, RiskPlanet, default_planets
from sun import OrchestrationConfig, Sun, SunHooks, build_sun_graph
from sun._review import decision_of
from tests.sun._news import BULLISH, at_bar

AGREE, CONFLICT, EARLY = 300, 369, 40  # GOOG bars (see tests/sun/test_review.py); 40: warming up
NO_REVIEW = RiskLimits(max_notional=1_000_000.0)


class OwnTaskRisk(RiskPlanet):
    in_process = False  # consulted in a Send task of its own, as a remote planet


def at(goog: BarSeries, i: int, news: tuple[str, ...] = ()) -> MarketSnapshot:
    return at_bar(goog, i, news)


def untimed(decision: SunDecision) -> SunDecision:
    steps = tuple(step.model_copy(update={"duration_ms": 0.0}) for step in decision.trace)
    return decision.model_copy(update={"trace": steps})


SCENARIOS: dict[str, dict[str, Any]] = {
    "default": {},
    "guarded": {"orchestration": OrchestrationConfig(policy="trading_guarded")},
    "guarded_no_review": {
        "orchestration": OrchestrationConfig(policy="trading_guarded"),
        "limits": NO_REVIEW,
    },
    "own_task_and_recall": {
        "planets": {**default_planets(), "risk": OwnTaskRisk()},
        "hooks": SunHooks(recaller=lambda instrument, panel: [f"{instrument}: seen before"]),
    },
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize(("bar", "news"), [(AGREE, ()), (AGREE, BULLISH), (CONFLICT, ()),
                                           (CONFLICT, BULLISH[:1]), (EARLY, ())])  # fmt: skip
def test_fused_and_full_graphs_decide_alike(
    goog: BarSeries, scenario: str, bar: int, news: tuple[str, ...]
) -> None:
    snapshot = at(goog, bar, news)
    with Sun("quant", checkpoint="none", **SCENARIOS[scenario]) as sun:
        fused = sun.decide(snapshot, position=0.2)
        full = decision_of(
            build_sun_graph().invoke({"snapshot": snapshot, "position": 0.2}, context=sun.context)
        )
    assert untimed(fused) == untimed(full)
    assert [s.node for s in fused.trace][:3] == ["ingest", "moons", "route"]
    assert fused.trace[-1].node == "propagate"


def test_the_guarded_paths_are_exercised(goog: BarSeries) -> None:
    """The scenarios above reach an expansion, an early decision and a pending review."""
    guarded = SCENARIOS["guarded"]
    with Sun("quant", checkpoint="none", **guarded) as sun:
        conflict = sun.decide(at(goog, CONFLICT, BULLISH[:1]), position=0.2)
        agree = sun.decide(at(goog, AGREE), position=0.2)
    assert "expanded" in {s.status for s in conflict.trace}
    assert any(s.node == "review" and s.status == "skipped" for s in agree.trace)
    with Sun("quant", checkpoint="none", limits=NO_REVIEW, **guarded) as sun:
        early = sun.decide(at(goog, AGREE, BULLISH), position=0.2)
    assert early.disposition_reason.startswith("checkpoint agree")


@pytest.mark.parametrize(
    ("scenario", "nodes"),
    [
        ("default", ["prepare"]),  # nothing else to consult: one superstep after the input
        ("own_task_and_recall", ["prepare", "consult", "recall", "conclude"]),
    ],
)
def test_the_fused_graph_concludes_in_prepare_when_nothing_else_runs(
    goog: BarSeries, scenario: str, nodes: list[str]
) -> None:
    snapshot = at(goog, AGREE)
    with Sun("quant", checkpoint="none", **SCENARIOS[scenario]) as sun:
        updates = list(
            build_sun_graph(fused=True).stream(
                {"snapshot": snapshot, "position": 0.2}, context=sun.context
            )
        )
        expected = sun.decide(snapshot, position=0.2)
    assert sorted(name for update in updates for name in update) == sorted(nodes)
    final = next(u[n] for u in updates for n in u if "decision" in (u[n] or {}))
    assert untimed(decision_of(final)) == untimed(expected)
