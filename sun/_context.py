"""What the sun graph's nodes are given: :class:`SunContext`, injected by LangGraph as
``runtime.context`` (the graph's ``context_schema``), and the worker pool it owns."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from planets import OrderSizer, Planet, RiskLimits, Role
from sun._config import AlertSink, DecisionSink, OrchestrationConfig, Recaller
from sun._reasoning import QuantReasoner
from sun._telemetry import Telemetry
from sun.mesh import Budget, Mesh
from sun.resilience import Council, FallbackChain, HealthBoard


class PlanetWorkers:
    """The thread pool that bounds planet calls with a timeout, and compiled planet subgraphs.

    Runtime objects, kept apart from settings: created lazily, closed with the sun.
    """

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._subgraphs: dict[str, Any] = {}

    def pool(self) -> ThreadPoolExecutor:
        """The shared executor (created on first use)."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(16, thread_name_prefix="heliarch-planet")
            return self._pool

    def subgraph(self, planet: Planet) -> Any:
        """``planet``'s compiled subgraph (built once per planet name)."""
        with self._lock:
            if planet.name not in self._subgraphs:
                self._subgraphs[planet.name] = planet.graph()
            return self._subgraphs[planet.name]

    def close(self) -> None:
        """Stop the pool's threads (hung planets are abandoned, not joined)."""
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None


@dataclass(frozen=True)
class SunContext:
    """The collaborators of one sun, read by every node of its graph.

    Attributes:
        planets: Planets by name; exactly one has the risk role.
        limits: Risk limits the guard enforces.
        orchestration: How a decision runs (policy, planet mode, timeouts, router).
        quant: The deterministic reasoner (no LLM, and the skip path of ``auto``).
        chain: The model fallback chain, or None for a quant-only sun.
        council: The planet council that decides when every model level failed.
        health: Heartbeats of models and planets.
        recaller: Memory hook of the recall node, or None.
        sinks: Called with every decision (appended to by ``Sun.add_sink``).
        workers: The planet thread pool and subgraph cache.
        mesh: Tiers, refinement, budgets and rate limits (None: no model mesh).
        budget: The ledger every model call of a decision is charged to (the mesh's budgets,
            or an uncapped one), so a policy plan's budget can cap one decision.
        telemetry: OpenTelemetry traces and metrics (None: off).
        alert_sink: Called with the alert of every ESCALATE decision (e.g. ``bus_alert_sink``).
    """

    planets: Mapping[str, Planet]
    limits: RiskLimits
    orchestration: OrchestrationConfig
    quant: QuantReasoner
    chain: FallbackChain | None
    council: Council
    health: HealthBoard
    recaller: Recaller | None = None
    sinks: list[DecisionSink] = field(default_factory=list)
    workers: PlanetWorkers = field(default_factory=PlanetWorkers)
    mesh: Mesh | None = None
    budget: Budget | None = None
    telemetry: Telemetry | None = None
    alert_sink: AlertSink | None = None

    def __post_init__(self) -> None:
        risk = [name for name, planet in self.planets.items() if Role.RISK in planet.roles]
        if len(risk) != 1:
            found = f"found {risk}" if risk else "found none"
            raise ValueError(
                "a sun needs exactly one planet with the risk role (risk supersedes every "
                f"decision); {found}"
            )
        for name in self._with_role(Role.EXECUTION):
            if not isinstance(self.planets[name], OrderSizer):
                raise TypeError(f"execution planet {name!r} has no order_intent()")

    def _with_role(self, role: Role) -> list[str]:
        return [name for name, planet in self.planets.items() if role in planet.roles]

    @property
    def risk_planet(self) -> str:
        """Name of the planet whose report the guard enforces."""
        return self._with_role(Role.RISK)[0]

    @property
    def execution_planet(self) -> OrderSizer | None:
        """The planet that turns decisions into order intents, if any."""
        names = self._with_role(Role.EXECUTION)
        planet = self.planets[names[0]] if names else None
        return planet if isinstance(planet, OrderSizer) else None

    @property
    def directional(self) -> frozenset[str]:
        """Names of the planets that vote on direction."""
        return frozenset(name for name, planet in self.planets.items() if planet.directional)

    def close(self) -> None:
        """Stop worker threads (planets and council)."""
        self.workers.close()
        self.council.close()
