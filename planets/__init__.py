"""Planets: domain subgraphs that read the moon panel and report a score with its evidence.

``default_planets()`` gives the four built-in planets. A new planet is a subclass of
:class:`Planet` naming its moons and implementing ``score`` (see ``examples/`` and the README).
"""

from planets._base import Narrator, Planet, PlanetContext, PlanetState, Verdict, clip, squash
from planets._execution import ExecutionPlanet
from planets._factory import DynamicPlanet, PlanetFactory, PlanetSpec, SpecError
from planets._limits import RiskLimits
from planets._risk import RiskPlanet
from planets._sentiment import SentimentPlanet
from planets._technical import MEAN_REVERSION, MOMENTUM, TechnicalPlanet


def default_planets() -> dict[str, Planet]:
    """The built-in planets by name: technical, risk, sentiment, execution."""
    planets: list[Planet] = [TechnicalPlanet(), RiskPlanet(), SentimentPlanet(), ExecutionPlanet()]
    return {planet.name: planet for planet in planets}


__all__ = [
    "MEAN_REVERSION",
    "MOMENTUM",
    "DynamicPlanet",
    "ExecutionPlanet",
    "Narrator",
    "Planet",
    "PlanetFactory",
    "PlanetSpec",
    "PlanetContext",
    "PlanetState",
    "RiskLimits",
    "RiskPlanet",
    "SentimentPlanet",
    "SpecError",
    "TechnicalPlanet",
    "Verdict",
    "clip",
    "default_planets",
    "squash",
]
