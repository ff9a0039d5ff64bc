"""What keeps the sun deciding when parts fail: the model fallback chain, circuit breakers,
health heartbeats, and the Byzantine-robust planet council.

Fault injection for drills and tests lives in :mod:`sun.testing`.
"""

from sun.resilience._breaker import BreakerConfig, CircuitBreaker, LatencyWindow, Transition
from sun.resilience._chain import FallbackChain, ModelLevel
from sun.resilience._council import (
    COUNCIL,
    HOLD_LEVEL,
    Council,
    RiskGate,
    Verdict,
    default_variants,
    risk_gate,
)
from sun.resilience._guarded import ChainPolicy, GuardedLLM
from sun.resilience._health import HealthBoard, HealthEvent, Heartbeat
from sun.resilience._votes import Aggregate, Vote, aggregate, fault_tolerance, quorum

__all__ = [
    "COUNCIL",
    "HOLD_LEVEL",
    "Aggregate",
    "BreakerConfig",
    "ChainPolicy",
    "CircuitBreaker",
    "Council",
    "FallbackChain",
    "GuardedLLM",
    "HealthBoard",
    "HealthEvent",
    "Heartbeat",
    "LatencyWindow",
    "ModelLevel",
    "RiskGate",
    "Transition",
    "Verdict",
    "Vote",
    "aggregate",
    "default_variants",
    "fault_tolerance",
    "quorum",
    "risk_gate",
]
