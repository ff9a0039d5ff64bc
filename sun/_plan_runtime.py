"""A policy plan's run-time rules inside the sun graph, beside its checkpoints:

- **failure rule** (``failure: {require, then}``): a required node that failed (a planet that
  raised or timed out, every model level failing) or was cut by the budget stops the plan with
  ``then`` (ESCALATE or HIL_REVIEW); at the end, an explicitly required node that did not run
  at all does too. It never loosens a stop already taken (ESCALATE outranks HIL_REVIEW
  outranks AUTO), and risk still supersedes: an ESCALATE holds the position through the guard.
- **budget** (``budget: {llm_calls, tokens, latency_ms}``): caps this decision's model calls
  (repairs and backup levels included) in the sun's ledger; no call starts once the latency
  budget is spent, and a budget that allows no call skips the LLM (the quant reasoner decides).
- **run-time ``skip_if``**: a planet node whose condition reads ``outputs`` or ``summary``
  waits for the planets it depends on, then runs or is skipped with its reason; the LLM
  node's run-time condition is read once every planet has reported.
- **``max_parallel`` and groups**: the planets dispatched at once stay within the plan's cap
  and each group's; the in-process planets run one after another in one task (one slot). The
  rest wait for a later wave, like deferred nodes.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from bus import TraceStep
from sun._context import SunContext
from sun._policy_router import PolicyRouter
from sun._reasoning import Source
from sun.mesh import BudgetLimits
from sun.policy import PlanNode, Policy, Rule, required_missing
from sun.resilience import COUNCIL

RANK = {"AUTO": 0, "HIL_REVIEW": 1, "ESCALATE": 2}
BUDGET_SKIP = "skipped: budget: "
Stop = dict[str, str]


def policy_of(context: SunContext) -> Policy | None:
    """The policy driving ``context``'s router, if any."""
    router = context.orchestration.router
    return router.policy if isinstance(router, PolicyRouter) else None


def routed_rule(context: SunContext, route: Mapping[str, Any]) -> tuple[Policy, Rule] | None:
    """The policy and the rule that chose ``route`` (None: no policy router)."""
    policy = policy_of(context)
    name = route.get("rule")
    if policy is None or not name:
        return None
    return policy, next(rule for rule in policy.doc.rules if rule.name == name)


def clock_of(context: SunContext) -> Callable[[], float]:
    """The clock a decision's latency budget is read on (the ledger's)."""
    return context.budget.config.clock if context.budget is not None else time.time


def outranks(new: Stop | None, old: Stop | None) -> bool:
    """Whether stop ``new`` is stricter than ``old`` (None: no stop)."""
    if new is None:
        return False
    return old is None or RANK[new["disposition"]] > RANK[old["disposition"]]


# -- failure rule ------------------------------------------------------------------------


def planet_statuses(trace: Iterable[TraceStep]) -> dict[str, str]:
    """Per planet: ``ran`` or ``failed`` if it was consulted, else ``skipped``."""
    statuses: dict[str, str] = {}
    for step in trace:
        if not step.node.startswith("consult:"):
            continue
        planet = step.node.removeprefix("consult:")
        if step.status in ("ran", "failed"):
            statuses[planet] = step.status
        elif step.status == "skipped":
            statuses.setdefault(planet, "skipped")
    return statuses


def reasoner_status(reasoning: Source) -> tuple[str, bool]:
    """The LLM node's status and whether the budget cut it: skipped by the plan or the
    budget, failed when every model level failed (the council decided), else ran."""
    errors = [attempt.error or "" for attempt in reasoning.attempts]
    cut = any(e.startswith(BUDGET_SKIP) or "budget exhausted" in e for e in errors)
    if reasoning.level == "policy":
        return "skipped", cut
    if reasoning.reasoner == COUNCIL:
        return "failed", cut
    return "ran", False


