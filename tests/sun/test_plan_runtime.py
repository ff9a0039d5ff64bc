"""A policy plan's run-time rules in the sun graph: the failure rule (a required node that
fails stops the plan), the per-decision budget (LLM calls, tokens, latency) and ``skip_if``
conditions over planet outputs. Real planets (wrapped by a fault injector where one must
fail), a real graph; only the remote chat model is scripted.

GOOG bars (as in ``test_review``): 300 technical +0.77 and risk +0.23 agree; 369 technical
-0.83 against risk +0.30.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bus import BarSeries, MarketSnapshot, SunDecision
from planets import ExecutionPlanet, Planet, RiskLimits, TechnicalPlanet, default_planets
from sun import ModelConfig, OrchestrationConfig, PolicyRouter, Sun, policy_from
from sun.testing import FaultSchedule, FaultyPlanet, ScriptedChatModel

AGREE, CONFLICT = 300, 369
NO_REVIEW = RiskLimits(max_notional=1_000_000.0)
ANSWER = json.dumps({"action": "BUY", "size": 0.4, "confidence": 0.6,
                     "rationale": "technical score 0.77 is bullish, close above sma"})  # fmt: skip
PLAN = """\
policy: runtime_rules
profile: trading
agents:
  technical: {{kind: planet}}
  execution: {{kind: planet}}
  risk: {{kind: planet}}
  reasoner: {{kind: reasoner, llm: true}}
{top}
rules:
  - name: only
    plan:
      nodes:
        - name: technical
          params_from:
            style: 'technical_ready ? (trend_strength >= 1.0 ? "momentum" : "mean_reversion") : null'
        - {{name: risk}}
{nodes}
"""


def at(goog: BarSeries, i: int) -> MarketSnapshot:
    stamp = goog.up_to(goog.timestamps[i]).last_timestamp
    return MarketSnapshot.at(stamp, {"GOOG": goog})


def policy_file(tmp_path: Path, top: str = "", nodes: str = "") -> OrchestrationConfig:
    path = tmp_path / "runtime_rules.yaml"
    path.write_text(PLAN.format(top=top, nodes=nodes), encoding="utf-8")
    return OrchestrationConfig(router=PolicyRouter(policy=policy_from(str(path))))


def crashing(name: str) -> dict[str, Planet]:
    planets = dict(default_planets())
    planets[name] = FaultyPlanet(planets[name], FaultSchedule(pattern=["crash"]))
    return planets


def decide(
    goog: BarSeries, i: int, orchestration: OrchestrationConfig, *,
    model: ScriptedChatModel | None = None, planets: dict[str, Planet] | None = None,
    position: float = 0.0,
) -> SunDecision:  # fmt: skip
    spec = "quant" if model is None else "openai:gpt-test"
    models = ModelConfig(chat_model=model) if model is not None else None
    with Sun(spec, checkpoint="none", orchestration=orchestration, models=models,
             planets=planets, limits=NO_REVIEW) as sun:  # fmt: skip
        return sun.decide(at(goog, i), position=position)


def steps(decision: SunDecision, node: str) -> list[tuple[str, str]]:
    return [(s.status, s.reason) for s in decision.trace if s.node == node]


def never_called() -> ScriptedChatModel:
    return ScriptedChatModel(script=[RuntimeError("the LLM must not be called")], prompts=[])


# -- failure rule ------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["trading_default", "trading_guarded"])
def test_no_order_without_the_risk_node(goog: BarSeries, policy: str) -> None:
    model = never_called()
    decision = decide(goog, AGREE, OrchestrationConfig(policy=policy), model=model,
                      planets=crashing("risk"), position=0.2)  # fmt: skip
    assert decision.disposition == "ESCALATE" and model.calls == 0
    assert decision.disposition_reason == "failure rule: required risk failed"
    assert decision.order_intent is None  # escalated: no order goes out
    # holding 0.2 passes the guard again, which without a risk report fails closed: flat
    assert decision.target_position == 0.0
    assert decision.alert is not None and decision.alert.by == "failure rule"
    assert steps(decision, "consult:risk")[0][0] == "failed"
    assert steps(decision, "failure_rule") == [("ran", "-> ESCALATE: required risk failed")]


def test_a_failed_planet_the_rule_does_not_require_is_only_recorded(goog: BarSeries) -> None:
    decision = decide(goog, AGREE, OrchestrationConfig(policy="trading_default"),
                      planets=crashing("technical"))  # fmt: skip
    assert decision.disposition == "AUTO"
    assert steps(decision, "consult:technical")[0][0] == "failed"
    assert steps(decision, "failure_rule") == []


@pytest.mark.parametrize(("optional", "then", "want"), [
    ("false", "HIL_REVIEW", "HIL_REVIEW"), ("false", "ESCALATE", "ESCALATE"),
    ("true", "ESCALATE", "AUTO"),
])  # fmt: skip
def test_by_default_every_mandatory_node_is_required(
    goog: BarSeries, tmp_path: Path, optional: str, then: str, want: str
) -> None:
    config = policy_file(
        tmp_path, top=f"failure: {{then: {then}}}",
        nodes=f"        - {{name: execution, optional: {optional}}}",
    )  # fmt: skip
    decision = decide(goog, AGREE, config, planets=crashing("execution"), position=0.1)
    assert decision.disposition == want
    if want != "AUTO":
        assert decision.disposition_reason == "failure rule: required execution failed"
    if want == "ESCALATE":
        assert decision.target_position == 0.1


def test_every_model_level_failing_is_a_failed_reasoner(goog: BarSeries, tmp_path: Path) -> None:
    config = policy_file(tmp_path, top="failure: {require: [risk, reasoner]}",
                         nodes="        - {name: reasoner, depends_on: [technical, risk]}")  # fmt: skip
    model = ScriptedChatModel(script=[ConnectionError("down")] * 20, prompts=[])
    decision = decide(goog, AGREE, config, model=model, position=0.3)
    assert decision.reasoner == "council" and model.calls >= 1
    assert decision.disposition == "ESCALATE" and decision.target_position == 0.3
    assert decision.disposition_reason == "failure rule: required reasoner failed"


def test_an_explicitly_required_node_that_never_ran_is_missing(
    goog: BarSeries, tmp_path: Path
) -> None:
    config = policy_file(
        tmp_path, top="failure: {require: [execution], then: HIL_REVIEW}",
        nodes='        - {name: execution, skip_if: "true", skip_reason: not today}',
    )  # fmt: skip
    decision = decide(goog, AGREE, config)
    assert steps(decision, "consult:execution") == [("skipped", "not today")]
    assert decision.disposition == "HIL_REVIEW"
    assert decision.disposition_reason == "failure rule: required execution did not run"


# -- budget ----------------------------------------------------------------------------


@pytest.mark.parametrize(("budget", "why"), [
    ("{llm_calls: 0}", "the plan's budget allows no LLM call"),
    ("{tokens: 0}", "the plan's budget allows no LLM call"),
    ("{latency_ms: 0.001}", "latency over 0.001 ms"),
])  # fmt: skip
def test_a_budget_that_allows_no_call_skips_the_llm(
    goog: BarSeries, tmp_path: Path, budget: str, why: str
) -> None:
    config = policy_file(
        tmp_path, top=f"budget: {budget}",
        nodes="        - {name: reasoner, optional: true, depends_on: [technical, risk]}",
    )  # fmt: skip
    model = never_called()
    decision = decide(goog, AGREE, config, model=model)
    assert model.calls == 0 and decision.reasoner == "quant"
    (skipped,) = [s for s in decision.trace if s.node.startswith("llm:")]
    assert skipped.status == "skipped" and skipped.reason == f"skipped: budget: {why}"
    assert decision.disposition == "AUTO"


def test_the_call_cap_counts_repairs(goog: BarSeries, tmp_path: Path) -> None:
    """One call allowed: the malformed first answer cannot be repaired; the council decides,
    and its rationale says the budget stopped the model."""
    config = policy_file(tmp_path, top="budget: {llm_calls: 1}",
                         nodes="        - {name: reasoner, depends_on: [technical, risk]}")  # fmt: skip
    model = ScriptedChatModel(script=["not json", ANSWER, ANSWER], prompts=[])
    decision = decide(goog, AGREE, config, model=model)
    assert model.calls == 1 and decision.reasoner == "council"
    assert "budget exhausted: per-decision calls cap 1 reached" in decision.rationale
    assert decision.llm_usage.calls == 1


def test_within_the_cap_the_repair_runs(goog: BarSeries, tmp_path: Path) -> None:
    config = policy_file(tmp_path, top="budget: {llm_calls: 2}",
                         nodes="        - {name: reasoner, depends_on: [technical, risk]}")  # fmt: skip
    model = ScriptedChatModel(script=["not json", ANSWER], prompts=[])
    decision = decide(goog, AGREE, config, model=model)
    assert model.calls == 2 and decision.reasoner != "council"


def test_a_required_reasoner_cut_by_the_budget_escalates(goog: BarSeries, tmp_path: Path) -> None:
    config = policy_file(
        tmp_path, top="budget: {llm_calls: 0}\nfailure: {require: [reasoner]}",
        nodes="        - {name: reasoner, depends_on: [technical, risk]}",
    )  # fmt: skip
    decision = decide(goog, AGREE, config, model=never_called(), position=-0.1)
    assert decision.disposition == "ESCALATE" and decision.target_position == -0.1
    assert decision.disposition_reason == "failure rule: required reasoner was cut by the budget"


# -- run-time skip_if -------------------------------------------------------------------------

EVENTS_IF_CONFLICT = """\
        - name: execution
          depends_on: [technical, risk]
          skip_if: "summary.mean_score > 0.5"
          skip_reason: the direction votes are clearly bullish
