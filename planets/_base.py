"""The planet base: select moons -> score -> report, as a compiled LangGraph subgraph.

A new planet subclasses :class:`Planet`, names the moons it reads and implements
:meth:`Planet.score`; everything else (evidence capture, "no data" handling, the subgraph,
an optional quick-tier narrative) comes from the base.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, TypedDict, runtime_checkable

from langgraph.graph import END, START, StateGraph

from bus import MarketSnapshot, OrderIntent, PlanetReport
from planets._limits import RiskLimits

Narrator = Callable[[PlanetReport], str]


@dataclass(frozen=True)
class PlanetContext:
    """What a planet may look at for one instrument at one time (nothing after ``as_of``)."""

    instrument: str
    as_of: datetime
    moons: Mapping[str, float]
    snapshot: MarketSnapshot
    limits: RiskLimits = field(default_factory=RiskLimits)
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """A planet's judgement before it becomes a :class:`PlanetReport`."""

    score: float
    confidence: float
    recommendations: tuple[str, ...] = ()
    veto_reason: str | None = None
    critical_reason: str | None = None
    extra_evidence: Mapping[str, float] = field(default_factory=dict)


class PlanetState(TypedDict, total=False):
    """State of a planet subgraph run."""

    context: PlanetContext
    evidence: dict[str, float]
    report: PlanetReport


class Role(StrEnum):
    """A job the sun gives a planet beyond its report; the sun finds planets by role, not name.

    ``RISK``: its report is what the guard enforces (exactly one per sun; missing or invalid
    means no position). ``EXECUTION``: turns the final decision into an order intent (at most
    one; it must implement :class:`OrderSizer`). ``TECHNICAL``: the price-pattern voter the
    council's technical variants are modelled on.
    """

    RISK = "risk"
    EXECUTION = "execution"
    TECHNICAL = "technical"


@runtime_checkable
class OrderSizer(Protocol):
    """What a planet with the ``EXECUTION`` role provides."""

    def order_intent(
        self, context: PlanetContext, target_position: float, current_position: float = 0.0
    ) -> OrderIntent | None:
        """The order that moves ``current_position`` to ``target_position`` (None: no change)."""
        ...


class Planet(ABC):
    """Base class of every planet.

    Subclasses set ``name`` and ``moons`` (the moon-panel columns they read) and implement
    :meth:`score`. ``directional`` planets vote on direction; the others (risk, execution)
    constrain or implement decisions instead. ``roles`` says which of the sun's jobs the planet
    takes (see :class:`Role`). If a required moon is NaN (warming up) or absent, the planet
    reports "no data" (``has_data=False``, confidence 0) rather than a neutral score.
    ``in_process`` planets report quickly without waiting on I/O (the numeric built-ins): the
    sun consults them one after another in one graph task instead of one task each; leave it
    False for a planet that calls a model or a service (it keeps a parallel task of its own).
    """

    name: str
    moons: tuple[str, ...] = ()
    directional: bool = True
    roles: frozenset[Role] = frozenset()
    in_process: bool = False

    def select(self, context: PlanetContext) -> dict[str, float]:
        """The exact moon values this planet reads; missing ones are left out."""
        values = {}
        for moon in self.moons:
            value = context.moons.get(moon)
            if value is not None and math.isfinite(value):
                values[moon] = float(value)
        return values

    def missing(self, evidence: Mapping[str, float]) -> tuple[str, ...]:
        """Required moons that have no finite value."""
        return tuple(moon for moon in self.moons if moon not in evidence)

    @abstractmethod
    def score(self, context: PlanetContext, evidence: Mapping[str, float]) -> Verdict:
        """Turn the evidence into a verdict. Called only when no required moon is missing."""

    def report(self, context: PlanetContext) -> PlanetReport:
        """Select, then assess: the planet's whole fast path (the subgraph runs the same two)."""
        return self.assess(context, self.select(context))

    def assess(self, context: PlanetContext, evidence: Mapping[str, float]) -> PlanetReport:
        """Score the evidence, or report "no data" naming what is missing."""
        missing = self.missing(evidence)
        if missing:
            return self.no_data(context, evidence, f"no data: {', '.join(missing)} unavailable")
        return self.package(context, evidence, self.score(context, evidence))

    def no_data(
        self, context: PlanetContext, evidence: Mapping[str, float], reason: str
    ) -> PlanetReport:
        """A report that says explicitly that this planet has nothing to go on."""
        return PlanetReport(
            planet=self.name,
            instrument=context.instrument,
            as_of=context.as_of,
            score=0.0,
            confidence=0.0,
            has_data=False,
            evidence=dict(evidence),
            recommendations=(reason,),
        )

    def package(
        self, context: PlanetContext, evidence: Mapping[str, float], verdict: Verdict
    ) -> PlanetReport:
        """The report of ``verdict`` on ``evidence`` (score and confidence clipped)."""
        return PlanetReport(
            planet=self.name,
            instrument=context.instrument,
            as_of=context.as_of,
            score=clip(verdict.score, -1.0, 1.0),
            confidence=clip(verdict.confidence, 0.0, 1.0),
            evidence={**evidence, **verdict.extra_evidence},
            recommendations=verdict.recommendations,
            veto=verdict.veto_reason is not None,
            veto_reason=verdict.veto_reason,
            critical=verdict.critical_reason is not None,
            critical_reason=verdict.critical_reason,
        )

    def graph(self, narrator: Narrator | None = None) -> Any:
        """This planet as a compiled LangGraph subgraph: select -> score [-> narrate]."""
        builder = StateGraph(PlanetState)
        builder.add_node("select", lambda state: {"evidence": self.select(state["context"])})
        builder.add_node("score", self._score_node)
        builder.add_edge(START, "select")
        builder.add_edge("select", "score")
        if narrator is None:
            builder.add_edge("score", END)
        else:
            builder.add_node("narrate", lambda state: _narrate(state, narrator))
            builder.add_edge("score", "narrate")
            builder.add_edge("narrate", END)
        return builder.compile(name=f"planet:{self.name}")

    def _score_node(self, state: PlanetState) -> PlanetState:
        return {"report": self.assess(state["context"], state["evidence"])}


def _narrate(state: PlanetState, narrator: Narrator) -> PlanetState:
    report = state["report"]
    return {"report": report.model_copy(update={"narrative": narrator(report)})}


def clip(value: float, low: float, high: float) -> float:
    """Clamp ``value`` into ``[low, high]``; NaN is a programming error here."""
    if math.isnan(value):
        raise ValueError("cannot clip NaN")
    return min(high, max(low, value))


def squash(value: float, scale: float) -> float:
    """Map a real number smoothly into (-1, 1): ``tanh(value / scale)``."""
    return math.tanh(value / scale)
