"""Binary routing tree: which planets (and which technical style) a query needs.

    Market
    |-- Technical          (always: it reports "no data" itself while warming up)
    |   |-- Momentum       (trend: |close - sma| / atr >= trend_threshold)
    |   `-- MeanReversion  (otherwise)
    `-- Fundamental        (headlines attached, or an abnormal-volume event)
        |-- Sentiment      (headlines attached)
        `-- Events         (no headlines but |volume z| >= event_threshold)

Risk is never routed away: it is consulted on every query. Routing looks only at numbers and
at whether headlines exist, never at what the headlines say.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from planets import MEAN_REVERSION, MOMENTUM


@dataclass(frozen=True)
class Route:
    """The planets to consult, the parameters for each, and the path that chose them.

    Attributes:
        planets: Planet names to consult.
        params: Per-planet parameters (e.g. the technical ``style``).
        path: The tree path (or policy, rule and node labels) that chose them.
        skipped: Planets left out on purpose, with the reason (shown in the trace).
        llm: False when the plan has no LLM reasoner: the quant reasoner decides.
        rule: The policy rule that chose them ("" for routers without a policy).
        profile: The decision's profile values (policy routers).
        nodes: Plan node -> planet, for the planets consulted.
        expansions: Dormant expansion node -> (planet, parameters), run if a checkpoint
            expands them.
        deferred: Planet node -> (planet, parameters) whose ``skip_if`` reads planet outputs:
            decided once the planets it depends on have reported.
    """

    planets: tuple[str, ...]
    params: Mapping[str, Mapping[str, object]]
    path: tuple[str, ...]
    skipped: Mapping[str, str] = field(default_factory=dict)
    llm: bool = True
    rule: str = ""
    profile: Mapping[str, Any] = field(default_factory=dict)
    nodes: Mapping[str, str] = field(default_factory=dict)
    expansions: Mapping[str, tuple[str, Mapping[str, Any]]] = field(default_factory=dict)
    deferred: Mapping[str, tuple[str, Mapping[str, Any]]] = field(default_factory=dict)


@runtime_checkable
class Router(Protocol):
    """Chooses the planets for one query from its moon values (never from headline text).

    The sun always adds its risk-role planet when a router leaves it out: risk is never routed
    away.
    """

    def route(self, moons: Mapping[str, float], has_headlines: bool) -> Route:
        """The planets to consult, their parameters, and the path that chose them."""
        ...


@dataclass(frozen=True)
class RoutingTree:
    """Thresholds of the routing tree (see the module docstring)."""

    trend_threshold: float = 1.0
    event_threshold: float = 3.0

    def route(self, moons: Mapping[str, float], has_headlines: bool) -> Route:
        """Walk the tree for one instrument's moon values."""
        planets: list[str] = []
        params: dict[str, dict[str, object]] = {}
        path: list[str] = ["Market"]
        close = moons.get("close", math.nan)
        sma, atr = moons.get("sma", math.nan), moons.get("atr", math.nan)
        planets.append("technical")
        if _finite(close, sma, atr) and atr > 0:
            style = MOMENTUM if abs(close - sma) / atr >= self.trend_threshold else MEAN_REVERSION
            path += ["Technical", "Momentum" if style == MOMENTUM else "MeanReversion"]
            params["technical"] = {"style": style}
        else:
            path += ["Technical", "WarmingUp"]
        volume_z = moons.get("volume_z", math.nan)
        if has_headlines:
            path += ["Fundamental", "Sentiment"]
            planets.append("sentiment")
        elif _finite(volume_z) and abs(volume_z) >= self.event_threshold:
            path += ["Fundamental", "Events"]
            planets.append("execution")
        planets.append("risk")
        return Route(planets=tuple(planets), params=params, path=tuple(path))

    def route_many(
        self, columns: Mapping[str, np.ndarray], has_headlines: np.ndarray
    ) -> list[Route]:
        """:meth:`route` for many instruments: the tree's tests run over arrays.

        Args:
            columns: Moon columns (``close``, ``sma``, ``atr``, ``volume_z``), one value per
                instrument.
            has_headlines: Whether each instrument has headlines.
        """
        n = len(has_headlines)
        nan = np.full(n, np.nan)
        close, sma = columns.get("close", nan), columns.get("sma", nan)
        atr, volume_z = columns.get("atr", nan), columns.get("volume_z", nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            usable = np.isfinite(close) & np.isfinite(sma) & np.isfinite(atr) & (atr > 0)
            trend = usable & (np.abs(close - sma) / atr >= self.trend_threshold)
            event = np.isfinite(volume_z) & (np.abs(volume_z) >= self.event_threshold)
        style = np.where(usable, np.where(trend, 1, 2), 0)
        branch = np.where(has_headlines, 1, np.where(event, 2, 0))
        table: dict[tuple[int, int], Route] = {}
        routes = []
        for key in zip(style.tolist(), branch.tolist(), strict=True):
            if key not in table:
                table[key] = self._route_of(*key)
            routes.append(table[key])
        return routes

    @staticmethod
    def _route_of(style: int, branch: int) -> Route:
        """The route of one leaf combination (style: 0 warming up, 1 momentum, 2 mean
        reversion; branch: 0 none, 1 sentiment, 2 events), as :meth:`route` builds it."""
        planets = ["technical"]
        path = ["Market", "Technical"]
        params: dict[str, dict[str, object]] = {}
        if style == 0:
            path.append("WarmingUp")
        else:
            chosen = MOMENTUM if style == 1 else MEAN_REVERSION
            path.append("Momentum" if style == 1 else "MeanReversion")
            params["technical"] = {"style": chosen}
        if branch == 1:
            path += ["Fundamental", "Sentiment"]
            planets.append("sentiment")
        elif branch == 2:
            path += ["Fundamental", "Events"]
            planets.append("execution")
        planets.append("risk")
        return Route(planets=tuple(planets), params=params, path=tuple(path))


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)


@dataclass(frozen=True)
class StyleRouting:  # a Router for planets.style_planets()
    """Routes every query to both style planets (+ sentiment with headlines, execution on
    volume events, and always risk)."""

    event_threshold: float = 3.0

    def route(self, moons: Mapping[str, float], has_headlines: bool) -> Route:
        """The planets for one instrument's moon values."""
        planets = ["momentum", "mean_reversion"]
        path = ["Market", "Technical", "Momentum+MeanReversion"]
        volume_z = moons.get("volume_z")
        if has_headlines:
            planets.append("sentiment")
            path += ["Fundamental", "Sentiment"]
        elif (
            volume_z is not None
            and math.isfinite(volume_z)
            and abs(volume_z) >= self.event_threshold
        ):
            planets.append("execution")
            path += ["Fundamental", "Events"]
        planets.append("risk")
        return Route(planets=tuple(planets), params={}, path=tuple(path))
