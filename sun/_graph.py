"""Wiring of the sun graph (the nodes are in :mod:`sun._nodes`).

ingest -> moons -> route -> (consult per planet + recall, in parallel via Send) -> reason ->
guard -> propagate. Each node reads the sun's :class:`SunContext` from ``runtime.context``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from sun._context import SunContext
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
    builder.add_node("ingest", _traced("ingest", ingest))
    builder.add_node("moons", _traced("moons", moon_panel))
    builder.add_node("route", _traced("route", route))
    builder.add_node("consult", _send_target(_traced("consult", consult)))
    builder.add_node("recall", _send_target(_traced("recall", recall)))
    builder.add_node("reason", _traced("reason", reason))
    builder.add_node("guard", _traced("guard", guard_decision))
    builder.add_node("propagate", _traced("propagate", propagate))
    builder.add_edge(START, "ingest")
    builder.add_edge("ingest", "moons")
    builder.add_edge("moons", "route")
    builder.add_conditional_edges("route", fan_out, ["consult", "recall"])
    builder.add_edge("consult", "reason")
    builder.add_edge("recall", "reason")
    builder.add_edge("reason", "guard")
    builder.add_edge("guard", "propagate")
    builder.add_edge("propagate", END)
    graph = builder.compile(checkpointer=checkpointer, name=name)
    if bound_context is None:
        return graph
    # A run's own (empty) context yields to the one seeded under this key: the seam LangGraph
    # keeps for hosts that set a graph's context outside the run (Runtime.merge).
    from langgraph._internal._constants import CONFIG_KEY_RUNTIME
    from langgraph.runtime import Runtime

    return graph.with_config(configurable={CONFIG_KEY_RUNTIME: Runtime(context=bound_context)})


def _send_target(node: Callable[..., SunState]) -> Any:
    """``node`` as given to ``add_node``: a Send target receives its task, not the graph state,
    which LangGraph's node types cannot express."""
    return node


def _traced(name: str, node: Callable[..., SunState]) -> Callable[..., SunState]:
    """``node`` in a ``sun.node.<name>`` span when the sun's telemetry is on."""

    def run(state: Any, runtime: Runtime[SunContext]) -> SunState:
        telemetry = getattr(runtime.context, "telemetry", None)
        if telemetry is None:
            return node(state, runtime)
        with telemetry.span(f"sun.node.{name}"):
            return node(state, runtime)

    run.__name__ = getattr(node, "__name__", name)
    run.__doc__ = node.__doc__
    return run
