"""The built-in planet set."""

from __future__ import annotations

from planets._base import Planet
from planets._execution import ExecutionPlanet
from planets._risk import RiskPlanet
from planets._technical import TechnicalPlanet
from planets.sentiment import SentimentPlanet


def default_planets() -> dict[str, Planet]:
    """The built-in planets by name: technical, risk, sentiment, execution."""
    planets: list[Planet] = [TechnicalPlanet(), RiskPlanet(), SentimentPlanet(), ExecutionPlanet()]
    return {planet.name: planet for planet in planets}
