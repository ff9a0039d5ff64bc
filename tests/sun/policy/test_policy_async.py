"""The async executor graph: async agents overlap, timeouts, sync agents in threads, review."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from langgraph.checkpoint.memory import InMemorySaver

from sun.policy import (
    AgentCall,
    NodeOutput,
    PolicyContext,
    ReviewDecision,
    TradingProfile,
    aresume_policy,
    arun_policy,
    build_policy_graph,
    load_policy,
    run_policy,
)

CASES = Path(__file__).with_name("policies") / "executor_cases.yaml"
POLICY = load_policy(CASES)


def profile(case: int) -> TradingProfile:
    return TradingProfile(headline_count=case, has_headlines=True)


async def test_async_agents_of_a_stage_overlap() -> None:
    running = 0
    peak = 0

    async def agent(call: AgentCall) -> NodeOutput:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        return NodeOutput(score=0.1)

    agents = {name: agent for name in ("a", "b", "c", "d")}
    graph = build_policy_graph(asynchronous=True)
    run = await arun_policy(graph, POLICY.select(profile(1)), {}, PolicyContext(agents=agents))
    assert run.ran()[-1] == "d" and peak == 3 and run.disposition == "AUTO"


async def test_async_timeout_and_sync_agent_in_thread() -> None:
    async def hang(call: AgentCall) -> NodeOutput:
        await asyncio.sleep(5)
        return NodeOutput()

    agents = {"slow": hang, "d": lambda call: NodeOutput(score=0.2)}
    graph = build_policy_graph(asynchronous=True)
    started = time.perf_counter()
    run = await arun_policy(graph, POLICY.select(profile(5)), {}, PolicyContext(agents=agents))
    assert time.perf_counter() - started < 2
    slow = [e for e in run.trace if e.node == "slow"][0]
    assert slow.status == "failed" and "timed out after 20 ms" in slow.reason


def test_async_agent_in_the_sync_graph_fails_cleanly() -> None:
    async def agent(call: AgentCall) -> NodeOutput:
        return NodeOutput()

    run = run_policy(build_policy_graph(), POLICY.select(profile(11)), {},
                     PolicyContext(agents={"a": agent}))  # fmt: skip
    assert run.statuses() == {"a": "failed"}
    assert "asynchronous=True" in run.trace[0].reason


async def test_async_review_interrupt_and_resume() -> None:
    graph = build_policy_graph(InMemorySaver(), asynchronous=True)
    context = PolicyContext(agents={"a": lambda call: NodeOutput(score=0.5)})
    pending = await arun_policy(
        graph, POLICY.select(profile(6)), {}, context, thread_id="policy-async"
    )
    assert pending.pending_review
    done = await aresume_policy(graph, "policy-async", ReviewDecision(action="reject"), context)
    assert done.review is not None and not done.order_allowed
