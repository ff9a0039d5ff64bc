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
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from planets import MEAN_REVERSION, MOMENTUM


@dataclass(frozen=True)
class Route:
    """The planets to consult, the parameters for each, and the tree path that chose them."""

    planets: tuple[str, ...]
    params: Mapping[str, Mapping[str, object]]
    path: tuple[str, ...]


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
