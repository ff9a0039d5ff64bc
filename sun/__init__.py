"""The sun: a LangGraph supervisor over planets and moons.

    from sun import Sun
    decision = Sun().decide(snapshot)

``Sun`` is the entry point, configured by frozen objects (:class:`ModelConfig`,
:class:`OrchestrationConfig`, :class:`SunHooks`); ``build_sun_graph`` gives the raw compiled
graph, whose nodes read a :class:`SunContext`. Models are in :mod:`sun.llm`, fallback and
council in :mod:`sun.resilience`, journals and replay in :mod:`sun.replay`, fault injection
in :mod:`sun.testing`, model checks (input sensitivity, authority) in :mod:`sun.checks`.
A policy's HIL_REVIEW decisions wait in the checkpointer: ``Sun.pending_reviews()`` lists them,
``Sun.review(thread_id, "approve" | "reject" | "modify", ...)`` answers; ESCALATE alerts go to
``SunHooks(alert_sink=...)`` (``bus_alert_sink`` puts them on the bus).
"""

from sun._authority import (
    AUTHORITIES,
    AdjustAnswer,
    ExplainAnswer,
    LlmAnswer,
    rationale_problem,
)
from sun._config import (
    AlertSink,
    DecisionSink,
    LlmPolicy,
    ModelConfig,
    OrchestrationConfig,
    Recaller,
    SunHooks,
    parse_llm_policy,
)
from sun._context import PlanetWorkers, SunContext
from sun._gate import REVIEW_KIND, ReviewAnswer, review_answer
from sun._grants import AuthorityThresholds, ModelCheckStore, allowed_authority
from sun._graph import build_sun_graph
from sun._guard import guard, risk_problem
from sun._llm_reasoner import LlmReasoner
from sun._panel import compute_panel
from sun._policy_router import PolicyRouter, policy_from
from sun._reasoning import QuantReasoner, Reasoning, ReasonInputs
from sun._request import DecisionRequest
from sun._review import ALERTS, bus_alert_sink
from sun._routing import Route, Router, RoutingTree, StyleRouting
from sun._settings import Settings, load_settings
from sun._sizing import Calibration, ConfidenceSizing, size_by_confidence
from sun._state import SunState
from sun._sun import Sun
from sun._telemetry import TELEMETRY_ENV, Telemetry
from sun.llm import (
    LlmResponseCache,
    ModelSpec,
    StructuredLLM,
    StructuredResult,
    build_chat_model,
    default_model_spec,
    local_available,
    local_model_path,
    parse_model_spec,
)
from sun.resilience import (
    BreakerConfig,
    ChainPolicy,
    CircuitBreaker,
    Council,
    FallbackChain,
    HealthBoard,
    Vote,
    aggregate,
    default_variants,
    risk_gate,
)

__all__ = [
    "DecisionRequest",
    "ALERTS",
    "AlertSink",
    "REVIEW_KIND",
    "ReviewAnswer",
    "bus_alert_sink",
    "review_answer",
    "Calibration",
    "ConfidenceSizing",
    "size_by_confidence",
    "TELEMETRY_ENV",
    "Telemetry",
    "rationale_problem",
    "allowed_authority",
    "ModelCheckStore",
    "ExplainAnswer",
    "AuthorityThresholds",
    "AdjustAnswer",
    "AUTHORITIES",
    "BreakerConfig",
    "ChainPolicy",
    "CircuitBreaker",
    "Council",
    "DecisionSink",
    "FallbackChain",
    "HealthBoard",
    "LlmAnswer",
    "LlmPolicy",
    "LlmReasoner",
    "LlmResponseCache",
    "ModelConfig",
    "ModelSpec",
    "OrchestrationConfig",
    "PlanetWorkers",
    "QuantReasoner",
    "ReasonInputs",
    "Reasoning",
    "Recaller",
    "PolicyRouter",
    "Route",
    "Router",
    "RoutingTree",
    "Settings",
    "StructuredLLM",
    "StructuredResult",
    "StyleRouting",
    "Sun",
    "SunContext",
    "SunHooks",
    "SunState",
    "Vote",
    "aggregate",
    "build_chat_model",
    "build_sun_graph",
    "compute_panel",
    "default_model_spec",
    "default_variants",
    "guard",
    "load_settings",
    "local_available",
    "local_model_path",
    "parse_llm_policy",
    "parse_model_spec",
    "policy_from",
    "risk_gate",
    "risk_problem",
]
