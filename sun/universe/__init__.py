"""Whole universes per tick: N instruments decided in one vectorized pass, a portfolio
guardian across them, and a reflex loop that applies the hard risk rules at every bar.

    from sun import Sun
    decisions = Sun("quant").decide_universe(snapshot)      # {instrument: SunDecision}

``UniverseEngine`` is what ``Sun.decide_universe`` runs (see :mod:`sun.universe._decide`);
``PortfolioLimits`` / ``portfolio_guard`` the guardian; ``ReflexLoop`` the reflex loop, whose
alerts reach the sun through a ``ReflexBook`` (in process, or from the bus's CRITICAL lane).
"""

from sun.universe._config import UniverseConfig
from sun.universe._decide import UniverseEngine
from sun.universe._guardian import RULES as PORTFOLIO_RULES
from sun.universe._guardian import PortfolioLimits, corrections_of, portfolio_guard
from sun.universe._moons import UniverseMoons
from sun.universe._packaging import NO_DATA, UNIVERSE
from sun.universe._quality import load_universe, quality_reasons
from sun.universe._quant import quant_many
from sun.universe._reflex import (
    REFLEX,
    ReflexBook,
    ReflexLoop,
    ReflexRules,
    ReflexTick,
    alert_cap,
    reflex_rules,
)

__all__ = [
    "NO_DATA",
    "PORTFOLIO_RULES",
    "REFLEX",
    "UNIVERSE",
    "PortfolioLimits",
    "ReflexBook",
    "ReflexLoop",
    "ReflexRules",
    "ReflexTick",
    "UniverseConfig",
    "UniverseEngine",
    "UniverseMoons",
    "alert_cap",
    "corrections_of",
    "load_universe",
    "portfolio_guard",
    "quality_reasons",
    "quant_many",
    "reflex_rules",
]
