"""The routed plan's failure rule over a universe pass, as the graph's gate applies it.

A required planet that failed for an instrument (it raised or timed out, in its batch or
asked alone), or a required LLM node whose every model level failed, gives that instrument's
decision the rule's disposition: ESCALATE holds its position through the guard, sends no
order and raises an alert (to the sun's ``alert_sink``); HIL_REVIEW leaves it pending with no
order (a universe pass has no checkpointer to wait in). Every other instrument is untouched.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from bus import SunDecision, TraceStep
from sun._context import SunContext
from sun._gate import dispose
from sun._plan_runtime import Stop, failure_stop, reasoner_status, routed_rule
from sun._reasoning import Source

StopMemo = dict[tuple[Any, ...], tuple[Stop | None, tuple[TraceStep, ...]]]
"""Per pass: the failure rule's verdict per (rule, planets, failures, reasoner status)."""


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
    reasoning: Source,
    position: float,
    context: SunContext,
    memo: StopMemo | None = None,
    status: tuple[str, bool] | None = None,
) -> SunDecision:
    """``decision`` disposed by its plan's failure rule (unchanged when nothing is missing).

    ``memo`` (one per pass) keeps the rule's verdict for each (rule, routed planets,
    failures, reasoner status): the verdict reads nothing else, and a universe's
    instruments share a handful of routes, so each is worked out once per pass.
    ``status``: ``reasoner_status(reasoning)`` when the caller has it.
    """
    if not route["rule"]:
        return decision  # routed_rule: no rule, no failure rule (checked before the policy)
    failures = tuple(sorted(failed.items())) if failed else ()
    status = status if status is not None else reasoner_status(reasoning)
    key = (route["rule"], route["planets"], failures, status)
    known = memo.get(key) if memo is not None else None
    if known is None:
        known = _stop(route, failed, reasoning, context)
        if memo is not None:
            memo[key] = known
    stop, steps = known
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


def apply_failure_rules(
    decisions: Sequence[SunDecision],
    routes: Sequence[Mapping[str, Any]],
    failed: Sequence[Mapping[str, str]],
    reasonings: Sequence[Source],
    positions: Sequence[float],
    context: SunContext,
) -> list[SunDecision]:
    """:func:`apply_failure_rule` of every instrument of a pass. For an instrument with no
    failed planet the verdict depends only on its route (rule, routed planets: one dict per
    distinct route in a pass) and its reasoner status, so once that pair left a decision
    unchanged, every other instrument with it is passed through without asking again."""
    memo: StopMemo = {}
    statuses = ReasonerStatuses()
    untouched: dict[tuple[int, tuple[str, bool]], bool] = {}
    result = []
    for decision, route, fails, reasoning, position in zip(
        decisions, routes, failed, reasonings, positions, strict=True
    ):
        status = statuses(reasoning)
        key = None if fails else (id(route), status)
        if key is not None and untouched.get(key):
            result.append(decision)
            continue
        disposed = apply_failure_rule(
            decision, route, fails, reasoning, position, context, memo, status
        )
        if key is not None:
            untouched[key] = disposed is decision
        result.append(disposed)
    return result


class ReasonerStatuses:
    """:func:`reasoner_status` of each decision's source in one pass (its reasoning, or the
    provenance its quant decisions share), worked out once per distinct (attempts, level,
    reasoner) objects; the pass's sources hold those objects while it runs, so their ids
    stay theirs."""

    def __init__(self) -> None:
        self._known: dict[tuple[int, int, int], tuple[str, bool]] = {}

    def __call__(self, reasoning: Source) -> tuple[str, bool]:
        key = (id(reasoning.attempts), id(reasoning.level), id(reasoning.reasoner))
        known = self._known.get(key)
        if known is None:
            known = self._known[key] = reasoner_status(reasoning)
        return known


def _stop(
    route: Mapping[str, Any], failed: Mapping[str, str], reasoning: Source, context: SunContext
) -> tuple[Stop | None, tuple[TraceStep, ...]]:
    """The failure rule's stop for this route (None: none applies) and the consult steps."""
    chosen = routed_rule(context, {"rule": route["rule"]})
    if chosen is None:
        return None, ()
    steps = tuple(consult_steps(route["planets"], failed))
    return failure_stop(*chosen, steps, reasoning), steps
