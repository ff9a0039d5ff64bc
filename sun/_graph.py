"""Wiring of the sun graph (the nodes are in :mod:`sun._nodes`).

ingest -> moons -> route -> (consult_inline: the in-process planets in one task; consult per
other planet; recall; in parallel via Send) -> settle
[-> consult the expanded planets -> settle] -> reason -> guard (+ gate) [-> review] -> propagate.
Each node reads the sun's :class:`SunContext` from ``runtime.context``. The fused shape (runs
without a checkpointer) runs the same nodes as prepare [-> other consults, recall] -> conclude.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from bus import TraceStep
from sun._consult import consult, consult_inline
from sun._context import SunContext
from sun._gate import after_gate, gate, review
from sun._nodes import (
    consult_tasks,
    fan_out,
    fan_out_others,
    guard_decision,
    ingest,
    moon_panel,
    propagate,
    reason,
    recall,
    route,
)
from sun._settle import after_settle, settle
from sun._state import InlineTask, SunState


def build_sun_graph(
    *,
    checkpointer: Any = None,
    name: str = "sun",
    bound_context: SunContext | None = None,
    fused: bool = False,
) -> Any:
    """Compile the sun graph; invoke it with ``context=SunContext(...)``.

    Args:
        checkpointer: A LangGraph checkpointer, or None for no persistence.
        name: The graph's name (in traces and Studio).
        bound_context: Bake this context in, for hosts that cannot pass one (LangGraph
            Studio / ``langgraph dev`` pass only JSON); the graph then has no context schema.
        fused: The same nodes fused into fewer supersteps (``prepare`` = ingest, moons,
            route and the in-process planets; then the other planets' consult tasks and
            recall, if any; ``conclude`` = settle, reason, guard, gate, review, propagate;
            when nothing else is consulted ``prepare`` concludes too, in one superstep): the
            same decision and trace with fewer LangGraph steps, for runs without a
            checkpointer (a checkpoint is only taken between supersteps, and a review
            interrupt would rerun the whole fused node; without a checkpointer the review
            node never interrupts).
    """
    builder = StateGraph(SunState, context_schema=None if bound_context else SunContext)
    builder.add_node("consult", _send_target(_traced("consult", consult)))
    builder.add_node("consult_inline", _send_target(consult_inline))  # a span per planet
    builder.add_node("recall", _send_target(_traced("recall", _timed("recall", recall))))
    consults = ["consult_inline", "consult", "recall"]
    if fused:
        builder.add_node("prepare", _prepare)
        builder.add_node("conclude", _conclude)
        builder.add_edge(START, "prepare")
        builder.add_conditional_edges("prepare", _after_prepare, ["consult", "recall", END])
        for node in consults:
            builder.add_edge(node, "conclude")
        builder.add_conditional_edges("conclude", _after_conclude, ["consult", END])
    else:
        for node, function in _STAGES.items():
            builder.add_node(node, function)
        builder.add_edge(START, "ingest")
        builder.add_edge("ingest", "moons")
        builder.add_edge("moons", "route")
        builder.add_conditional_edges("route", fan_out, consults)
        for node in consults:
            builder.add_edge(node, "settle")
        builder.add_conditional_edges("settle", after_settle, ["consult", "reason"])
        builder.add_edge("reason", "guard")
        builder.add_conditional_edges("guard", after_gate, ["review", "propagate"])
        builder.add_edge("review", "propagate")
        builder.add_edge("propagate", END)
    graph = builder.compile(checkpointer=checkpointer, name=name)
    if bound_context is None:
        return graph
    # A run's own (empty) context yields to the one seeded under this key: the seam LangGraph
    # keeps for hosts that set a graph's context outside the run (Runtime.merge).
    from langgraph._internal._constants import CONFIG_KEY_RUNTIME
    from langgraph.runtime import Runtime

    return graph.with_config(configurable={CONFIG_KEY_RUNTIME: Runtime(context=bound_context)})


def _guard_then_gate(state: SunState, runtime: Runtime[SunContext]) -> SunState:
    """The guard, then the gate on its decision, in one superstep (see :func:`gate`)."""
    update = _timed_guard(state, runtime)
    guarded: Any = {**state, **update, "trace": [*state.get("trace", []), *update["trace"]]}
    gated = gate(guarded, runtime)
    return {**update, **gated, "trace": [*update["trace"], *gated.get("trace", [])]}


def _send_target(node: Callable[..., SunState]) -> Any:
    """``node`` as given to ``add_node``: a Send target receives its task, not the graph state,
    which LangGraph's node types cannot express."""
    return node


def _traced(name: str, node: Callable[..., SunState]) -> Callable[..., SunState]:
    """``node`` in a ``sun.node.<name>`` span when the sun's telemetry is on."""
    span_name = f"sun.node.{name}"

    def run(state: Any, runtime: Runtime[SunContext]) -> SunState:
        telemetry = getattr(runtime.context, "telemetry", None)
        if telemetry is None:
            return node(state, runtime)
        with telemetry.node(span_name):
            return node(state, runtime)

    run.__name__ = getattr(node, "__name__", name)
    run.__doc__ = node.__doc__
    return run


T = TypeVar("T")
Why = Callable[[SunState], str]


def _route_why(update: SunState) -> str:
    return " > ".join(update["route"]["path"])


def _reason_why(update: SunState) -> str:
    reasoning = update["reasoning"]
    return f"{reasoning.reasoner} at level {reasoning.level}"


def _guard_why(update: SunState) -> str:
    rules = [c.rule for c in update["decision"].corrections]
    return f"corrected: {', '.join(rules)}" if rules else "no correction"


