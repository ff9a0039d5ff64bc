"""Policies drive the sun: the default policy decides exactly as the routing tree, and every
decision carries its execution trace and disposition."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bus import BarSeries, Headline, MarketSnapshot, SunDecision
from sun import ModelConfig, OrchestrationConfig, PolicyRouter, RoutingTree, Sun
from sun.policy import PolicyLoadError, shipped_policy
from sun.testing import ScriptedChatModel
from tests.sun.policy.test_policy_trading import moon_rows

PLANETS = ("execution", "risk", "sentiment", "technical")
NO_LLM_POLICY = """\
policy: no_llm
profile: trading
agents:
  technical: {kind: planet}
  risk: {kind: planet}
  reasoner: {kind: reasoner, llm: true}
rules:
  - name: quant_only
    plan:
      nodes:
        - {name: technical}
        - {name: risk}
"""


def headlines_at(i: int) -> bool:
    return i % 3 == 0


def test_policy_router_routes_as_the_tree_on_every_goog_bar(goog: BarSeries) -> None:
    tree, policy = RoutingTree(), PolicyRouter()
    rows = moon_rows(goog)
    for i, row in enumerate(rows):
        want, got = tree.route(row, headlines_at(i)), policy.route(row, headlines_at(i))
        assert got.planets == want.planets, (i, row)
        assert {k: dict(v) for k, v in got.params.items()} == {
            k: dict(v) for k, v in want.params.items()
        }
        assert got.llm
        assert set(got.skipped) == set(PLANETS) - set(got.planets)
    assert len(rows) == 2148


def test_the_default_router_is_the_shipped_default_policy() -> None:
    router = OrchestrationConfig().router
    assert isinstance(router, PolicyRouter)
    assert router.policy.name == "trading_default"
    chosen = OrchestrationConfig(policy=shipped_policy("trading_default")).router
    assert isinstance(chosen, PolicyRouter) and chosen.policy.name == "trading_default"


def _snapshot(goog: BarSeries, i: int) -> MarketSnapshot:
    stamp = goog.timestamps[i]
    as_of = goog.up_to(stamp).last_timestamp
    news = (Headline(timestamp=as_of, text="GOOG beats estimates", instrument="GOOG"),)
    return MarketSnapshot.at(as_of, {"GOOG": goog}, headlines=news if headlines_at(i) else ())


def _same(decision: SunDecision) -> dict[str, object]:
    return decision.model_dump(exclude={"trace"})


def test_sun_with_the_default_policy_decides_as_with_the_routing_tree(goog: BarSeries) -> None:
    """A dense GOOG walk-forward (every 7th bar from warm-up, headlines every 3rd)."""
    seen: set[tuple[str, ...]] = set()
    with (
        Sun("quant", checkpoint="none") as by_policy,
        Sun("quant", checkpoint="none", orchestration=OrchestrationConfig(router=RoutingTree()))
        as by_tree,
    ):  # fmt: skip
        for i in range(30, len(goog), 7):
            snapshot = _snapshot(goog, i)
            want, got = by_tree.decide(snapshot), by_policy.decide(snapshot)
            assert _same(got) == _same(want), i
            seen.add(got.routed_planets)
            route = next(step for step in got.trace if step.node == "route")
            assert route.reason.startswith("trading_default > routing_tree")
    assert {("technical", "risk"), ("technical", "sentiment", "risk")} <= seen
    assert any("execution" in planets for planets in seen)


def test_every_decision_carries_its_trace_and_disposition(goog: BarSeries) -> None:
    with Sun("quant", checkpoint="none") as sun:
        decision = sun.decide(_snapshot(goog, 1001))
    assert decision.disposition == "AUTO"
    statuses = {step.node: step.status for step in decision.trace}
    assert statuses["ingest"] == statuses["route"] == statuses["propagate"] == "ran"
    for name in PLANETS:
        expected = "ran" if name in decision.routed_planets else "skipped"
        assert statuses[f"consult:{name}"] == expected
    skipped = [step for step in decision.trace if step.status == "skipped"]
    assert skipped and all(step.reason for step in skipped)
    assert all(step.duration_ms >= 0 for step in decision.trace)
    data = decision.model_dump(mode="json")
    assert data["disposition"] == "AUTO" and data["trace"][0]["node"] == "ingest"
    assert SunDecision.model_validate_json(decision.model_dump_json()) == decision


def test_a_plan_without_the_llm_reasoner_skips_the_model(tmp_path: Path, goog: BarSeries) -> None:
    text = NO_LLM_POLICY
    path = tmp_path / "no_llm.yaml"
    path.write_text(text)
    model = ScriptedChatModel(script=[RuntimeError("the LLM must not be called")], prompts=[])
    with Sun(
        "openai:gpt-test",
        checkpoint="none",
        models=ModelConfig(chat_model=model),
        orchestration=OrchestrationConfig(policy=path),
    ) as sun:
        decision = sun.decide(_snapshot(goog, 1001))
    assert decision.reasoner == "quant" and decision.fallback_level == "policy"
    assert decision.llm_usage.calls == 0 and model.calls == 0
    llm = [step for step in decision.trace if step.node.startswith("llm:")]
    assert llm and llm[0].status == "skipped" and "no LLM reasoner" in llm[0].reason


def test_policy_and_router_are_exclusive_and_bad_files_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="either router= or policy="):
        OrchestrationConfig(router=RoutingTree(), policy="trading_default")
    bad = tmp_path / "bad.yaml"
    bad.write_text("policy: x\nprofile: trading\nagents: {a: {kind: planet}}\nrules: 3\n")
    with pytest.raises(PolicyLoadError, match="bad.yaml:4"):
        OrchestrationConfig(policy=bad)
    guarded = OrchestrationConfig(policy="trading_guarded").router  # checkpoints, expansions
    assert isinstance(guarded, PolicyRouter) and guarded.policy.name == "trading_guarded"
    config = OrchestrationConfig(policy="trading_default")
    assert replace(config, llm_policy="auto").router == config.router
