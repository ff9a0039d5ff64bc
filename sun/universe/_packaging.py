"""A universe pass after the guard: reflex alerts and the portfolio guardian (each only
shrinks, every change recorded), then one ``SunDecision`` per instrument with its order
intent, and the flat "no data" decision."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from bus import (
    FallbackAttempt,
    GuardCorrection,
    LlmUsage,
    OrderIntent,
    PlanetReport,
    PromptRef,
    SunDecision,
    action_for,
    decision_rows_ok,
    prechecked_builder,
)
from planets import ExecutionPlanet, PlanetContext, order_intents
from sun._guard import GuardedTargets, correction_notes, guarded_rationale
from sun._reasoning import EMERGENCY, Source
from sun.universe._guardian import PortfolioLimits, corrections_of, portfolio_guard
from sun.universe._reasoning import Reasoned
from sun.universe._reflex import alert_cap
from sun.universe._working import Reports, RunData

NO_DATA = "no_data"
UNIVERSE = "universe"
_DECISION_KEYS = frozenset(("instrument", "as_of", "action", "target_position", "confidence",
                            "rationale", "reasoner", "fallback_level", "attempts", "emergency",
                            "planet_reports", "corrections", "order_intent", "llm_usage",
                            "prompt", "routed_planets", "recalled"))  # fmt: skip
_BUILD = prechecked_builder(SunDecision, _DECISION_KEYS)


class Packaging(RunData):
    """Alerts, portfolio limits and packaging of one pass."""

    def _apply_alerts(
        self,
        targets: np.ndarray,
        alerts: Mapping[str, PlanetReport],
        extra: list[list[GuardCorrection]],
    ) -> np.ndarray:
        """Reflex alerts since the last decision cap their instruments (never loosen)."""
        if not alerts:
            return targets
        targets = targets.copy()
        for k, i in enumerate(self.live):
            alert = alerts.get(self.names[i])
            if alert is None:
                continue
            cap = alert_cap(alert)
            if abs(targets[k]) > cap:
                after = math.copysign(cap, targets[k]) if cap > 0 else 0.0
                rule = alert.recommendations[0] if alert.recommendations else "alert"
                extra[k].append(
                    GuardCorrection(
                        rule=f"reflex:{rule}",
                        before=float(targets[k]),
                        after=after,
                        reason=(alert.critical_reason or "reflex alert")[:300],
                    )
                )
                targets[k] = after
        return targets

    def _apply_portfolio(
        self, targets: np.ndarray, limits: PortfolioLimits, extra: list[list[GuardCorrection]]
    ) -> np.ndarray:
        columns = self.columns_of(self.live)
        vol, corr = columns["realized_vol"], columns["correlation"]
        steps = portfolio_guard(targets, vol, corr, limits)
        for k, found in enumerate(corrections_of(steps, limits)):
            extra[k].extend(found)
        result: np.ndarray = steps[-1]
        return result

    # -- packaging --------------------------------------------------------------------------

    def _package(
        self,
        routes: list[dict[str, Any]],
        reports: list[Reports],
        recalled: list[tuple[str, ...]],
        reasoned: Reasoned,
        guarded: GuardedTargets,
        targets: np.ndarray,
        extra: list[list[GuardCorrection]],
    ) -> list[SunDecision]:
        """One decision per live instrument: targets, actions and confidences checked over
        arrays, each decision then built without validating it again (a row failing the
        check is built by the validating constructor, which raises as it always did)."""
        decided = reasoned.decisions
        after = targets.tolist()
        guarded_targets, corrections = guarded
        finals = [t if x else g for g, t, x in zip(guarded_targets, after, extra, strict=True)]
        actions = [
            action_for(t) if x else action_for(g) if c else a
            for a, g, c, t, x in zip(decided.actions, guarded_targets, corrections, after, extra,
                                     strict=True)
        ]  # fmt: skip
        confidences = decided.confidences  # the guard keeps a decision's confidence
        checked = decision_rows_ok(actions, np.array(finals, dtype=np.float64),
                                   np.array(confidences, dtype=np.float64)).tolist()  # fmt: skip
        intents = self._intents(finals)
        checked = _shared_values_ok(checked, routes, reports)
        plain = _PlainSources()
        sources = reasoned.sources
        checked = [ok and plain(r) for ok, r in zip(checked, sources, strict=True)]
        rationales = [
            guarded_rationale(r, c) if c else r
            for r, c in zip(decided.rationales, corrections, strict=True)
        ]
        return [
            self._decision(
                i, routes[k], reports[k], recalled[k], sources[k],
                (finals[k], actions[k], confidences[k], rationales[k], intents[k]),
                corrections[k], extra[k], checked[k],
            )
            for k, i in enumerate(self.live)
        ]  # fmt: skip

    def _decision(
        self,
        i: int,
        route: dict[str, Any],
        reports: Reports,
        recalled: tuple[str, ...],
        source: Source,
        final: tuple[float, str, float, str, OrderIntent | None],
        corrections: tuple[GuardCorrection, ...],
        extra: list[GuardCorrection],
        checked: bool,
    ) -> SunDecision:
        target, action, confidence, rationale, intent = final
        if extra:
            rationale = f"{rationale} [{correction_notes(extra)}]"[:600]
        decision = _BUILD(
            instrument=self.names[i], as_of=self.as_of, action=action, target_position=target,
            confidence=confidence, rationale=rationale, reasoner=source.reasoner,
            fallback_level=source.level, attempts=source.attempts,
            emergency=source.level == EMERGENCY, planet_reports=reports,
            corrections=(*corrections, *extra) if extra else corrections,
            order_intent=intent, llm_usage=source.usage, prompt=source.prompt,
            routed_planets=route["planets"], recalled=recalled,
        )  # fmt: skip
        values = decision.__dict__
        if checked and plain_row(values):
            return decision
        # validated after all (raises as it always did)
        return SunDecision(**{key: values[key] for key in _DECISION_KEYS})

    def _intents(self, finals: list[float]) -> list[OrderIntent | None]:
        """The execution planet's order toward each live instrument's final target (the
        built-in planet's sizing over arrays, any other planet asked one by one)."""
        if self.execution is None:
            return [None] * len(finals)
        columns = self.columns_of(self.live)
        nan = np.full(len(self.live), np.nan)
        found = order_intents(
            self.execution,
            [self.names[i] for i in self.live],
            self.as_of,
            np.array(finals, dtype=np.float64),
            np.array([self.positions.get(self.names[i], 0.0) for i in self.live], dtype=np.float64),
            {"close": columns.get("close", nan), "realized_vol": columns.get("realized_vol", nan)},
            self.context.limits,
        )
        if found is not None:
            return found
        return [self._intent(i, target) for i, target in zip(self.live, finals, strict=True)]

    def _intent(self, i: int, target: float) -> OrderIntent | None:
        """The execution planet's order toward ``target`` (as the graph's propagate node)."""
        execution = self.execution
        if execution is None:
            return None
        name = self.names[i]
        # the built-in execution planet sizes from moons and limits only (no per-instrument
        # view) and orders nothing when the position does not change
        built_in = type(execution) is ExecutionPlanet
        if built_in and target == self.positions.get(name, 0.0):
            return None
        context = PlanetContext(
            instrument=name,
            as_of=self.as_of,
            moons=self.moons[i],
            snapshot=self.snapshot if built_in else self.view(name),
            limits=self.context.limits,
        )
        return execution.order_intent(context, target, self.positions.get(name, 0.0))

    def no_data(self, name: str, reason: str) -> SunDecision:
        """A flat decision for an instrument that cannot be decided, every planet saying why."""
        context = PlanetContext(
            instrument=name, as_of=self.as_of, moons={}, snapshot=self.snapshot,
            limits=self.context.limits,
        )  # fmt: skip
        reports = tuple(
            planet.no_data(context, {}, reason[:300])
            for _, planet in sorted(self.context.planets.items())
        )
        return SunDecision(
            instrument=name,
            as_of=self.as_of,
            action="HOLD",
            target_position=0.0,
            confidence=0.0,
            rationale=f"[{UNIVERSE}] {reason}"[:600],
            reasoner=UNIVERSE,
            fallback_level=NO_DATA,
            planet_reports=reports,
            order_intent=self._intent(self.names.index(name), 0.0) if name in self.names else None,
        )


def _shared_values_ok(
    checked: list[bool], routes: list[dict[str, Any]], reports: list[Reports]
) -> list[bool]:
    """``checked``, and the reports and routed planets (shared between instruments) of the
    types validation keeps as they are: checked once per pass, not once per decision."""
    if not all(type(r) is PlanetReport for rs in reports for r in rs):
        return [False] * len(checked)
    plain: dict[int, bool] = {}
    for route in routes:
        planets = route["planets"]
        if id(planets) not in plain:
            plain[id(planets)] = _all_of(planets, str)
    return [ok and plain[id(r["planets"])] for ok, r in zip(checked, routes, strict=True)]


def plain_row(values: Mapping[str, Any]) -> bool:
    """Whether validating a :class:`SunDecision` of ``values`` (numbers already checked, the
    reports and routed planets checked once per pass, the reasoning's values by
    :func:`plain_reasoning`) would keep every other value as it is: exact types, tuples of
    the contract models."""
    return (
        type(values["instrument"]) is str
        and type(values["rationale"]) is str
        and (values["order_intent"] is None or type(values["order_intent"]) is OrderIntent)
        and _all_of(values["corrections"], GuardCorrection)
        and _all_of(values["recalled"], str)
    )


def plain_reasoning(
    reasoner: object, level: object, usage: object, prompt: object, attempts: object
) -> bool:
    """Whether validation keeps the values a decision takes from its :class:`Reasoning` as
    they are."""
    return (
        type(reasoner) is str
        and type(level) is str
        and type(usage) is LlmUsage
        and (prompt is None or type(prompt) is PromptRef)
        and _all_of(attempts, FallbackAttempt)
    )


class _PlainSources:
    """:func:`plain_reasoning` of each decision's source in one pass, worked out once per
    distinct set of objects (a quant universe's sources are one shared object). The objects
    are held by the pass's sources while it runs, so their ids stay theirs."""

    def __init__(self) -> None:
        self._known: dict[tuple[int, ...], bool] = {}

    def __call__(self, r: Source) -> bool:
        key = (id(r.reasoner), id(r.level), id(r.usage), id(r.prompt), id(r.attempts))
        known = self._known.get(key)
        if known is None:
            known = plain_reasoning(r.reasoner, r.level, r.usage, r.prompt, r.attempts)
            self._known[key] = known
        return known


def _all_of(items: object, kind: type) -> bool:
    return type(items) is tuple and (not items or all(type(item) is kind for item in items))
