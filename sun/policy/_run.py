"""Running one decision's plan on the executor graph, resuming a pending review, and reading
the :class:`PolicyRun` out of a finished or interrupted run."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from sun.policy._executor import PolicyContext, initial_state
from sun.policy._policy import ResolvedPlan
from sun.policy._types import REVIEW_KIND, PolicyRun, ReviewDecision

RUN_METADATA = {"heliarch_kind": "policy"}


def new_thread_id() -> str:
    """A fresh thread id for one decision (prefixed so review listings can find them)."""
    return f"policy-{uuid.uuid4().hex}"


def run_config(thread_id: str) -> RunnableConfig:
    """The LangGraph config of a decision's thread (metadata marks it as a policy run)."""
    return {"configurable": {"thread_id": thread_id}, "metadata": dict(RUN_METADATA)}


def run_policy(
    graph: Any,
    resolved: ResolvedPlan,
    inputs: Mapping[str, Any],
    context: PolicyContext,
    *,
    thread_id: str | None = None,
) -> PolicyRun:
    """Execute ``resolved`` for one decision; a pending review returns ``pending_review=True``.

    Args:
        graph: from :func:`build_policy_graph`.
        resolved: from ``Policy.select(profile)``.
        inputs: JSON-serializable decision inputs passed to every agent.
        context: agents and sinks.
        thread_id: checkpoint thread (required with a checkpointer; generated if None).
    """
    thread = thread_id or new_thread_id()
    state = initial_state(resolved, inputs, context)
    result = graph.invoke(state, run_config(thread), context=context)
    return outcome_of(result, thread)


async def arun_policy(
    graph: Any,
    resolved: ResolvedPlan,
    inputs: Mapping[str, Any],
    context: PolicyContext,
    *,
    thread_id: str | None = None,
) -> PolicyRun:
    """Async :func:`run_policy` (for a graph built with ``asynchronous=True``)."""
    thread = thread_id or new_thread_id()
    state = initial_state(resolved, inputs, context)
    result = await graph.ainvoke(state, run_config(thread), context=context)
    return outcome_of(result, thread)


async def aresume_policy(
    graph: Any, thread_id: str, review: ReviewDecision, context: PolicyContext
) -> PolicyRun:
    """Async :func:`resume_policy`."""
    result = await graph.ainvoke(
        Command(resume=review.model_dump(mode="json")), run_config(thread_id), context=context
    )
    return outcome_of(result, thread_id)


def resume_policy(
    graph: Any, thread_id: str, review: ReviewDecision, context: PolicyContext
) -> PolicyRun:
    """Answer a pending review (approve / reject / modify) and finish the run."""
    result = graph.invoke(
        Command(resume=review.model_dump(mode="json")), run_config(thread_id), context=context
    )
    return outcome_of(result, thread_id)


def outcome_of(result: Mapping[str, Any], thread_id: str) -> PolicyRun:
    """The :class:`PolicyRun` of an ``invoke`` result, finished or interrupted for review."""
    if "outcome" in result and not result.get("__interrupt__"):
        return PolicyRun.model_validate(result["outcome"])
    for item in result.get("__interrupt__", ()):
        value = getattr(item, "value", None)
        if isinstance(value, dict) and value.get("kind") == REVIEW_KIND:
            return PolicyRun.model_validate(value["run"])
    raise RuntimeError(f"policy run {thread_id} ended without an outcome")
