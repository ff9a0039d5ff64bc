"""The "styles" planet set (used by backtests): momentum and mean reversion as competing planets.

With the default planets and no headlines, the technical planet is the only directional voter,
so trust weights cannot change a quant decision (a weighted mean of one vote is that vote).
Splitting the technical planet into its two styles, both consulted on every bar, gives the
learning loop a real choice: which style to trust on this market.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from planets._base import Planet, PlanetContext, Verdict
from planets._execution import ExecutionPlanet
from planets._risk import RiskPlanet
from planets._technical import MEAN_REVERSION, MOMENTUM, TechnicalPlanet
from planets.sentiment import SentimentPlanet


class _StylePlanet(TechnicalPlanet):
    style: ClassVar[str]
    roles = frozenset()  # two competing styles: neither stands in for "the" technical planet

    def style_of(self, params: Mapping[str, object]) -> object:
        return self.style


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


class TechnicalVariant(TechnicalPlanet):
    """The technical planet with its own parameters: a fixed ``style`` and a ``sensitivity``.

    ``score = clip(sensitivity * technical score)`` under the variant's style (the router's
    style is ignored), so variants are extra, differently tuned voters over the same moons.
    """

    def __init__(self, style: str | None = None, sensitivity: float = 1.0) -> None:
        self.style = style
        self.sensitivity = sensitivity

    def score(self, context: PlanetContext, evidence: Mapping[str, float]) -> Verdict:
        own = PlanetContext(
            instrument=context.instrument,
            as_of=context.as_of,
            moons=context.moons,
            snapshot=context.snapshot,
            limits=context.limits,
            params={"style": self.style} if self.style else {},
        )
        verdict = super().score(own, evidence)
        score = max(-1.0, min(1.0, verdict.score * self.sensitivity))
        return Verdict(score, verdict.confidence, verdict.recommendations)
