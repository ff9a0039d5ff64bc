"""The scheduler's pure logic: fold results, evaluate checkpoints, pick the next stage.

Kept apart from LangGraph so each rule (dependencies, skips, checkpoints, budget, failure
rule) is a small function over plain data.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

from sun.policy._cel import Compiled, compile_expression, evaluate
from sun.policy._model import Checkpoint, FailureRule, PlanNode, Then
from sun.policy._outputs import outputs_of, summarize
from sun.policy._policy import ResolvedPlan
from sun.policy._types import CheckpointRecord, Disposition, NodeOutput, TraceEntry

FINISHED = frozenset({"ran", "failed", "skipped"})
_DISPOSITION: dict[Then, Disposition] = {
    Then.DECIDE: "AUTO",
    Then.HIL_REVIEW: "HIL_REVIEW",
    Then.ESCALATE: "ESCALATE",
}


class Stop(BaseModel):
    """Why the run stops before (or at) the end of its plan."""

    disposition: Disposition
    reason: str
    by: str


class Control(BaseModel):
    """The scheduler's bookkeeping, carried in the graph state as a dict."""

    started_at: float
    stage: int = 0
    active: list[str] = Field(default_factory=list)
    status: dict[str, str] = Field(default_factory=dict)
    seen: int = 0
    evaluated: list[str] = Field(default_factory=list)
    checkpoints: list[CheckpointRecord] = Field(default_factory=list)
    trace: list[TraceEntry] = Field(default_factory=list)
    budget_skipped: list[str] = Field(default_factory=list)
    stop: Stop | None = None
    dispatch: list[str] = Field(default_factory=list)
    done: bool = False
    interrupt: bool = False


@functools.lru_cache(maxsize=4096)
def compiled(source: str) -> Compiled:
    """Compile ``source`` once per process (plans in state are plain data)."""
    return compile_expression(source)


def start(plan: ResolvedPlan, now_ms: float) -> Control:
    """Fresh bookkeeping: every plan node active, nothing run."""
    return Control(started_at=now_ms, active=[node.name for node in plan.plan.nodes])


def summary(outputs: dict[str, NodeOutput], control: Control, now_ms: float) -> dict[str, Any]:
    """Aggregates over scored outputs that checkpoint conditions read as ``summary``."""
    failed = sum(1 for s in control.status.values() if s == "failed")
    return summarize(outputs, failed=failed, elapsed_ms=now_ms - control.started_at)


def advance(
    plan: ResolvedPlan, control: Control, results: list[dict[str, Any]], now_ms: float
) -> Control:
    """One scheduler step: fold new results, then settle checkpoints/skips and pick a stage."""
    ctl = control.model_copy()
    ctl.dispatch = []
    _fold(plan, ctl, results[ctl.seen :])
    ctl.seen = len(results)
    outputs = outputs_of(results)
    _check_failures(plan, ctl)
    changed = True
    while changed and ctl.stop is None:
        context = {**plan.profile, "outputs": {k: o.cel_view() for k, o in outputs.items()},
                   "summary": summary(outputs, ctl, now_ms)}  # fmt: skip
        changed = _checkpoints(plan, ctl, context) or _skips(plan, ctl, context)
    _budget(plan, ctl, outputs, now_ms)
    if ctl.stop is not None:
        _skip_pending(plan, ctl, f"stopped: {ctl.stop.reason}")
    else:
        ctl.dispatch = _pick(plan, ctl, _ready(plan, ctl))
    if ctl.dispatch:
        ctl.stage += 1
        ctl.status.update({name: "running" for name in ctl.dispatch})
    else:
        ctl.done = True
    return ctl


def _fold(plan: ResolvedPlan, ctl: Control, new: list[dict[str, Any]]) -> None:
    for result in new:
        ctl.status[result["node"]] = result["status"]
        ctl.trace.append(
            TraceEntry(
                node=result["node"],
                status=result["status"],
                reason=result.get("reason", ""),
                stage=ctl.stage,
                start_ms=result["start_ms"] - ctl.started_at,
                duration_ms=result["duration_ms"],
            )  # fmt: skip
        )


def _nodes(plan: ResolvedPlan) -> dict[str, PlanNode]:
    return {node.name: node for node in plan.plan.all_nodes()}


def required_missing(
    failure: FailureRule,
    mandatory: Sequence[str],
    status: Mapping[str, str],
    budget_skipped: Collection[str],
    *,
    final: bool,
) -> list[str]:
    """Required nodes the failure rule counts as missing: those that failed or were cut by
    the budget; once the plan is over (``final``), also an explicitly required node that did
    not run. ``mandatory`` (the plan's non-optional nodes) is required when the rule names
    none."""
    explicit = failure.require is not None
    required = list(failure.require) if failure.require is not None else list(mandatory)
    if final and explicit:
        return [n for n in required if status.get(n) != "ran"]
    return [n for n in required if status.get(n) == "failed" or n in budget_skipped]


def _mandatory(plan: ResolvedPlan) -> list[str]:
    return [n.name for n in plan.plan.nodes if not n.optional]


