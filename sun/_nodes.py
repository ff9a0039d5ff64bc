"""The sun graph's nodes: plain functions of (state, runtime), ``runtime.context`` being the
sun's :class:`SunContext`. Wiring is in :mod:`sun._graph`.

ingest -> moons -> route -> (consult_inline for the in-process planets, consult per other
planet, recall; in parallel via Send) -> settle -> reason -> guard -> gate [-> review] ->
propagate (the policy stages are in :mod:`sun._gate`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Send

from bus import MarketSnapshot, SunDecision, TraceStep
from planets import PlanetContext
from sun._context import SunContext
from sun._guard import guard
from sun._panel import compute_panel
from sun._plan_runtime import clock_of, first_wave
from sun._reason import decide_reasoning, sorted_reports
from sun._reasoning import EMERGENCY
from sun._request import check_position, parse_request
from sun._settle import start_stage
from sun._sizing import size_by_confidence
from sun._state import ConsultTask, InlineTask, RecallTask, SunState
from sun._view import planet_context, recent_view


def ingest(state: SunState, runtime: Runtime[SunContext]) -> SunState:
    """Validate the input (a snapshot, or a JSON request naming a CSV) and pick the instrument."""
    snapshot = state.get("snapshot")
    position = state.get("position", 0.0)
    instrument = state.get("instrument")
    if snapshot is None:
        request = parse_request({"position": position, **(state.get("request") or {})})
        snapshot, position = request.market_snapshot(), request.position
        instrument = instrument or request.instrument
    elif not isinstance(snapshot, MarketSnapshot):
        snapshot = MarketSnapshot.model_validate(snapshot)
    check_position(position)
    instrument = instrument or snapshot.instruments[0]
    if instrument not in snapshot.bars:
        raise KeyError(f"instrument {instrument!r} is not in the snapshot {snapshot.instruments}")
    started = clock_of(runtime.context)()
    return {
        "snapshot": snapshot, "instrument": instrument, "position": position,
        "started_at": started,
    }  # fmt: skip


def moon_panel(state: SunState, runtime: Runtime[SunContext]) -> SunState:
    """The moon panel of every instrument, in one cached pass."""
    settings = runtime.context.orchestration
    panel = compute_panel(
        state["snapshot"], settings.panel_spec, settings.moon_cache, settings.moon_carry
    )
    # Past this point only the panel and the last bars are read; dropping the long history
    # keeps every later checkpoint (and every planet task) small.
    return {"panel": panel, "snapshot": recent_view(state["snapshot"])}


def route(state: SunState, runtime: Runtime[SunContext]) -> SunState:
    """Ask the router which planets to consult; the risk planet is always among them."""
    context = runtime.context
    instrument, snapshot = state["instrument"], state["snapshot"]
    chosen = context.orchestration.router.route(
        state["panel"].for_instrument(instrument), bool(snapshot.headlines_for(instrument))
    )
    planets = [name for name in chosen.planets if name in context.planets]
    if context.risk_planet not in planets:
        planets.append(context.risk_planet)
    chosen_route: dict[str, Any] = {
        "planets": tuple(planets),
        "params": dict(chosen.params),
        "path": chosen.path,
        "llm": chosen.llm,
        "rule": chosen.rule,
        "profile": dict(chosen.profile),
        "nodes": dict(chosen.nodes),
        "expansions": {name: (p, dict(params)) for name, (p, params) in chosen.expansions.items()},
        "deferred": {name: (p, dict(params)) for name, (p, params) in chosen.deferred.items()},
    }
    started = start_stage(chosen_route, context)
    routed: Sequence[str] = started.get("route", chosen_route)["planets"]
    skipped = _skipped_planets(context, routed, chosen.skipped, chosen.path)
    capped, waiting = first_wave(context, started.get("route", chosen_route))
    return {**started, "route": capped, "trace": [*skipped, *started.get("trace", []), *waiting]}


def _skipped_planets(
    context: SunContext, planets: Sequence[str], reasons: Mapping[str, str], path: tuple[str, ...]
) -> list[TraceStep]:
    """A "skipped" step for every known planet the route left out, with the router's reason."""
    default = f"not on the route ({' > '.join(path)})"
    return [
        TraceStep(node=f"consult:{name}", status="skipped", reason=reasons.get(name, default))
        for name in context.planets
        if name not in planets
    ]


def fan_out(state: SunState, runtime: Runtime[SunContext]) -> list[Send]:
    """One ``consult_inline`` task for the routed in-process planets (no task of their own
    to schedule: LangGraph's per-task cost exceeds theirs), one ``consult`` task per other
    routed planet, plus ``recall`` when memory is configured."""
    inline = consult_tasks(state, runtime.context, in_process=True)
    sends = [Send("consult_inline", InlineTask(planets=inline))] if inline else []
    return sends + fan_out_others(state, runtime)