"""


@pytest.mark.parametrize(("bar", "want"), [(AGREE, "skipped"), (CONFLICT, "ran")])
def test_a_planet_skip_over_outputs_waits_for_its_inputs(
    goog: BarSeries, tmp_path: Path, bar: int, want: str
) -> None:
    decision = decide(goog, bar, policy_file(tmp_path, nodes=EVENTS_IF_CONFLICT))
    consults = steps(decision, "consult:execution")
    assert consults[0][0] == "skipped" and consults[0][1].startswith("deferred")
    if want == "skipped":
        assert consults[1:] == [("skipped", "the direction votes are clearly bullish")]
        assert "execution" not in decision.routed_planets
    else:
        assert [status for status, _ in consults[1:]] == ["expanded", "ran"]
        assert "execution" in {r.planet for r in decision.planet_reports}
        ran = [s.node for s in decision.trace if s.status == "ran"]
        assert ran.index("consult:technical") < ran.index("consult:execution")


def test_a_broken_run_time_skip_runs_the_node(goog: BarSeries, tmp_path: Path) -> None:
    nodes = EVENTS_IF_CONFLICT.replace("summary.mean_score > 0.5", "outputs.technical.nope > 1.0")
    decision = decide(goog, AGREE, policy_file(tmp_path, nodes=nodes))
    statuses = [status for status, _ in steps(decision, "consult:execution")]
    assert statuses == ["skipped", "expanded", "ran"]
    assert "skip_if error (treated as false)" in steps(decision, "consult:execution")[1][1]


@pytest.mark.parametrize(("bar", "llm_calls"), [(AGREE, 0), (CONFLICT, 1)])
def test_the_llm_skip_over_outputs(
    goog: BarSeries, tmp_path: Path, bar: int, llm_calls: int
) -> None:
    nodes = """\
        - name: reasoner
          depends_on: [technical, risk]
          skip_if: "outputs.technical.score > 0.5"
          skip_reason: a clear technical signal needs no LLM
