"""Human review and escalation in the sun graph, driven by the shipped ``trading_guarded``
policy: a large change waits for a reviewer (LangGraph interrupt) and is approved, rejected or
modified (the new target guarded again); strong agreement decides without the LLM; conflict
expands the analysis before reasoning; failed data quality escalates with an alert on the bus.

GOOG bars used (quant targets with the default limits): 300 (2005-10-26) technical +0.77 and
risk +0.23 agree, target +0.618; 369 (2006-02-06) technical -0.83 against risk +0.30.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bus import BarSeries, Envelope, EscalationAlert, InProcBus, MarketSnapshot, Priority
from planets import RiskLimits, default_planets
from planets.remote import BusClient
from sun import (
    ALERTS,
    ModelConfig,
    OrchestrationConfig,
    PolicyRouter,
    Sun,
    SunHooks,
    bus_alert_sink,
    policy_from,
)
from sun.policy import TradingClassifier
from sun.testing import FaultSchedule, FaultyPlanet, ScriptedChatModel
from tests.sun._news import BEARISH, BULLISH, at_bar

AGREE, CONFLICT = 300, 369
GUARDED = OrchestrationConfig(policy="trading_guarded")
NO_REVIEW = RiskLimits(max_notional=1_000_000.0)  # materiality = |change|: below 1


def at(goog: BarSeries, i: int) -> MarketSnapshot:
    stamp = goog.up_to(goog.timestamps[i]).last_timestamp
    return MarketSnapshot.at(stamp, {"GOOG": goog})


def never_called() -> ScriptedChatModel:
    return ScriptedChatModel(script=[RuntimeError("the LLM must not be called")], prompts=[])


@pytest.fixture
def sun(tmp_path: Path) -> Iterator[Sun]:
    with Sun("quant", checkpoint=str(tmp_path / "checkpoints.sqlite"), orchestration=GUARDED) as s:
        yield s


def statuses(decision: object, node: str) -> list[str]:
    return [s.status for s in getattr(decision, "trace", ()) if s.node == node]


def test_a_large_change_waits_for_review_with_evidence_and_trace(sun: Sun, goog: BarSeries) -> None:
    pending = sun.decide(at(goog, AGREE), position=0.2)
    review = pending.review
    assert pending.disposition == "HIL_REVIEW" and review is not None
    assert review.status == "pending" and review.thread_id
    assert review.proposed_target == pending.target_position == pytest.approx(0.618, abs=1e-3)
    assert pending.order_intent is None
    assert "rule large_change" in pending.disposition_reason
    step = next(s for s in pending.trace if s.node == "checkpoint:large_change.review_large")
    assert step.reason.startswith("fired -> HIL_REVIEW")
    assert {r.planet for r in pending.planet_reports} >= {"technical", "risk"}
    listed = sun.pending_reviews()
    assert [d.review.thread_id for d in listed if d.review] == [review.thread_id]
    assert sun.pending_review(review.thread_id) == pending


@pytest.mark.parametrize(
    ("action", "target", "status", "want"),
    [("approve", None, "approved", 0.618), ("reject", None, "rejected", 0.2),
     ("modify", 0.3, "modified", 0.3)],
)  # fmt: skip
def test_the_answer_finishes_the_decision(
    sun: Sun, goog: BarSeries, action: str, target: float | None, status: str, want: float
) -> None:
    pending = sun.decide(at(goog, AGREE), position=0.2)
    assert pending.review is not None and pending.review.thread_id is not None
    thread = pending.review.thread_id
    done = sun.review(thread, action, target=target, by="alice", note="checked")
    assert done.disposition == "HIL_REVIEW" and done.review is not None
    assert (done.review.status, done.review.by, done.review.note) == (status, "alice", "checked")
    assert done.review.requested_target == target
    assert done.target_position == pytest.approx(want, abs=1e-3)
    if action == "reject":  # no order: the position is held
        assert done.order_intent is None and done.rationale.startswith("[rejected by alice")
    else:  # the order intent is released
        assert done.order_intent is not None
        assert done.order_intent.target_position == done.target_position
    assert statuses(done, "review") == ["ran"] and done.trace[-1].node == "propagate"
    assert sun.pending_reviews() == []
    with pytest.raises(KeyError, match="no decision is waiting for review"):
        sun.review(thread, "approve")


def test_a_modified_target_passes_the_guard_again(tmp_path: Path, goog: BarSeries) -> None:
    limits = RiskLimits(max_position=0.5)
    with Sun("quant", checkpoint=str(tmp_path / "c.sqlite"), orchestration=GUARDED,
             limits=limits) as sun:  # fmt: skip
        pending = sun.decide(at(goog, AGREE))
        assert pending.target_position == 0.5 and pending.review is not None
        assert pending.review.thread_id is not None
        done = sun.review(pending.review.thread_id, "modify", target=0.95, by="bob")
    assert done.target_position == 0.5 and done.review is not None
    assert done.review.status == "modified" and done.review.requested_target == 0.95
    correction = done.corrections[-1]
    assert (correction.rule, correction.before, correction.after) == ("max_position", 0.95, 0.5)
    assert done.order_intent is not None and done.order_intent.target_position == 0.5


@pytest.mark.parametrize(
    ("action", "target", "field"),
    [("maybe", None, "action"), ("modify", None, "target"), ("modify", 1.5, "target"),
     ("approve", 0.2, "target")],
)  # fmt: skip
def test_a_bad_answer_names_its_field(
    sun: Sun, goog: BarSeries, action: str, target: float | None, field: str
) -> None:
    pending = sun.decide(at(goog, AGREE))
    assert pending.review is not None and pending.review.thread_id is not None
    with pytest.raises(ValueError, match=field):
        sun.review(pending.review.thread_id, action, target=target)
    assert len(sun.pending_reviews()) == 1


def test_without_a_checkpointer_the_review_stays_pending_and_no_order_goes(
    goog: BarSeries,
) -> None:
    with Sun("quant", checkpoint="none", orchestration=GUARDED) as sun:
        decision = sun.decide(at(goog, AGREE))
    assert decision.disposition == "HIL_REVIEW" and decision.review is not None
    assert decision.review.status == "pending" and decision.review.thread_id is None
    assert decision.order_intent is None and statuses(decision, "review") == ["skipped"]


@pytest.mark.parametrize(("bar", "news", "action"), [(AGREE, BULLISH, "BUY"),
                                                     (CONFLICT, BEARISH, "SELL")])  # fmt: skip
def test_strong_agreement_decides_without_the_llm(
    goog: BarSeries, bar: int, news: tuple[str, ...], action: str
) -> None:
    """Technical and sentiment agree, either way: the risk planet's risk appetite (positive
    here) is not a vote against a bearish consensus."""
    model = never_called()
    with Sun("openai:gpt-test", checkpoint="none", models=ModelConfig(chat_model=model),
             orchestration=GUARDED, limits=NO_REVIEW) as sun:  # fmt: skip
        decision = sun.decide(at_bar(goog, bar, news))
    assert decision.disposition == "AUTO" and model.calls == 0 and decision.action == action
    assert {r.planet: r.score > 0 for r in decision.planet_reports}["risk"]
    assert decision.disposition_reason.startswith("checkpoint agree: planets agree strongly")
    assert decision.reasoner == "quant" and decision.llm_usage.calls == 0
    assert decision.order_intent is not None
    (skipped,) = [s for s in decision.trace if s.node.startswith("llm:")]
    assert skipped.status == "skipped" and "checkpoint agree" in skipped.reason


def test_conflict_expands_the_analysis_then_reasons(goog: BarSeries) -> None:
    answer = {"action": "SELL", "size": 0.3, "confidence": 0.6,
              "rationale": "technical score is bearish, close below sma"}  # fmt: skip
    model = ScriptedChatModel(script=[json.dumps(answer)], prompts=[])
    with Sun("openai:gpt-test", checkpoint="none", models=ModelConfig(chat_model=model),
             orchestration=GUARDED, limits=NO_REVIEW) as sun:  # fmt: skip
        decision = sun.decide(at_bar(goog, CONFLICT, BULLISH[:1]))  # bearish bars, good news
    assert model.calls == 1 and decision.disposition == "AUTO"
    assert statuses(decision, "checkpoint:conflict") == ["ran"]
    assert statuses(decision, "consult:execution") == ["skipped", "expanded", "ran"]
    # sentiment ran over 3 days, then again over the expansion's wide window: one report left
    assert statuses(decision, "consult:sentiment") == ["ran", "expanded", "ran"]
    (sentiment,) = [r for r in decision.planet_reports if r.planet == "sentiment"]
    assert sentiment.evidence["lookback_days"] == 14.0
    assert {"sentiment", "execution"} <= set(decision.routed_planets)
    assert {r.planet for r in decision.planet_reports} == {
        "technical",
        "risk",
        "sentiment",
        "execution",
    }
    nodes = [s.node for s in decision.trace]
    assert nodes.index("consult:execution", nodes.index("checkpoint:conflict")) < nodes.index(
        "reason"
    )


def test_a_failed_wider_look_keeps_the_earlier_report(goog: BarSeries) -> None:
    """The expansion asks sentiment again over 14 days and that call crashes: the 3-day
    report stands, the trace says why, and the failure rule still counts sentiment as ran."""
    planets = dict(default_planets())
    planets["sentiment"] = FaultyPlanet(planets["sentiment"], FaultSchedule(["ok", "crash"]))
    with Sun("quant", checkpoint="none", orchestration=GUARDED, limits=NO_REVIEW,
             planets=planets) as sun:  # fmt: skip
        decision = sun.decide(at_bar(goog, CONFLICT, BULLISH[:1]))
    assert statuses(decision, "consult:sentiment") == ["ran", "expanded", "skipped"]
    (failed,) = [
        s for s in decision.trace if s.node == "consult:sentiment" and s.status == "skipped"
    ]
    assert failed.reason.startswith("asked again, failed; the earlier report stands: planet failed")
    (sentiment,) = [r for r in decision.planet_reports if r.planet == "sentiment"]
    assert sentiment.has_data and sentiment.evidence["lookback_days"] == 3.0
    assert decision.disposition == "AUTO"


def test_failed_data_quality_escalates_with_an_alert_on_the_bus(goog: BarSeries) -> None:
    client = BusClient(factory=InProcBus)
    received: list[Envelope] = []

    async def listen() -> asyncio.Event:
        arrived = asyncio.Event()

        async def handler(envelope: Envelope) -> None:
            received.append(envelope)
            arrived.set()

        await client.bus.subscribe(ALERTS, handler)
        return arrived

    arrived = client.run(listen(), 10.0)
    failed = TradingClassifier(extra={"data_quality": lambda row: "failed"})
    router = PolicyRouter(policy=policy_from("trading_guarded"), classifier=failed)
    model = never_called()
    try:
        with Sun("openai:gpt-test", checkpoint="none", models=ModelConfig(chat_model=model),
                 orchestration=OrchestrationConfig(router=router),
                 hooks=SunHooks(alert_sink=bus_alert_sink(client))) as sun:  # fmt: skip
            decision = sun.decide(at(goog, AGREE), position=0.2)
        client.run(asyncio.wait_for(arrived.wait(), 10.0), 15.0)
    finally:
        client.close()
    assert decision.disposition == "ESCALATE" and model.calls == 0
    assert decision.order_intent is None and decision.target_position == 0.2
    assert decision.disposition_reason == "checkpoint bad_data: data quality failed"
    assert decision.alert is not None and decision.alert.reason == "data quality failed"
    assert (
        decision.alert.rule == "failed_data_quality" and decision.alert.policy == "trading_guarded"
    )
    assert decision.routed_planets == ("risk",)
    (envelope,) = received
    assert envelope.priority == Priority.CRITICAL and envelope.kind == "event"
    assert envelope.unwrap(EscalationAlert) == decision.alert


def test_the_universe_path_refuses_a_policy_it_cannot_run(goog: BarSeries) -> None:
    with Sun("quant", checkpoint="none", orchestration=GUARDED) as sun:
        with pytest.raises(ValueError, match="'trading_guarded' has checkpoints or expansions"):
            sun.decide_universe(at(goog, AGREE))