def _timed(
    name: str, node: Callable[[T, Runtime[SunContext]], SunState], why: Why | None = None
) -> Any:
    """``node`` adding one "ran" :class:`TraceStep` (its duration) to the decision's trace,
    ahead of the steps the node reports itself (e.g. the planets the route skipped).

    Returned as ``Any``, like :func:`_send_target`: a ``Callable`` type loses the parameter
    name ``runtime`` that LangGraph's node protocols match on."""

    @functools.wraps(node)
    def timed(state: T, runtime: Runtime[SunContext]) -> SunState:
        started = time.perf_counter()
        update = node(state, runtime)
        elapsed = (time.perf_counter() - started) * 1e3
        reason = why(update) if why is not None else ""
        step = TraceStep(node=name, status="ran", reason=reason, duration_ms=elapsed)
        return {**update, "trace": [step, *update.get("trace", [])]}

    return timed


_timed_guard = _timed("guard", guard_decision, _guard_why)


_INGEST = _traced("ingest", _timed("ingest", ingest))
_MOONS = _traced("moons", _timed("moons", moon_panel))
_ROUTE = _traced("route", _timed("route", route, _route_why))
_SETTLE = _traced("settle", settle)
_REASON = _traced("reason", _timed("reason", reason, _reason_why))
_GUARD = _traced("guard", _guard_then_gate)
_REVIEW = _traced("review", review)
_PROPAGATE = _traced("propagate", propagate)
_STAGES = {
    "ingest": _INGEST,
    "moons": _MOONS,
    "route": _ROUTE,
    "settle": _SETTLE,
    "reason": _REASON,
    "guard": _GUARD,
    "review": _REVIEW,
    "propagate": _PROPAGATE,
}
"""The stages of the full graph, one node each, in order."""

_ADDED = ("reports", "trace")
"""The state's fields whose reducer appends (``operator.add``); the others are replaced."""


class _Fusion:
    """Several nodes run in one: each sees the state as the previous ones left it, and the
    fused update is what their updates would have made of the state one superstep each."""

    def __init__(self, state: SunState) -> None:
        self.state: dict[str, Any] = dict(state)
        self.update: dict[str, Any] = {}

    def run(self, node: Callable[..., SunState], runtime: Runtime[SunContext]) -> None:
        update: dict[str, Any] = dict(node(cast(SunState, self.state), runtime))
        for key, value in update.items():
            if key in _ADDED:
                self.state[key] = [*self.state.get(key, ()), *value]
                self.update[key] = [*self.update.get(key, ()), *value]
            else:
                self.state[key] = self.update[key] = value


def _fused(*nodes: Callable[..., SunState]) -> Callable[..., SunState]:
    def run(state: SunState, runtime: Runtime[SunContext]) -> SunState:
        fusion = _Fusion(state)
        for node in nodes:
            fusion.run(node, runtime)
        return cast(SunState, fusion.update)

    return run


def _consult_in_process(state: SunState, runtime: Runtime[SunContext]) -> SunState:
    """``consult_inline`` on the routed in-process planets, as a step of ``prepare``."""
    tasks = consult_tasks(state, runtime.context, in_process=True)
    return consult_inline(InlineTask(planets=tasks), runtime) if tasks else {}


def _prepare(state: SunState, runtime: Runtime[SunContext]) -> SunState:
    """ingest, moons, route and the in-process planets; then, when no other planet's task
    and no recall is to run, ``conclude`` in the same superstep (one LangGraph step less:
    its tick, task preparation and write bookkeeping cost ~0.1-0.2 ms a decision)."""
    fusion = _Fusion(state)
    fusion.run(_PREPARED, runtime)
    if not _has_others(fusion.state, runtime.context):
        fusion.run(_conclude, runtime)
    return cast(SunState, fusion.update)


_PREPARED = _fused(_INGEST, _MOONS, _ROUTE, _consult_in_process)


def _has_others(state: Any, context: SunContext) -> bool:
    """Whether ``fan_out_others`` has a task: a routed planet not in process, or recall."""
    planets = context.planets
    return context.recaller is not None or any(
        not planets[name].in_process for name in state["route"]["planets"]
    )


def _after_prepare(state: SunState, runtime: Runtime[SunContext]) -> Any:
    """The other planets' ``consult`` tasks and ``recall`` (then ``conclude``); when
    ``prepare`` concluded itself, what follows ``conclude`` (expanded planets, or the end)."""
    if _has_others(state, runtime.context):
        return fan_out_others(state, runtime)
    return _after_conclude(state, runtime)


def _conclude(state: SunState, runtime: Runtime[SunContext]) -> SunState:
    """settle; then, unless it expands the planets: reason, guard and gate, [review,]
    propagate (the full graph's path after the planets, in one superstep)."""
    fusion = _Fusion(state)
    fusion.run(_SETTLE, runtime)
    if fusion.state.get("expand"):
        return cast(SunState, fusion.update)
    fusion.run(_REASON, runtime)
    fusion.run(_GUARD, runtime)
    if after_gate(cast(SunState, fusion.state)) == "review":
        fusion.run(_REVIEW, runtime)
    fusion.run(_PROPAGATE, runtime)
    return cast(SunState, fusion.update)


def _after_conclude(state: SunState, runtime: Runtime[SunContext]) -> Any:
    """``consult`` the planets a checkpoint expanded (then ``conclude`` again), or the end."""
    sends = after_settle(state, runtime)
    return END if sends == "reason" else sends
