"""The plan executor on LangGraph: schedule -> Send(run_node)* -> schedule ... [-> review].

``schedule`` folds finished nodes, evaluates checkpoints and picks the next ready nodes;
each is sent to ``run_node`` (all in one superstep, so they run in parallel). When nothing is
left, ``schedule`` turns the bookkeeping into a :class:`PolicyRun` (calling the alert sink on
ESCALATE); a HIL_REVIEW outcome goes to ``review``, which interrupts for a human.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.config import get_config
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Send, interrupt

from sun.policy._agent_call import acall_agent, call_agent
from sun.policy._outputs import outputs_of, plan_of, trusted_output
from sun.policy._policy import ResolvedPlan
from sun.policy._schedule import Control, advance, missing_required, start
from sun.policy._types import (
    REVIEW_KIND,
    Agent,
    AgentCall,
    Alert,
    AlertSink,
    Disposition,
    NodeOutput,
    PolicyRun,
    ReviewDecision,
    Usage,
)


def _monotonic_ms() -> float:
    return time.monotonic() * 1000.0


@dataclass(frozen=True)
class PolicyContext:
    """Run-scoped dependencies of the executor graph (LangGraph ``context_schema``).

    Attributes:
        agents: agent name -> callable; must cover every agent the plan uses.
        on_escalate: sink for escalation alerts (the integrator connects it to the bus).
        interrupt_on_review: interrupt for HIL_REVIEW (needs a checkpointer); if False the run
            ends with ``pending_review=True`` and no interrupt (batch evaluation).
        clock_ms: monotonic clock in milliseconds (inject a fake one in tests).
        default_timeout_ms: timeout of nodes whose plan sets none (None = no timeout).
    """

    agents: Mapping[str, Agent]
    on_escalate: AlertSink | None = None
    interrupt_on_review: bool = True
    clock_ms: Callable[[], float] = field(default=_monotonic_ms)
    default_timeout_ms: float | None = None


class PolicyState(TypedDict, total=False):
    """Graph state: the plan (data), decision inputs, node results, bookkeeping, outcome."""

    plan: dict[str, Any]
    inputs: dict[str, Any]
    results: Annotated[list[dict[str, Any]], operator.add]
    control: dict[str, Any]
    outcome: dict[str, Any]


class NodeTask(TypedDict):
    """What ``run_node`` receives through ``Send``."""

    node: str
    agent: str
    params: dict[str, Any]
    timeout_ms: float | None
    inputs: dict[str, Any]
    profile: dict[str, Any]
    outputs: dict[str, Any]


def schedule(state: PolicyState, runtime: Runtime[PolicyContext]) -> dict[str, Any]:
    """Fold results, settle checkpoints and skips, choose the next stage; at the end, the outcome.

    The outcome is built here (no extra superstep); an ESCALATE outcome goes to the alert sink.
    """
    plan = plan_of(state["plan"])
    context = runtime.context
    now = context.clock_ms()
    raw = state.get("control")
    control = Control.model_validate(raw) if raw else start(plan, now)
    control = advance(plan, control, state.get("results", []), now)
    if not control.done:
        return {"control": control.model_dump(mode="json")}
    run = build_run({**state, "control": control}, now, _thread_id(get_config()))
    if run.alert is not None and context.on_escalate is not None:
        context.on_escalate(run.alert)
    control.interrupt = run.pending_review and context.interrupt_on_review
    return {"control": control.model_dump(mode="json"), "outcome": run.model_dump(mode="json")}


def begin(state: PolicyState) -> list[Send] | str:
    """From START: dispatch the first stage if the caller already scheduled it, else schedule."""
    control = state.get("control")
    if not control or control["done"]:
        return "schedule"
    return dispatch(state)


def initial_state(
    resolved: ResolvedPlan, inputs: Mapping[str, Any], context: PolicyContext
) -> dict[str, Any]:
    """The graph input for one decision, with its first stage already scheduled.

    Scheduling the first stage here saves the graph one superstep; a plan that ends before
    any node runs is left to the ``schedule`` node (which builds the outcome).
    """
    data = resolved.model_dump(mode="json")
    state: dict[str, Any] = {"plan": data, "inputs": dict(inputs)}
    now = context.clock_ms()
    plan = plan_of(data)
    control = advance(plan, start(plan, now), [], now)
    if not control.done:
        state["control"] = control.model_dump(mode="json")
    return state


def dispatch(state: PolicyState) -> list[Send] | str:
    """Send every picked node to ``run_node``; when done, ``review`` or the end."""
    control = state["control"]
    if control["done"]:
        return "review" if control["interrupt"] else END
    plan = plan_of(state["plan"])
    nodes = {node.name: node for node in plan.plan.all_nodes()}
    outputs = {r["node"]: r["output"] for r in state.get("results", []) if r["status"] == "ran"}
    sends = []
    for name in control["dispatch"]:
        node = nodes[name]
        task = NodeTask(
            node=name, agent=node.agent_name, params=plan.params.get(name, {}),
            timeout_ms=node.timeout_ms or plan.plan.node_timeout_ms, inputs=state.get("inputs", {}),
            profile=plan.profile, outputs=outputs,
        )  # fmt: skip
        sends.append(Send("run_node", task))
    return sends


def _agent_call(task: NodeTask, context: PolicyContext) -> tuple[Agent | None, AgentCall]:
    call = AgentCall(
        node=task["node"], params=task["params"], inputs=task["inputs"], profile=task["profile"],
        outputs={k: trusted_output(v) for k, v in task["outputs"].items()},
    )  # fmt: skip
    return context.agents.get(task["agent"]), call


def _result(
    task: NodeTask, started: float, ended: float, output: NodeOutput | None, error: str | None
) -> dict[str, Any]:
    result = {
        "node": task["node"],
        "status": "ran" if error is None else "failed",
        "reason": error or "",
        "start_ms": started,
        "duration_ms": ended - started,
        "output": output.model_dump(mode="json") if output is not None else None,
    }
    return {"results": [result]}


def _missing(task: NodeTask) -> str:
    return f"no agent registered as {task['agent']!r}"


def run_node(state: NodeTask, runtime: Runtime[PolicyContext]) -> dict[str, Any]:
    """Run one agent; failures and timeouts become a ``failed`` result, never an exception."""
    context = runtime.context
    started = context.clock_ms()
    agent, call = _agent_call(state, context)
    timeout = state["timeout_ms"] or context.default_timeout_ms
    output, error = call_agent(agent, call, timeout) if agent else (None, _missing(state))
    return _result(state, started, context.clock_ms(), output, error)


async def arun_node(state: NodeTask, runtime: Runtime[PolicyContext]) -> dict[str, Any]:
    """Async :func:`run_node`: awaits async agents, runs sync ones in a worker thread."""
    context = runtime.context
    started = context.clock_ms()
    agent, call = _agent_call(state, context)
    timeout = state["timeout_ms"] or context.default_timeout_ms
    output, error = (await acall_agent(agent, call, timeout)) if agent else (None, _missing(state))
    return _result(state, started, context.clock_ms(), output, error)


async def abegin(state: PolicyState) -> list[Send] | str:
    """Async :func:`begin` (a sync router would be run in a worker thread)."""
    return begin(state)


async def adispatch(state: PolicyState) -> list[Send] | str:
    """Async :func:`dispatch`."""
    return dispatch(state)


async def aschedule(state: PolicyState, runtime: Runtime[PolicyContext]) -> dict[str, Any]:
    """Async :func:`schedule` (pure computation, run on the event loop)."""
    return schedule(state, runtime)


async def areview(state: PolicyState, runtime: Runtime[PolicyContext]) -> dict[str, Any]:
    """Async :func:`review`."""
    return review(state, runtime)


def review(state: PolicyState, runtime: Runtime[PolicyContext]) -> dict[str, Any]:
    """Interrupt with the decision, evidence and trace; resume with a :class:`ReviewDecision`."""
    run = PolicyRun.model_validate(state["outcome"])
    answer = interrupt({"kind": REVIEW_KIND, "run": run.model_dump(mode="json")})
    decided = run.model_copy(
        update={"pending_review": False, "review": ReviewDecision.model_validate(answer)}
    )
    return {"outcome": decided.model_dump(mode="json")}


def _thread_id(config: RunnableConfig) -> str | None:
    value = config.get("configurable", {}).get("thread_id")
    return str(value) if value is not None else None


def build_run(state: Mapping[str, Any], now_ms: float, thread_id: str | None = None) -> PolicyRun:
    """The run's outcome from its final state (also used for pending reviews)."""
    plan = plan_of(state["plan"])
    raw = state["control"]
    control = raw if isinstance(raw, Control) else Control.model_validate(raw)
    outputs = outputs_of(state.get("results", []))
    disposition: Disposition = "AUTO"
    reason, by = "plan complete", "plan"
    if control.stop is not None:
        disposition, reason, by = control.stop.disposition, control.stop.reason, control.stop.by
    missing = missing_required(plan, control)
    if disposition == "AUTO" and missing:
        disposition, by = plan.failure.then, "failure rule"
        reason = f"required node(s) {', '.join(missing)} did not run"
    decision_node = plan.plan.decision_node or next(
        (e.node for e in reversed(control.trace) if e.status == "ran"), None
    )
    usage = Usage(
        nodes_run=sum(1 for e in control.trace if e.status in ("ran", "failed")),
        llm_calls=sum(o.llm_calls for o in outputs.values()),
        tokens=sum(o.tokens for o in outputs.values()),
        elapsed_ms=now_ms - control.started_at,
    )
    alert = None
    if disposition == "ESCALATE":
        alert = Alert(policy=plan.policy, rule=plan.rule, reason=reason, thread_id=thread_id,
                      profile=plan.profile, trace=control.trace)  # fmt: skip
    return PolicyRun(
        policy=plan.policy, version=plan.version, rule=plan.rule, thread_id=thread_id,
        profile=plan.profile, disposition=disposition, reason=reason, decided_by=by,
        early_exit=control.stop is not None,
        decision=outputs.get(decision_node) if decision_node else None, outputs=outputs,
        trace=control.trace, checkpoints=control.checkpoints, usage=usage, alert=alert,
        pending_review=disposition == "HIL_REVIEW",
    )  # fmt: skip


def build_policy_graph(checkpointer: Any = None, *, asynchronous: bool = False) -> Any:
    """Compile the executor graph (one graph serves every plan: the plan is in the state).

    Args:
        checkpointer: a LangGraph checkpointer; needed for HIL_REVIEW interrupts and resume.
        asynchronous: build async nodes (use ``arun_policy``); parallel agents then run as
            asyncio tasks (async agents) or in the loop's reusable thread pool (sync agents).
    """
    graph = StateGraph(PolicyState, context_schema=PolicyContext)
    if asynchronous:
        graph.add_node("schedule", aschedule)
        graph.add_node("run_node", arun_node, input_schema=NodeTask)
        graph.add_node("review", areview)
    else:
        graph.add_node("schedule", schedule)
        graph.add_node("run_node", run_node, input_schema=NodeTask)
        graph.add_node("review", review)
    first, then = (abegin, adispatch) if asynchronous else (begin, dispatch)
    graph.add_conditional_edges(START, first, ["schedule", "run_node"])
    graph.add_conditional_edges("schedule", then, ["run_node", "review", END])
    graph.add_edge("run_node", "schedule")
    graph.add_edge("review", END)
    return graph.compile(checkpointer=checkpointer)
