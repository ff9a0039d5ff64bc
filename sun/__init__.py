"""The sun: a LangGraph supervisor over planets and moons.

    from sun import Sun
    decision = Sun().decide(snapshot)

``Sun`` is the entry point; ``build_sun_graph`` gives the raw compiled graph; model specs are
parsed by ``parse_model_spec`` and built by ``build_chat_model``.
"""

from sun._breaker import BreakerConfig, CircuitBreaker
from sun._council import Council, Vote, aggregate, default_variants, risk_gate
from sun._fallback import ChainPolicy, FallbackChain, is_transient
from sun._faults import FaultSchedule, FaultyChatModel, FaultyPlanet, wrap_planets
from sun._graph import SunRuntime, SunState, build_sun_graph
from sun._guard import guard
from sun._health import HealthBoard
from sun._models import (
    ModelSpec,
    build_chat_model,
    default_model_spec,
    local_available,
    local_model_path,
    parse_model_spec,
)
from sun._reasoning import LlmReasoner, QuantReasoner, Reasoning, ReasonInputs
from sun._routing import Route, RoutingTree
from sun._settings import Settings, load_settings
from sun._structured import StructuredLLM, StructuredResult
from sun._sun import Sun

__all__ = [
    "BreakerConfig",
    "ChainPolicy",
    "CircuitBreaker",
    "Council",
    "FallbackChain",
    "FaultSchedule",
    "FaultyChatModel",
    "FaultyPlanet",
    "HealthBoard",
    "Vote",
    "aggregate",
    "default_variants",
    "is_transient",
    "risk_gate",
    "wrap_planets",
    "LlmReasoner",
    "ModelSpec",
    "QuantReasoner",
    "ReasonInputs",
    "Reasoning",
    "Route",
    "RoutingTree",
    "Settings",
    "StructuredLLM",
    "StructuredResult",
    "Sun",
    "SunRuntime",
    "SunState",
    "build_chat_model",
    "build_sun_graph",
    "default_model_spec",
    "guard",
    "load_settings",
    "local_available",
    "local_model_path",
    "parse_model_spec",
]