def failure_stop(
    policy: Policy,
    rule: Rule,
    trace: Iterable[TraceStep],
    reasoning: Source | None = None,
) -> Stop | None:
    """The failure rule's stop, if a required node is missing. Before the reasoner has run
    (``reasoning`` None) only failed or budget-cut nodes count; after it, the plan is over."""
    by_planet = planet_statuses(trace)
    agents = policy.doc.agents
    status: dict[str, str] = {}
    cut: set[str] = set()
    for node in rule.plan.all_nodes():
        spec = agents.get(node.agent_name)
        if spec is None:
            continue
        if spec.kind == "planet" and node.agent_name in by_planet:
            status[node.name] = by_planet[node.agent_name]
        elif spec.llm and reasoning is not None:
            status[node.name], was_cut = reasoner_status(reasoning)
            if was_cut:
                cut.add(node.name)
    failure = rule.plan.failure or policy.doc.failure
    mandatory = [node.name for node in rule.plan.nodes if not node.optional]
    missing = required_missing(failure, mandatory, status, cut, final=reasoning is not None)
    if not missing:
        return None
    whys = [f"{name} {_why(status.get(name), name in cut)}" for name in missing]
    return {"disposition": failure.then, "reason": "required " + ", ".join(whys),
            "by": "failure rule"}  # fmt: skip


def _why(status: str | None, cut: bool) -> str:
    if cut:
        return "was cut by the budget"
    return {"failed": "failed"}.get(status or "", "did not run")


# -- budget --------------------------------------------------------------------------------


def decision_cap(
    context: SunContext, state: Mapping[str, Any]
) -> tuple[BudgetLimits | None, float | None, str | None]:
    """The routed plan's budget for this decision: the call/token cap, the deadline on
    :func:`clock_of`, and why no model may be called at all (None: it may)."""
    chosen = routed_rule(context, state.get("route", {}))
    if chosen is None:
        return None, None, None
    policy, rule = chosen
    budget = rule.plan.budget or policy.doc.budget
    cap = None
    if budget.llm_calls is not None or budget.tokens is not None:
        cap = BudgetLimits(calls=budget.llm_calls, tokens=budget.tokens)
    started = state.get("started_at")
    deadline = None
    if budget.latency_ms is not None and started is not None:
        deadline = started + budget.latency_ms / 1e3
    if budget.llm_calls == 0 or budget.tokens == 0:
        return cap, deadline, f"{BUDGET_SKIP}the plan's budget allows no LLM call"
    if deadline is not None and clock_of(context)() > deadline:
        return cap, deadline, f"{BUDGET_SKIP}latency over {budget.latency_ms:g} ms"
    return cap, deadline, None


# -- run-time skip_if ------------------------------------------------------------------------


def skip_holds(policy: Policy, node: PlanNode, view: Mapping[str, Any]) -> tuple[bool, str]:
    """``node``'s ``skip_if`` over ``view`` and the reason to record (an error: not skipped)."""
    if node.skip_if is None:  # waited only for a free slot
        return False, ""
    try:
        held = policy.value_of(node.skip_if, view) is True
    except Exception as error:  # recorded; the node runs (a broken skip never drops a node)
        return False, f"skip_if error (treated as false): {error}"
    return held, (node.skip_reason or f"skip_if [{node.skip_if}]") if held else ""


def pending_deferred(route: Mapping[str, Any], checked: Iterable[str]) -> list[str]:
    """Deferred plan nodes whose run-time ``skip_if`` is not decided yet."""
    done = set(checked)
    return [node for node in route.get("deferred", {}) if f"skip:{node}" not in done]