def fan_out_others(state: SunState, runtime: Runtime[SunContext]) -> list[Send]:
    """The ``consult`` task of each routed planet that is not in-process, and ``recall``."""
    context = runtime.context
    sends = [Send("consult", task) for task in consult_tasks(state, context, in_process=False)]
    if context.recaller is not None:
        sends.append(
            Send("recall", RecallTask(instrument=state["instrument"], panel=state["panel"]))
        )
    return sends


def consult_tasks(state: SunState, context: SunContext, *, in_process: bool) -> list[ConsultTask]:
    """The routed planets' consult tasks, of the in-process planets or of the others."""
    names = [n for n in state["route"]["planets"] if context.planets[n].in_process == in_process]
    if not names:
        return []
    shared = planet_context(state, context)
    params = state["route"]["params"]
    return [
        ConsultTask(planet=name, context=_with_params(shared, params.get(name))) for name in names
    ]


def _with_params(shared: PlanetContext, params: Mapping[str, Any] | None) -> PlanetContext:
    return replace(shared, params=params) if params else shared


def recall(task: RecallTask, runtime: Runtime[SunContext]) -> SunState:
    """Similar past situations from memory, as text for the reasoner."""
    recaller = runtime.context.recaller
    if recaller is None:
        return {"recalled": []}
    return {"recalled": list(recaller(task["instrument"], task["panel"]))}


def reason(state: SunState, runtime: Runtime[SunContext]) -> SunState:
    """The reasoned decision (see :func:`sun._reason.decide_reasoning`); streams one
    ``level`` progress event per model level tried and one for the deciding level; a skipped
    LLM is a "skipped" step of the trace with the reason."""
    reasoning = decide_reasoning(state, runtime.context)
    for attempt in reasoning.attempts:
        runtime.stream_writer({"event": "level", **attempt.model_dump(mode="json")})
    usage = reasoning.usage
    runtime.stream_writer(
        {
            "event": "reasoned",
            "level": reasoning.level,
            "reasoner": reasoning.reasoner,
            "action": reasoning.decision.action,
            "llm_calls": usage.calls,
            "cost_usd": usage.cost_usd,
        }
    )
    skipped = [
        TraceStep(node=f"llm:{note.level}", status="skipped", reason=note.error or "")
        for note in reasoning.attempts
        if reasoning.level == "policy" and (note.error or "").startswith("skipped")
    ]
    return {"reasoning": reasoning, "trace": skipped}


def guard_decision(state: SunState, runtime: Runtime[SunContext]) -> SunState:
    """Risk supersedes: clamp or veto the reasoned decision and record each correction."""
    context = runtime.context
    reasoning = state["reasoning"]
    reports = sorted_reports(state)
    reasoned, trace = reasoning.decision, list[TraceStep]()
    sizing = context.orchestration.sizing
    if sizing is not None:
        reasoned, note = size_by_confidence(reasoned, reasoning.reasoner, sizing)
        trace = [TraceStep(node="size", status="ran", reason=note)]
    guarded, corrections = guard(reasoned, reports, context.limits, context.risk_planet)
    decision = SunDecision(
        instrument=state["instrument"],
        as_of=state["snapshot"].as_of,
        action=guarded.action,
        target_position=guarded.target_position,
        confidence=guarded.confidence,
        rationale=guarded.rationale,
        reasoner=reasoning.reasoner,
        fallback_level=reasoning.level,
        attempts=reasoning.attempts,
        emergency=reasoning.level == EMERGENCY,
        planet_reports=reports,
        corrections=corrections,
        llm_usage=reasoning.usage,
        prompt=reasoning.prompt,
        routed_planets=tuple(state["route"]["planets"]),
        recalled=tuple(state.get("recalled", [])),
        authority=reasoning.authority,
    )
    return {"decision": decision, "trace": trace}


def propagate(state: SunState, runtime: Runtime[SunContext]) -> SunState:
    """Size the order (execution planet; none while a review is pending or for an ESCALATE),
    send directives, and hand the decision to sinks."""
    context = runtime.context
    started = time.perf_counter()
    decision = state["decision"]
    execution = context.execution_planet
    pending = decision.review is not None and decision.review.status == "pending"
    if execution is not None and not pending and decision.disposition != "ESCALATE":
        intent = execution.order_intent(
            planet_context(state, context), decision.target_position, state["position"]
        )
        decision = decision.model_copy(update={"order_intent": intent})
    directives = [
        {
            "to": name,
            "instrument": decision.instrument,
            "action": decision.action,
            "target_position": decision.target_position,
        }  # fmt: skip
        for name in context.planets
    ]
    step = TraceStep(
        node="propagate", status="ran", duration_ms=(time.perf_counter() - started) * 1e3
    )
    decision = decision.model_copy(update={"trace": (*state.get("trace", ()), step)})
    if decision.alert is not None and context.alert_sink is not None:
        context.alert_sink(decision.alert)
    for sink in context.sinks:
        sink(decision)
    return {"decision": decision, "directives": directives}
