"""A universe pass after the guard: reflex alerts and the portfolio guardian (each only
shrinks, every change recorded), then one ``SunDecision`` per instrument with its order
intent, and the flat "no data" decision."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from bus import (
    GuardCorrection,
    OrderIntent,
    PlanetReport,
    ReasonedDecision,
    SunDecision,
    action_for,
)
from planets import ExecutionPlanet, PlanetContext
from sun._reasoning import Reasoning
from sun.universe._guardian import PortfolioLimits, corrections_of, portfolio_guard
from sun.universe._reflex import alert_cap
from sun.universe._working import RunData

NO_DATA = "no_data"
UNIVERSE = "universe"


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
        live = np.array(self.live, dtype=np.int64)
        vol = self.rows[live, self.columns.index("realized_vol")]
        corr = self.rows[live, self.columns.index("correlation")]
        steps = portfolio_guard(targets, vol, corr, limits)
        for k, found in enumerate(corrections_of(steps, limits)):
            extra[k].extend(found)
        result: np.ndarray = steps[-1]
        return result

    # -- packaging --------------------------------------------------------------------------

    def _decision(
        self,
        i: int,
        route: dict[str, Any],
        reports: list[PlanetReport],
        recalled: tuple[str, ...],
        reasoning: Reasoning,
        guarded: tuple[ReasonedDecision, tuple[GuardCorrection, ...]],
        target: float,
        extra: list[GuardCorrection],
    ) -> SunDecision:
        decided, corrections = guarded
        rationale = decided.rationale
        if extra:
            notes = "; ".join(f"{c.rule}: {c.before:+.3f} -> {c.after:+.3f}" for c in extra)
            rationale = f"{rationale} [{notes}]"[:600]
        name = self.names[i]
        final = target if extra else decided.target_position
        return SunDecision(
            instrument=name,
            as_of=self.as_of,
            action=action_for(target) if extra else decided.action,
            target_position=final,
            confidence=decided.confidence,
            rationale=rationale,
            reasoner=reasoning.reasoner,
            fallback_level=reasoning.level,
            attempts=reasoning.attempts,
            emergency=reasoning.level == "emergency",
            planet_reports=tuple(reports),
            corrections=(*corrections, *extra),
            order_intent=self._intent(i, final),
            llm_usage=reasoning.usage,
            prompt=reasoning.prompt,
            routed_planets=route["planets"],
            recalled=recalled,
        )

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
