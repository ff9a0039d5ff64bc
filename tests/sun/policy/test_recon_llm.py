"""Reconciliation's DECISIONING with a model spec: the model decides within the rules' hard
limits, its calls count against the policy budget, and a bad answer or call falls back to the
rules. The scripted model stands in for a remote provider; one slow test runs the embedded
``local`` model for real."""

from __future__ import annotations

import json

import pytest

from examples.reconciliation import (
    RECON_POLICY,
    Break,
    BreakClassifier,
    Dataset,
    generate_breaks,
    llm_decisioning,
    recon_agents,
    recon_model,
)
from sun.llm import StructuredLLM, local_available
from sun.policy import PolicyContext, PolicyRun, build_policy_graph, load_policy, run_policy
from sun.testing import ScriptedChatModel


@pytest.fixture(scope="module")
def data() -> Dataset:
    return generate_breaks(400, seed=11)


def first(data: Dataset, kind: str | None, *, material: bool | None = None) -> Break:
    """The first break of ``kind`` (None: of any kind a model could explain)."""
    unexplained = ("missing", "duplicate", "unreadable")
    return next(
        b for b in data.breaks
        if (b.truth.kind == kind if kind else b.truth.kind not in unexplained)
        and (material is None or b.truth.material == material)
    )  # fmt: skip


def reconcile(brk: Break, answers: list[object]) -> tuple[PolicyRun, ScriptedChatModel]:
    model = ScriptedChatModel(script=answers, prompts=[])
    agents = recon_agents(decisioning=llm_decisioning(StructuredLLM(model, "openai:gpt-test")))
    context = PolicyContext(agents=agents, interrupt_on_review=False)
    policy = load_policy(RECON_POLICY)
    plan = policy.select(BreakClassifier().classify(brk))
    return run_policy(build_policy_graph(), plan, brk.as_inputs(), context), model


def answer(action: str, reason: str = "cash gap 0.01 within the rounding tolerance") -> str:
    return json.dumps({"reason": reason, "action": action})


def test_the_model_decides_and_its_call_is_counted(data: Dataset) -> None:
    brk = first(data, "price", material=False)
    run, model = reconcile(brk, [answer("correct", "price differs by 0.5%, book a correction")])
    decided = run.outputs["DECISIONING"]
    assert model.calls == 1 and decided.facts["decided_by"] == "openai:gpt-test"
    assert decided.facts["action"] == "correct" and decided.llm_calls == 1
    assert decided.tokens == 120 and run.usage.llm_calls == 1
    assert "price differs" in str(decided.facts["model_reason"])
    assert "BREAK_INGESTION" in model.prompts[0] and "would say" in model.prompts[0]


@pytest.mark.parametrize("kind", ["missing", "duplicate"])
def test_the_model_never_auto_resolves_what_the_rules_forbid(data: Dataset, kind: str) -> None:
    run, _ = reconcile(first(data, kind), [answer("auto_resolve")])
    decided = run.outputs.get("DECISIONING")
    assert decided is not None and decided.facts["action"] != "auto_resolve"
    assert decided.facts["decided_by"] == "rules"
    assert "refused" in str(decided.facts["model_note"])
    assert run.disposition != "AUTO" or decided.facts["action"] != "auto_resolve"


def test_a_material_break_is_never_closed_by_the_model(data: Dataset) -> None:
    run, _ = reconcile(first(data, None, material=True), [answer("auto_resolve")] * 3)
    decided = run.outputs.get("DECISIONING")
    assert decided is not None and decided.facts["action"] != "auto_resolve"
    assert run.disposition in ("HIL_REVIEW", "ESCALATE")


@pytest.mark.parametrize(
    ("script", "note"),
    [(["not json"], "invalid answer"), ([ConnectionError("down")], "model failed"),
     ([json.dumps({"reason": "x" * 300, "action": "correct"})], "invalid answer"),
     ([json.dumps({"reason": "ignore the rules", "action": "delete_everything"})],
      "invalid answer")],
)  # fmt: skip
def test_a_bad_answer_falls_back_to_the_rules(
    data: Dataset, script: list[object], note: str
) -> None:
    run, model = reconcile(first(data, "price", material=False), script)
    decided = run.outputs["DECISIONING"]
    assert model.calls == 1 and decided.facts["decided_by"] == "rules"
    assert str(decided.facts["model_note"]).startswith(note)
    assert decided.facts["action"] == decided.facts["rules_action"] and decided.llm_calls == 1


def test_a_spec_that_is_not_an_llm_is_refused() -> None:
    with pytest.raises(ValueError, match="needs an LLM model spec"):
        recon_model("quant")


@pytest.mark.slow
@pytest.mark.skipif(not local_available(), reason="the embedded model is not installed")
def test_the_embedded_model_decides_real_breaks(data: Dataset) -> None:
    decider = llm_decisioning(recon_model("local"))
    agents = recon_agents(decisioning=decider)
    context = PolicyContext(agents=agents, interrupt_on_review=False)
    policy, graph = load_policy(RECON_POLICY), build_policy_graph()
    for kind in ("rounding", "fees"):
        brk = first(data, kind, material=False)
        run = run_policy(graph, policy.select(BreakClassifier().classify(brk)), brk.as_inputs(),
                         context)  # fmt: skip
        decided = run.outputs["DECISIONING"]
        assert decided.llm_calls >= 1
        assert decided.facts["decided_by"] in ("local", "rules")
        assert decided.facts["action"] in ("auto_resolve", "correct", "investigate")
