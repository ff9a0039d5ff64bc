"""The LangGraph executor: parallel stages, checkpoints, expansion, failures, budget, review."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from sun.policy import (
    Agent,
    AgentCall,
    Alert,
    NodeOutput,
    Policy,
    PolicyContext,
    PolicyRun,
    ReviewDecision,
    ReviewDesk,
    TradingProfile,
    build_policy_graph,
    load_policy,
    new_thread_id,
    resume_policy,
    run_policy,
)

CASES = Path(__file__).with_name("policies") / "executor_cases.yaml"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(CASES)


def scripted(**outputs: NodeOutput) -> dict[str, Agent]:
    """Agents returning fixed outputs (default: score 0.1)."""

    def make(name: str) -> Agent:
        return lambda call: outputs.get(name, NodeOutput(score=0.1, confidence=0.5))

    names = ("a", "b", "c", "d", "x", "y", "risk", "flaky", "slow", "llm")
    return {name: make(name) for name in names}


def run(policy: Policy, case: int, agents: dict[str, Agent], **kw: Any) -> PolicyRun:
    resolved = policy.select(TradingProfile(headline_count=case, has_headlines=True))
    return run_policy(
        build_policy_graph(), resolved, {"case": case}, PolicyContext(agents=agents, **kw)
    )


def test_ready_nodes_run_in_parallel(policy: Policy) -> None:
    barrier = threading.Barrier(3, timeout=5)

    def meet(call: AgentCall) -> NodeOutput:
        barrier.wait()  # breaks (and the node fails) unless all three run at once
        return NodeOutput(score=0.2)

    agents = scripted()
    agents.update(a=meet, b=meet, c=meet)
    result = run(policy, 1, agents)
    assert result.disposition == "AUTO"
    assert result.statuses() == {"a": "ran", "b": "ran", "c": "ran", "d": "ran"}
    stages = {e.node: e.stage for e in result.trace}
    assert stages["a"] == stages["b"] == stages["c"] < stages["d"]


def test_checkpoint_decides_early_and_records_skips(policy: Policy) -> None:
    result = run(policy, 2, scripted(a=NodeOutput(score=0.9)))
    assert result.disposition == "AUTO" and result.early_exit
    assert result.decided_by == "checkpoint sure"
    assert result.statuses() == {"a": "ran", "b": "skipped", "c": "skipped"}
    assert all("a is sure" in e.reason for e in result.trace if e.status == "skipped")
    not_sure = run(policy, 2, scripted(a=NodeOutput(score=0.1)))
    assert not_sure.ran() == ["a", "b", "c"] and not not_sure.early_exit


def test_expansion_adds_nodes_at_run_time(policy: Policy) -> None:
    widened = run(policy, 3, scripted(a=NodeOutput(facts={"widen": True})))
    assert [(e.node, e.status) for e in widened.trace if e.node in "xy"] == [
        ("x", "expanded"), ("y", "expanded"), ("x", "ran"), ("y", "ran"),
    ]  # fmt: skip
    assert widened.ran()[-1] == "d"
    narrow = run(policy, 3, scripted(a=NodeOutput(facts={"widen": False})))
    assert narrow.ran() == ["a", "d"]
    assert narrow.checkpoints[0].fired is False


def test_optional_failure_is_recorded_and_run_continues(policy: Policy) -> None:
    agents = scripted()
    agents["flaky"] = lambda call: (_ for _ in ()).throw(RuntimeError("feed down"))
    result = run(policy, 4, agents)
    assert result.disposition == "AUTO"
    failed = [e for e in result.trace if e.status == "failed"]
    assert [(e.node, "feed down" in e.reason) for e in failed] == [("flaky", True)]
    assert "d" in result.ran()


def test_required_node_failure_escalates_with_an_alert(policy: Policy) -> None:
    alerts: list[Alert] = []
    agents = scripted()
    agents["risk"] = lambda call: NodeOutput(ok=False, data={"error": "limits unavailable"})
    result = run(policy, 4, agents, on_escalate=alerts.append)
    assert result.disposition == "ESCALATE" and not result.order_allowed
    assert result.decided_by == "failure rule" and "risk" in result.reason
    assert result.statuses()["d"] == "skipped"
    assert len(alerts) == 1 and alerts[0].reason == result.reason and alerts[0].trace


def test_timeout_is_a_failure_in_the_trace(policy: Policy) -> None:
    release = threading.Event()

    def hang(call: AgentCall) -> NodeOutput:
        release.wait(5)
        return NodeOutput()

    agents = scripted()
    agents["slow"] = hang
    try:
        result = run(policy, 5, agents)
    finally:
        release.set()
    slow = [e for e in result.trace if e.node == "slow"][0]
    assert slow.status == "failed" and "timed out after 20 ms" in slow.reason
    assert result.disposition == "ESCALATE"  # slow is mandatory: the default failure rule


def test_llm_budget_skips_further_llm_nodes(policy: Policy) -> None:
    result = run(policy, 7, scripted(llm=NodeOutput(llm_calls=1, tokens=100)))
    assert result.statuses() == {"first": "ran", "second": "skipped"}
    assert result.disposition == "ESCALATE"  # a mandatory node cut by the budget
    assert "budget" in [e for e in result.trace if e.node == "second"][0].reason
    assert result.usage.llm_calls == 1


def test_group_cap_limits_parallelism(policy: Policy) -> None:
    result = run(policy, 8, scripted())
    stages = sorted(e.stage for e in result.trace if e.status == "ran")
    assert stages == [1, 1, 2, 2]


def test_skip_conditions_can_read_outputs(policy: Policy) -> None:
    result = run(policy, 9, scripted(a=NodeOutput(score=-0.5)))
    assert result.statuses() == {"a": "ran", "b": "skipped"}
    assert [e.reason for e in result.trace if e.node == "b"] == ["a is negative"]


def test_checkpoint_before_any_node_escalates(policy: Policy) -> None:
    result = run(policy, 10, scripted())
    assert result.disposition == "ESCALATE" and result.statuses() == {"a": "skipped"}
    assert result.usage.nodes_run == 0


def test_trace_is_json(policy: Policy) -> None:
    result = run(policy, 3, scripted(a=NodeOutput(facts={"widen": True})))
    again = PolicyRun.model_validate_json(result.model_dump_json())
    assert again == result
    assert all(e.duration_ms >= 0 for e in again.trace)


def test_missing_agent_fails_the_node(policy: Policy) -> None:
    agents = scripted()
    del agents["a"]
    result = run(policy, 11, agents)
    assert result.statuses() == {"a": "failed"} and result.disposition == "ESCALATE"


@pytest.mark.parametrize(
    ("answer", "allowed"),
    [
        (ReviewDecision(action="approve", by="ana"), True),
        (ReviewDecision(action="reject", by="ana", note="too big"), False),
        (ReviewDecision(action="modify", by="ana", changes={"quantity": 10}), True),
    ],
)
def test_review_interrupts_and_resumes(
    policy: Policy, answer: ReviewDecision, allowed: bool
) -> None:
    graph = build_policy_graph(InMemorySaver())
    context = PolicyContext(agents=scripted(a=NodeOutput(score=0.7, facts={"side": "BUY"})))
    thread = new_thread_id()
    resolved = policy.select(TradingProfile(headline_count=6, has_headlines=True))
    pending = run_policy(graph, resolved, {}, context, thread_id=thread)
    assert pending.pending_review and pending.disposition == "HIL_REVIEW"
    assert pending.decision is not None and pending.decision.facts == {"side": "BUY"}
    desk = ReviewDesk(graph, context)
    assert thread in [p.thread_id for p in desk.pending()]
    assert desk.show(thread).trace == pending.trace
    done = desk.answer(thread, answer)
    assert done.review == answer and done.order_allowed is allowed and not done.pending_review
    assert thread not in [p.thread_id for p in desk.pending()]
    with pytest.raises(KeyError):
        desk.show(thread)


def test_review_can_be_recorded_without_interrupt(policy: Policy) -> None:
    result = run(policy, 6, scripted(), interrupt_on_review=False)
    assert result.pending_review and result.disposition == "HIL_REVIEW" and not result.order_allowed


def test_resume_helper_matches_desk(policy: Policy) -> None:
    graph = build_policy_graph(InMemorySaver())
    context = PolicyContext(agents=scripted())
    resolved = policy.select(TradingProfile(headline_count=6, has_headlines=True))
    run_policy(graph, resolved, {}, context, thread_id="policy-t")
    done = resume_policy(graph, "policy-t", ReviewDecision(action="approve"), context)
    assert done.order_allowed


def test_fake_clock_drives_the_latency_budget(tmp_path: Path) -> None:
    text = CASES.read_text().replace("budget: {latency_ms: 60000}", "budget: {latency_ms: 5}")
    path = tmp_path / "p.yaml"
    path.write_text(text)
    policy = load_policy(path)
    ticks = iter(range(0, 10_000, 10))
    clock: Callable[[], float] = lambda: float(next(ticks))  # noqa: E731
    resolved = policy.select(TradingProfile(headline_count=2, has_headlines=True))
    context = PolicyContext(agents=scripted(), clock_ms=clock)
    result = run_policy(build_policy_graph(), resolved, {}, context)
    assert "skipped" in result.statuses().values()
    assert any("budget: latency" in e.reason for e in result.trace)


def test_plain_graph_input_is_scheduled_by_the_graph(policy: Policy) -> None:
    """Invoking the graph with only plan + inputs (as Studio would) gives the same run."""
    from sun.policy import outcome_of, run_config

    resolved = policy.select(TradingProfile(headline_count=3, has_headlines=True))
    agents = scripted(a=NodeOutput(facts={"widen": True}))
    graph = build_policy_graph()
    raw = graph.invoke({"plan": resolved.model_dump(mode="json"), "inputs": {}},
                       run_config("policy-plain"), context=PolicyContext(agents=agents))  # fmt: skip
    direct = run_policy(graph, resolved, {}, PolicyContext(agents=agents))
    assert outcome_of(raw, "policy-plain").statuses() == direct.statuses()
    assert outcome_of(raw, "policy-plain").ran() == ["a", "x", "y", "d"]


def test_reload_while_running_leaves_the_run_alone(tmp_path: Path) -> None:
    from sun.policy import PolicyStore

    path = tmp_path / "p.yaml"
    path.write_text(CASES.read_text())
    store = PolicyStore(path)
    reloaded: list[Any] = []

    def a(call: AgentCall) -> NodeOutput:  # rewrites the policy mid-run: rule early_exit loses c
        path.write_text(CASES.read_text().replace("        - {name: c, depends_on: [b]}\n", "", 1))
        reloaded.append(store.reload())
        return NodeOutput(score=0.1)

    agents = scripted()
    agents["a"] = a
    resolved = store.current.select(TradingProfile(headline_count=2, has_headlines=True))
    result = run_policy(build_policy_graph(), resolved, {}, PolicyContext(agents=agents))
    assert reloaded == [[]]
    assert result.ran() == ["a", "b", "c"]  # the plan it started with
    fresh = store.current.select(TradingProfile(headline_count=2, has_headlines=True))
    assert [n.name for n in fresh.plan.nodes] == ["a", "b"]