"""
    model = ScriptedChatModel(script=[ANSWER], prompts=[])
    decision = decide(goog, bar, policy_file(tmp_path, nodes=nodes), model=model)
    assert model.calls == llm_calls
    if llm_calls == 0:
        (skipped,) = [s for s in decision.trace if s.node.startswith("llm:")]
        assert skipped.reason == "skipped: reasoner: a clear technical signal needs no LLM"
        assert decision.reasoner == "quant"


# -- max_parallel and groups ---------------------------------------------------------------


class OwnTaskTechnical(TechnicalPlanet):
    in_process = False  # consulted in a task of its own, as a remote planet is


class OwnTaskExecution(ExecutionPlanet):
    in_process = False


@pytest.mark.parametrize("checkpoint", ["none", "sqlite"])
@pytest.mark.parametrize(("top", "group"), [
    ("max_parallel: 2", ""),  # the in-process risk planet's task takes one of the two slots
    ("max_parallel: 8", "      groups: [{name: pair, nodes: [technical, execution], max_parallel: 1}]"),
])  # fmt: skip
def test_planets_beyond_the_cap_wait_for_a_later_wave(
    goog: BarSeries, tmp_path: Path, top: str, group: str, checkpoint: str
) -> None:
    text = PLAN.format(top="", nodes="        - {name: execution}").replace(
        "    plan:\n",
        f"    plan:\n      {top}\n{group}\n" if group else f"    plan:\n      {top}\n",
    )
    path = tmp_path / "capped.yaml"
    path.write_text(text, encoding="utf-8")
    config = OrchestrationConfig(router=PolicyRouter(policy=policy_from(str(path))))
    planets = {**default_planets(), "technical": OwnTaskTechnical(),
               "execution": OwnTaskExecution()}  # fmt: skip
    where = "none" if checkpoint == "none" else str(tmp_path / "c.sqlite")
    with Sun("quant", checkpoint=where, orchestration=config, planets=planets) as sun:
        decision = sun.decide(at(goog, AGREE))
    assert [s for s, _ in steps(decision, "consult:technical")] == ["ran"]
    waited = steps(decision, "consult:execution")
    assert [s for s, _ in waited] == ["skipped", "expanded", "ran"]
    assert waited[0][1].startswith("deferred: max_parallel")
    assert waited[1][1] == "execution: its turn: a slot is free"
    assert {r.planet for r in decision.planet_reports} == {"technical", "execution", "risk"}
    ran = [s.node for s in decision.trace if s.status == "ran"]
    assert ran.index("consult:technical") < ran.index("consult:execution") < ran.index("reason")
