"""Fault injection for drills and tests: seeded faults around real models and planets, and a
scripted chat model standing in for a remote LLM API.

from sun.testing import FaultSchedule, FaultyChatModel, wrap_planets
flaky = FaultyChatModel(inner=model, schedule=FaultSchedule.parse("error:0.5", seed=1))
"""

from sun.llm._scripted import ScriptedChatModel
from sun.resilience._faults import (
    MODEL_FAULTS,
    PLANET_FAULTS,
    FaultSchedule,
    FaultyChatModel,
    FaultyPlanet,
    HttpStatusError,
    wrap_planets,
)

__all__ = [
    "MODEL_FAULTS",
    "PLANET_FAULTS",
    "FaultSchedule",
    "FaultyChatModel",
    "FaultyPlanet",
    "HttpStatusError",
    "ScriptedChatModel",
    "wrap_planets",
]