def resolve_deferred(
    policy: Policy, rule: Rule, route: Mapping[str, Any], view: Mapping[str, Any],
    checked: list[str], stop: Stop | None,
) -> tuple[list[dict[str, Any]], list[TraceStep], list[str]]:  # fmt: skip
    """Decide the deferred nodes whose dependencies are done: the planets to consult now,
    the trace steps, and the names to add to ``checked``."""
    pending = pending_deferred(route, checked)
    nodes = {node.name: node for node in rule.plan.all_nodes()}
    expand: list[dict[str, Any]] = []
    steps: list[TraceStep] = []
    marks: list[str] = []
    consulted = set(route.get("planets", ()))
    slots = _Slots(rule)
    for name in pending:
        node = nodes.get(name) or PlanNode(name=name)
        planet, params = route["deferred"][name]
        if stop is not None:
            why = f"stopped: {stop['reason']}"
        elif any(dep in pending for dep in node.depends_on):
            continue
        elif planet in consulted:
            why = f"{name}: already consulted"
        elif not slots.take(name):
            continue  # no free slot in this wave
        else:
            held, why = skip_holds(policy, node, view)
            if not held:
                consulted.add(planet)
                if node.skip_if is None:
                    why = "its turn: a slot is free"
                else:
                    why = f"run-time skip_if did not hold{_note(why)}"
                expand.append({"planet": planet, "params": dict(params), "node": name})
                marks.append(f"skip:{name}")
                steps.append(TraceStep(node=f"consult:{planet}", status="expanded",
                                       reason=f"{name}: {why}"))  # fmt: skip
                continue
        marks.append(f"skip:{name}")
        steps.append(TraceStep(node=f"consult:{planet}", status="skipped", reason=why))
    return expand, steps, marks


def _note(detail: str) -> str:
    return f" ({detail})" if detail else ""


def llm_skip(policy: Policy, rule: Rule, view: Mapping[str, Any]) -> str | None:
    """Why the plan's LLM node is skipped by its run-time ``skip_if`` (None: it runs)."""
    for node in rule.plan.all_nodes():
        spec = policy.doc.agents.get(node.agent_name)
        if spec is None or not spec.llm or not node.skip_if:
            continue
        if not policy.reads_run_time(node.skip_if):
            continue
        held, why = skip_holds(policy, node, view)
        if held:
            return f"skipped: {node.name}: {why}"
    return None


# -- max_parallel and groups ------------------------------------------------------------------


class _Slots:
    """Free slots of one wave: the plan's ``max_parallel`` and each group's cap."""

    def __init__(self, rule: Rule, used: int = 0) -> None:
        self.free = rule.plan.max_parallel - used
        self.groups = {node: group for group in rule.plan.groups for node in group.nodes}
        self.taken: Counter[str] = Counter()

    def take(self, node: str) -> bool:
        """Take a slot for ``node`` if one is free (in the plan and in its group)."""
        group = self.groups.get(node)
        if self.free <= 0 or (group is not None and self.taken[group.name] >= group.max_parallel):
            return False
        self.free -= 1
        if group is not None:
            self.taken[group.name] += 1
        return True


def first_wave(
    context: SunContext, route: dict[str, Any]
) -> tuple[dict[str, Any], list[TraceStep]]:
    """``route`` with the planets beyond the plan's slots deferred to later waves, and the
    trace steps saying so. In-process planets share one task: one slot, never deferred."""
    chosen = routed_rule(context, route)
    if chosen is None:
        return route, []
    _, rule = chosen
    planets = route["planets"]
    own_task = [p for p in planets if not getattr(context.planets[p], "in_process", False)]
    slots = _Slots(rule, used=1 if len(own_task) < len(planets) else 0)
    node_of = {planet: node for node, planet in route["nodes"].items()}
    waiting = [p for p in own_task if not slots.take(node_of.get(p, p))]
    if not waiting:
        return route, []
    deferred = dict(route.get("deferred", {}))
    for planet in waiting:
        deferred[node_of.get(planet, planet)] = (planet, dict(route["params"].get(planet, {})))
    why = f"deferred: max_parallel {rule.plan.max_parallel} (or its group's cap) reached"
    steps = [TraceStep(node=f"consult:{p}", status="skipped", reason=why) for p in waiting]
    kept = {n: p for n, p in route["nodes"].items() if p not in waiting}
    return {
        **route, "planets": tuple(p for p in planets if p not in waiting), "nodes": kept,
        "deferred": deferred,
    }, steps  # fmt: skip
