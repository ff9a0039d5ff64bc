"""Wiring of the sun graph (the nodes are in :mod:`sun._nodes`).

ingest -> moons -> route -> (consult per planet + recall, in parallel via Send) -> settle
[-> consult the expanded planets -> settle] -> reason -> guard (+ gate) [-> review] -> propagate.
Each node reads the sun's :class:`SunContext` from ``runtime.context``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from bus import TraceStep
from sun._context import SunContext
from sun._gate import after_gate, gate, review
from sun._nodes import (
    consult,
    fan_out,
    guard_decision,
    ingest,
    moon_panel,
    propagate,
    reason,
    recall,
    route,
)
from sun._settle import after_settle, settle
from sun._state import SunState


def build_sun_graph(
    *, checkpointer: Any = None, name: str = "sun", bound_context: SunContext | None = None
) -> Any:
    """Compile the sun graph; invoke it with ``context=SunContext(...)``.

    Args:
        checkpointer: A LangGraph checkpointer, or None for no persistence.
        name: The graph's name (in traces and Studio).
        bound_context: Bake this context in, for hosts that cannot pass one (LangGraph
            Studio / ``langgraph dev`` pass only JSON); the graph then has no context schema.
    """
    builder = StateGraph(SunState, context_schema=None if bound_context else SunContext)
    builder.add_node("ingest", _traced("ingest", _timed("ingest", ingest)))
    builder.add_node("moons", _traced("moons", _timed("moons", moon_panel)))
    builder.add_node("route", _traced("route", _timed("route", route, _route_why)))
    builder.add_node("consult", _send_target(_traced("consult", consult)))
    builder.add_node("recall", _send_target(_traced("recall", _timed("recall", recall))))
    builder.add_node("reason", _traced("reason", _timed("reason", reason, _reason_why)))
    builder.add_node("guard", _traced("guard", _guard_then_gate))
    builder.add_node("settle", _traced("settle", settle))
    builder.add_node("review", _traced("review", review))
    builder.add_node("propagate", _traced("propagate", propagate))
    builder.add_edge(START, "ingest")
    builder.add_edge("ingest", "moons")
    builder.add_edge("moons", "route")
    builder.add_conditional_edges("route", fan_out, ["consult", "recall"])
    builder.add_edge("consult", "settle")
    builder.add_edge("recall", "settle")
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
