"""The "styles" planet set for backtests: momentum and mean reversion as competing planets.

With the default planets and no headlines, the technical planet is the only directional voter,
so trust weights cannot change a quant decision (a weighted mean of one vote is that vote).
Splitting the technical planet into its two styles, both consulted on every bar, gives the
learning loop a real choice: which style to trust on this market.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import ClassVar

from planets import (
    MEAN_REVERSION,
    MOMENTUM,
    ExecutionPlanet,
    Planet,
    PlanetContext,
    RiskPlanet,
    SentimentPlanet,
    TechnicalPlanet,
    Verdict,
)
from sun._routing import Route


class _StylePlanet(TechnicalPlanet):
    style: ClassVar[str]

    def score(self, context: PlanetContext, evidence: Mapping[str, float]) -> Verdict:
        return super().score(replace(context, params={"style": self.style}), evidence)


class MomentumPlanet(_StylePlanet):
    """The technical planet's momentum family only (price vs SMA, EMA vs SMA, MACD)."""

    name = "momentum"
    style = MOMENTUM


class MeanReversionPlanet(_StylePlanet):
    """The technical planet's mean-reversion family only (RSI, %b, return z)."""

    name = "mean_reversion"
    style = MEAN_REVERSION


def style_planets() -> dict[str, Planet]:
    """momentum, mean_reversion, sentiment, risk, execution."""
    planets: list[Planet] = [
        MomentumPlanet(),
        MeanReversionPlanet(),
        SentimentPlanet(),
        RiskPlanet(),
        ExecutionPlanet(),
    ]
    return {planet.name: planet for planet in planets}


@dataclass(frozen=True)
class StyleRouting:
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
