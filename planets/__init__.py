"""Planets: domain subgraphs that read the moon panel and report a score with its evidence.

``default_planets()`` gives the four built-in planets. A new planet is a subclass of
:class:`Planet` naming its moons and implementing ``score`` (see ``examples/`` and the README).
"""

from planets._base import (
    Narrator,
    OrderSizer,
    Planet,
    PlanetContext,
    PlanetState,
    Role,
    Verdict,
    clip,
    squash,
)
from planets._batch import PlanetBatch, VectorPlanet, report_many
from planets._defaults import default_planets
from planets._execution import ExecutionPlanet
from planets._factory import DynamicPlanet, PlanetFactory, PlanetSpec, SpecError
from planets._kernels import risk_one, technical_one
from planets._limits import RiskLimits
from planets._orders import order_intents
from planets._risk import RiskPlanet
from planets._styles import MeanReversionPlanet, MomentumPlanet, TechnicalVariant, style_planets
from planets._technical import MEAN_REVERSION, MOMENTUM, TechnicalPlanet
from planets._verdicts import VerdictColumns
from planets.sentiment import (
    DEFAULT_SENTIMENTX_PATH,
    SENTIMENT_WINDOWS,
    SENTIMENTX_FORMAT,
    Featurizer,
    SentimentPlanet,
    SentimentScore,
    SentimentX,
    SentimentXScore,
    dedupe_key,
    default_scorer,
    extract_grams,
    lexicon_features,
    load_lexicon,
    score_text,
    score_texts,
)

__all__ = [
    "DEFAULT_SENTIMENTX_PATH",
    "MEAN_REVERSION",
    "MOMENTUM",
    "SENTIMENTX_FORMAT",
    "DynamicPlanet",
    "ExecutionPlanet",
    "Featurizer",
    "MeanReversionPlanet",
    "MomentumPlanet",
    "OrderSizer",
    "Narrator",
    "Planet",
    "PlanetFactory",
    "PlanetSpec",
    "PlanetBatch",
    "PlanetContext",
    "PlanetState",
    "RiskLimits",
    "RiskPlanet",
    "Role",
    "SENTIMENT_WINDOWS",
    "SentimentPlanet",
    "SentimentScore",
    "SentimentX",
    "SentimentXScore",
    "SpecError",
    "TechnicalPlanet",
    "TechnicalVariant",
    "VectorPlanet",
    "Verdict",
    "VerdictColumns",
    "clip",
    "dedupe_key",
    "default_planets",
    "default_scorer",
    "extract_grams",
    "lexicon_features",
    "load_lexicon",
    "order_intents",
    "report_many",
    "risk_one",
    "score_text",
    "score_texts",
    "style_planets",
    "technical_one",
    "squash",
]