def _check_failures(plan: ResolvedPlan, ctl: Control) -> None:
    missing = required_missing(
        plan.failure, _mandatory(plan), ctl.status, ctl.budget_skipped, final=False
    )
    if missing:
        name = missing[0]
        why = "failed" if ctl.status.get(name) == "failed" else "was cut by the budget"
        ctl.stop = Stop(disposition=plan.failure.then, by="failure rule",
                        reason=f"required node {name!r} {why}")  # fmt: skip


def missing_required(plan: ResolvedPlan, ctl: Control) -> list[str]:
    """Required nodes that did not run as the failure rule demands."""
    return required_missing(
        plan.failure, _mandatory(plan), ctl.status, ctl.budget_skipped, final=True
    )


def _finished(ctl: Control, name: str) -> bool:
    return name not in ctl.active or ctl.status.get(name) in FINISHED


def _checkpoints(plan: ResolvedPlan, ctl: Control, context: dict[str, Any]) -> bool:
    changed = False
    for checkpoint in plan.plan.checkpoints:
        if checkpoint.name in ctl.evaluated or not all(_finished(ctl, n) for n in checkpoint.after):
            continue
        ctl.evaluated.append(checkpoint.name)
        fired, detail = _holds(checkpoint.when, context)
        ctl.checkpoints.append(CheckpointRecord(name=checkpoint.name, fired=fired,
                               then=checkpoint.then.value, stage=ctl.stage, detail=detail))  # fmt: skip
        if fired:
            changed = True
            _fire(plan, ctl, checkpoint)
            if ctl.stop is not None:
                return True
    return changed


def _fire(plan: ResolvedPlan, ctl: Control, checkpoint: Checkpoint) -> None:
    reason = checkpoint.reason or f"{checkpoint.when} held"
    if checkpoint.then is Then.EXPAND:
        for name in checkpoint.expand:
            if name not in ctl.active:
                ctl.active.append(name)
                ctl.trace.append(TraceEntry(node=name, status="expanded", stage=ctl.stage,
                                            reason=f"checkpoint {checkpoint.name}: {reason}"))  # fmt: skip
        return
    ctl.stop = Stop(
        disposition=_DISPOSITION[checkpoint.then], reason=reason, by=f"checkpoint {checkpoint.name}"
    )


def _holds(source: str, context: dict[str, Any]) -> tuple[bool, str]:
    try:
        return evaluate(compiled(source), context) is True, ""
    except Exception as error:
        return False, f"condition error (treated as false): {error}"


def _ready(plan: ResolvedPlan, ctl: Control) -> list[PlanNode]:
    nodes = _nodes(plan)
    return [
        nodes[name]
        for name in ctl.active
        if name not in ctl.status and all(_finished(ctl, d) for d in nodes[name].depends_on)
    ]


def _skips(plan: ResolvedPlan, ctl: Control, context: dict[str, Any]) -> bool:
    changed = False
    for node in _ready(plan, ctl):
        if node.skip_if is None:
            continue
        skip, detail = _holds(node.skip_if, context)
        if skip:
            _mark_skipped(ctl, node.name, node.skip_reason or f"skip_if {node.skip_if} held")
            changed = True
    return changed


def _mark_skipped(ctl: Control, name: str, reason: str) -> None:
    ctl.status[name] = "skipped"
    ctl.trace.append(TraceEntry(node=name, status="skipped", reason=reason, stage=ctl.stage))


def _budget(
    plan: ResolvedPlan, ctl: Control, outputs: dict[str, NodeOutput], now_ms: float
) -> None:
    if ctl.stop is not None:
        return
    budget = plan.budget
    nodes = _nodes(plan)
    pending = [n for n in ctl.active if n not in ctl.status]
    if budget.latency_ms is not None and now_ms - ctl.started_at > budget.latency_ms:
        for name in pending:
            _mark_skipped(ctl, name, f"budget: latency over {budget.latency_ms:g} ms")
            ctl.budget_skipped.append(name)
        _check_failures(plan, ctl)
        return
    calls = sum(o.llm_calls for o in outputs.values())
    tokens = sum(o.tokens for o in outputs.values())
    over = (budget.llm_calls is not None and calls >= budget.llm_calls) or (
        budget.tokens is not None and tokens >= budget.tokens
    )
    llm_agents = plan_llm_agents(plan)
    if over:
        for name in pending:
            if nodes[name].agent_name in llm_agents:
                _mark_skipped(ctl, name, f"budget: {calls} LLM calls / {tokens} tokens used")
                ctl.budget_skipped.append(name)
        _check_failures(plan, ctl)


def plan_llm_agents(plan: ResolvedPlan) -> frozenset[str]:
    """Agents of the policy that call an LLM."""
    return frozenset(plan.llm_agents)


def _skip_pending(plan: ResolvedPlan, ctl: Control, reason: str) -> None:
    for name in ctl.active:
        if name not in ctl.status:
            _mark_skipped(ctl, name, reason)


def _pick(plan: ResolvedPlan, ctl: Control, ready: list[PlanNode]) -> list[str]:
    groups = {name: group for group in plan.plan.groups for name in group.nodes}
    taken: dict[str, int] = {}
    picked: list[str] = []
    for node in ready:
        if len(picked) >= plan.plan.max_parallel:
            break
        group = groups.get(node.name)
        if group is not None:
            if taken.get(group.name, 0) >= group.max_parallel:
                continue
            taken[group.name] = taken.get(group.name, 0) + 1
        picked.append(node.name)
    return picked
