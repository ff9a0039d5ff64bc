"""The policy's stages before the reasoner in the sun graph: the rule's ``after: []``
checkpoints when the route is chosen, then ``settle`` after each wave of planets (the failure
rule, DECIDE / EXPAND / HIL_REVIEW / ESCALATE checkpoints, deferred run-time skips) and the
expanded planets it sends back to ``consult``. The stages after the guard are in
:mod:`sun._gate`; the run-time rules in :mod:`sun._plan_runtime`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Send

from bus import TraceStep
from sun._checkpoints import Hit, at_stage, checkpoint_step, condition_view, evaluate
from sun._context import SunContext
from sun._plan_runtime import (
    failure_stop,
    llm_skip,
    outranks,
    pending_deferred,
    policy_of,
    resolve_deferred,
    routed_rule,
)
from sun._state import ConsultTask, SunState
from sun._view import planet_context


def start_stage(route: dict[str, Any], context: SunContext) -> SunState:
    """The rule's ``after: []`` checkpoints, before any planet runs (expansions join the
    route)."""
    policy = policy_of(context)
    if policy is None or not route.get("rule"):
        return {}
    view = condition_view(route["profile"], (), route["nodes"], context.directional)
    hits = evaluate(policy, at_stage(policy, route["rule"], "start"), view)
    update = _applied(hits, route, context, [], reported=False)
    update.pop("expand")  # consulted with the route's planets (its params say how)
    return update


def settle(state: SunState, runtime: Runtime[SunContext]) -> SunState:
    """What follows each wave of planets: the failure rule, then the checkpoints whose nodes
    have reported (DECIDE: no LLM, EXPAND: more planets, a HIL_REVIEW or ESCALATE stop), then
    the deferred nodes' run-time ``skip_if``; once nothing is left to consult, the LLM node's
    run-time ``skip_if``. Runs again after every expansion."""
    context, route = runtime.context, state["route"]
    chosen = routed_rule(context, route)
    if chosen is None:
        return {"expand": []}
    policy, rule = chosen
    stop = state.get("stop")
    failed = failure_stop(policy, rule, state.get("trace", []))
    if outranks(failed, stop):
        assert failed is not None
        why = f"-> {failed['disposition']}: {failed['reason']}"
        stop, steps = failed, [TraceStep(node="failure_rule", status="ran", reason=why)]
        checked = list(state.get("checked", []))
        _, skips, marks = resolve_deferred(policy, rule, route, {}, checked, stop)
        return {"stop": stop, "expand": [], "checked": [*checked, *marks],
                "trace": [*steps, *skips]}  # fmt: skip
    checked = list(state.get("checked", []))
    view = condition_view(
        route["profile"], state.get("reports", []), route["nodes"], context.directional
    )
    update: SunState = {"expand": []}
    if stop is None:
        waiting = set(pending_deferred(route, checked))
        ready = [c for c in at_stage(policy, rule.name, "planets") if not set(c.after) & waiting]
        hits = evaluate(policy, ready, view, checked)
        if hits:
            update = _applied(hits, route, context, checked, reported=True)
            stop, checked, route = update["stop"], update["checked"], update["route"]
    if update["expand"]:
        return update  # deferred nodes wait for the expansion's reports
    run, skips, marks = resolve_deferred(policy, rule, route, view, checked, stop)
    update["trace"] = [*update.get("trace", []), *skips]
    update["checked"] = [*checked, *marks]
    update["route"] = _consulting(route, run)
    update["expand"] = run
    if not run and stop is None and not pending_deferred(route, update["checked"]):
        skip_llm = llm_skip(policy, rule, view)
        if skip_llm is not None:
            update["route"] = {**update["route"], "llm": False, "llm_skip": skip_llm}
    return update


def _consulting(route: dict[str, Any], run: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """``route`` with the deferred nodes in ``run`` among its consulted planets."""
    if not run:
        return route
    nodes = {**route["nodes"], **{item["node"]: item["planet"] for item in run}}
    planets = (*route["planets"], *(item["planet"] for item in run))
    return {**route, "nodes": nodes, "planets": planets}


def _applied(
    hits: Sequence[Hit],
    route: dict[str, Any],
    context: SunContext,
    checked: list[str],
    *,
    reported: bool,
) -> SunState:
    """The fired checkpoints' stop and expansions. An expanded planet already on the route
    with the same parameters is skipped; with other parameters it is asked again once the
    route's planets have ``reported`` (its new report replaces the old), or before that
    simply consulted with them."""
    steps = [checkpoint_step(hit) for hit in hits]
    stop = next((hit.stop for hit in hits if hit.stop is not None), None)
    nodes, consulted = dict(route["nodes"]), set(route["planets"])
    expand: list[dict[str, Any]] = []
    for hit in hits:
        for node in hit.expand if hit.fired else ():
            planet, params = route["expansions"].get(node, (None, {}))
            if planet is None or planet not in context.planets:
                steps.append(TraceStep(node=f"consult:{planet or node}", status="skipped",
                                       reason=f"expansion {node}: no such planet"))  # fmt: skip
                continue
            nodes[node] = planet
            held = dict(route["params"].get(planet) or {})
            asked = {**held, **dict(params)}
            on_route = planet in consulted
            if on_route and asked == held:
                steps.append(TraceStep(node=f"consult:{planet}", status="skipped",
                                       reason=f"expansion {node}: already consulted"))  # fmt: skip
                continue
            consulted.add(planet)
            again = on_route and reported
            why = f"checkpoint {hit.name}: {hit.reason}"
            if on_route:  # other parameters (e.g. a wider window)
                why += f" (expansion {node} with {params}"
                why += ": replaces its report)" if again else ")"
            steps.append(TraceStep(node=f"consult:{planet}", status="expanded", reason=why))
            expand.append({"planet": planet, "params": asked, "again": again})
    added = tuple(item["planet"] for item in expand if item["planet"] not in route["planets"])
    params = {**route["params"], **{item["planet"]: item["params"] for item in expand}}
    return {
        "stop": stop,
        "checked": [*checked, *(hit.name for hit in hits)],
        "route": {
            **route,
            "nodes": nodes,
            "planets": (*route["planets"], *added),
            "params": params,
        },  # fmt: skip
        "expand": expand,
        "trace": steps,
    }


def after_settle(state: SunState, runtime: Runtime[SunContext]) -> list[Send] | str:
    """``consult`` the expanded planets (then ``settle`` again), or go on to ``reason``."""
    expand = state.get("expand") or []
    if not expand:
        return "reason"
    shared = planet_context(state, runtime.context)
    return [
        Send(
            "consult",
            ConsultTask(
                planet=item["planet"],
                context=_with(shared, item["params"]),
                again=item.get("again", False),
            ),
        )  # fmt: skip
        for item in expand
    ]


def _with(shared: Any, params: Mapping[str, Any]) -> Any:
    return replace(shared, params=dict(params)) if params else shared
