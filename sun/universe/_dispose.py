"""The routed plan's failure rule over a universe pass, as the graph's gate applies it.

A required planet that failed for an instrument (it raised or timed out, in its batch or
asked alone), or a required LLM node whose every model level failed, gives that instrument's
decision the rule's disposition: ESCALATE holds its position through the guard, sends no
order and raises an alert (to the sun's ``alert_sink``); HIL_REVIEW leaves it pending with no
order (a universe pass has no checkpointer to wait in). Every other instrument is untouched.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from bus import SunDecision, TraceStep
from sun._context import SunContext
from sun._gate import dispose
from sun._plan_runtime import failure_stop, routed_rule
from sun._reasoning import Reasoning


def consult_steps(planets: Collection[str], failed: Mapping[str, str]) -> list[TraceStep]:
    """One consult step per routed planet: ``failed`` (with the error) or ``ran``."""
    return [
        TraceStep(node=f"consult:{name}", status="failed", reason=failed[name])
        if name in failed
        else TraceStep(node=f"consult:{name}", status="ran")
        for name in planets
    ]


def apply_failure_rule(
    decision: SunDecision,
    route: Mapping[str, Any],
    failed: Mapping[str, str],
    reasoning: Reasoning,
    position: float,
    context: SunContext,
) -> SunDecision:
    """``decision`` disposed by its plan's failure rule (unchanged when nothing is missing)."""
    chosen = routed_rule(context, {"rule": route["rule"]})
    if chosen is None:
        return decision
    steps = consult_steps(route["planets"], failed)
    stop = failure_stop(*chosen, steps, reasoning)
    if stop is None:
        return decision
    why = f"-> {stop['disposition']}: {stop['reason']}"
    trace = (*steps, TraceStep(node="failure_rule", status="ran", reason=why))
    path = {"path": route["path"], "rule": route["rule"]}
    disposed = dispose(decision, stop, position=position, route=path, context=context,
                       trace=trace)  # fmt: skip
    disposed = disposed.model_copy(update={"order_intent": None, "trace": trace})
    if disposed.alert is not None and context.alert_sink is not None:
        context.alert_sink(disposed.alert)
    return disposed
