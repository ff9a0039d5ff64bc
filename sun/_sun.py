"""``Sun``: the Python entry point. Build once, then ``decide(snapshot)`` as often as needed."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import replace
from typing import Any

from bus import MarketSnapshot, SunDecision
from planets import Planet, RiskLimits, default_planets
from sun._assembly import ModelAssembly
from sun._checkpointer import open_checkpointer
from sun._config import ModelConfig, OrchestrationConfig, SunHooks
from sun._context import SunContext
from sun._graph import build_sun_graph
from sun._reasoning import QuantReasoner
from sun._request import decision_state, parse_request
from sun._review import SunReviews, decision_of, run_config
from sun._routing import Router
from sun._settings import Settings
from sun._stream import SunStreams
from sun._sun_universe import SunUniverse
from sun._telemetry import Telemetry
from sun.llm import (
    LlmResponseCache,
    ModelRegistry,
    default_model_spec,
)
from sun.mesh import Budget, BudgetConfig, Mesh, meter_chain
from sun.resilience import (
    ChainPolicy,
    Council,
    HealthBoard,
    HealthEvent,
    default_variants,
)


class Sun(SunStreams, SunReviews, SunUniverse):
    """The supervisor: moons -> planets -> reasoning -> guard, as a LangGraph graph.

    Args:
        sun_model: Model spec of the deep tier (``local``, ``quant``, ``anthropic:<model>``,
            ...). Defaults to ``settings.sun_model``, then ``local`` if installed, else ``quant``.
        settings: Configuration (environment ``HELIARCH_*`` by default).
        planets: Planets by name; the four built-ins by default. Exactly one must have the
            risk role (``planets.Role.RISK``).
        limits: Risk limits; ``settings.limits`` by default.
        models: Chat model overrides, backups, call policy, response cache, prompt experiment.
        orchestration: LLM policy, planet mode and timeout, router, trust weights, council.
        hooks: Memory recall, decision sinks, health listener.
        checkpoint: ``auto`` (PostgreSQL if ``settings.checkpoint_url`` is set, else a SQLite
            file under ``settings.data_dir``), ``none``, a SQLite path or a PostgreSQL URL.
    """

    def __init__(
        self,
        sun_model: str | None = None,
        *,
        settings: Settings | None = None,
        planets: Mapping[str, Planet] | None = None,
        limits: RiskLimits | None = None,
        models: ModelConfig | None = None,
        orchestration: OrchestrationConfig | None = None,
        hooks: SunHooks | None = None,
        checkpoint: str = "auto",
    ) -> None:
        self.settings = settings or Settings()
        self.model_spec = sun_model or self.settings.sun_model or default_model_spec()
        self.models = models or ModelConfig()
        self.orchestration = orchestration or OrchestrationConfig()
        hooks = hooks or SunHooks()
        chosen_planets = dict(planets or default_planets())
        self.telemetry = hooks.telemetry
        if self.telemetry is None and hooks.telemetry_from_env:
            self.telemetry = Telemetry.from_env()
        self.health_board = HealthBoard(listener=_listeners(hooks.health_listener, self.telemetry))
        self.chain_policy = self.models.chain_policy or ChainPolicy(
            timeout_s=self.settings.llm_timeout_s
        )
        self.assembly = ModelAssembly(
            self.settings, self.models, self.chain_policy, self.health_board
        )
        weights = self.orchestration.trust_weights
        self.context = SunContext(
            planets=chosen_planets,
            limits=limits or self.settings.limits,
            orchestration=self.orchestration,
            quant=QuantReasoner(weights),
            chain=self.assembly.chain(self.model_spec),
            council=self.orchestration.council
            or Council(
                default_variants(chosen_planets, self.orchestration.council_variants), weights
            ),
            health=self.health_board,
            recaller=hooks.recaller,
            sinks=list(hooks.sinks),
            telemetry=self.telemetry,
            alert_sink=hooks.alert_sink,
        )
        if self.models.mesh is not None:
            self._attach_mesh()
        elif self.context.chain is not None:  # priced when known, traced when telemetry is on
            budget = Budget(BudgetConfig())  # uncapped: only a policy plan's budget caps it
            meter_chain(
                self.context.chain,
                ModelRegistry.default(),
                strict=False,
                telemetry=self.telemetry,
                budget=budget,
            )
            self.context = replace(self.context, budget=budget)
        self.authority = self.assembly.grant_authority(self.context.chain)
        if self.models.prompt_experiment is not None:
            self._attach_experiment()
        self._stack = ExitStack()
        self.checkpointer = self._checkpointer(checkpoint)
        self.graph = build_sun_graph(checkpointer=self.checkpointer)
        # without a checkpointer nothing is saved between supersteps: decide runs the same
        # nodes fused into three (stream keeps the full graph's update per node)
        self._decide_graph = self.graph if self.checkpointer else build_sun_graph(fused=True)

    @property
    def llm_cache(self) -> LlmResponseCache | None:
        """The LLM response cache every model level goes through, if any."""
        return self.models.llm_cache

    @property
    def router(self) -> Router:
        """The router that picks planets per query."""
        return self.context.orchestration.router

    @router.setter
    def router(self, router: Router) -> None:
        self.orchestration = replace(self.orchestration, router=router)
        self.context = replace(self.context, orchestration=self.orchestration)

    def _attach_experiment(self) -> None:
        chain = self.context.chain
        if chain is None:
            raise ValueError(
                f"a live prompt experiment needs an LLM sun model; {self.model_spec!r} has no "
                "prompt to vary"
            )
        for level in chain.levels:
            level.reasoner.experiment = self.models.prompt_experiment

    def _attach_mesh(self) -> None:
        mesh_config = self.models.mesh
        assert mesh_config is not None
        mesh = Mesh.build(
            mesh_config,
            self.context.chain,
            self.assembly.backup,
            self.chain_policy,
            health=self.health_board,
            clock=self.models.clock,
            telemetry=self.telemetry,
        )
        self.context = replace(self.context, mesh=mesh, budget=mesh.budget)

    def health(self) -> dict[str, Any]:
        """Health view: per model level (breaker, throttle, heartbeat) and per planet.

        Returns:
            ``{"models": {level: {...}}, "planets": {name: {...}}, "events": [...]}`` where a
            model entry has ``model``, ``breaker`` (state, transitions), ``shed``,
            ``p95_latency_ms`` and the heartbeat (``last_ok``, ``age_s``, ``status``, ...).
        """
        beats = self.health_board.view()
        models: dict[str, Any] = {}
        chain = self.context.chain
        if chain is not None:
            for name, state in chain.snapshot().items():
                models[name] = {**state, "heartbeat": beats["models"].get(name)}
        return {
            "models": models,
            "planets": beats["planets"],
            "events": list(self.health_board.events[-20:]),
        }

    def _checkpointer(self, checkpoint: str) -> Any:
        if checkpoint == "none":
            return None
        if checkpoint == "auto":
            checkpoint = self.settings.checkpoint_url or str(
                self.settings.data_dir / "checkpoints.sqlite"
            )
        return open_checkpointer(checkpoint, self._stack)

    def decide(
        self,
        snapshot: MarketSnapshot,
        instrument: str | None = None,
        *,
        position: float = 0.0,
        thread_id: str | None = None,
    ) -> SunDecision:
        """Decide for one instrument of ``snapshot`` (the first one by default).

        Args:
            snapshot: Validated market data as of the decision time.
            instrument: Which instrument to decide for.
            position: The current position fraction (orders move it to the target).
            thread_id: Checkpoint thread; a fresh one per call by default. Reuse it with
                :meth:`resume` to continue an interrupted run.

        Raises:
            DataValidationError: for invalid market data (no partial decision is made).
            ValueError: for a ``position`` that is not finite or outside [-1, 1].
        """
        return self._run(decision_state(snapshot, instrument, position), thread_id)

    def decide_request(
        self, request: Mapping[str, Any], *, thread_id: str | None = None
    ) -> SunDecision:
        """Decide from a JSON-style request: ``{"csv": path, "symbol": ..., "as_of": ...}``.

        The request is validated before anything runs (see ``DecisionRequest``): an unknown
        field, a bad symbol, an ``as_of`` outside the bars or a position outside [-1, 1] is
        one error naming the field.

        Raises:
            pydantic.ValidationError: for an invalid request field.
            ValueError: for an ``as_of`` outside the CSV's bars.
            DataValidationError: for invalid rows in the CSV.
        """
        parse_request(request)
        return self._run({"request": dict(request)}, thread_id)

    def resume(self, thread_id: str) -> SunDecision:
        """Continue an interrupted run from its last checkpoint.

        Raises:
            KeyError: when no run was checkpointed under ``thread_id``.
        """
        if self.checkpointer is None:
            raise RuntimeError("resume needs a checkpointer (checkpoint='none' was chosen)")
        saved = self.graph.get_state({"configurable": {"thread_id": thread_id}})
        if saved.created_at is None:
            raise KeyError(f"no checkpointed run with thread_id {thread_id!r} to resume")
        return self._run(None, thread_id)

    def _config(self, thread_id: str | None) -> dict[str, Any]:
        if self.checkpointer is None:
            return {}
        return run_config(thread_id or uuid.uuid4().hex)

    def _run(self, state: dict[str, Any] | None, thread_id: str | None) -> SunDecision:
        graph = self._decide_graph
        if self.telemetry is None:
            return decision_of(graph.invoke(state, self._config(thread_id), context=self.context))
        with self.telemetry.decision() as trace:
            result = graph.invoke(state, self._config(thread_id), context=self.context)
            decision = trace.decision = decision_of(result)
        return decision

    def add_sink(self, sink: Callable[[SunDecision], None]) -> None:
        """Call ``sink(decision)`` after every decision (journals, memories, learners)."""
        self.context.sinks.append(sink)

    def close(self) -> None:
        """Close checkpoint connections and worker threads."""
        self.context.close()
        self._stack.close()

    def __enter__(self) -> Sun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _listeners(
    listener: Callable[[HealthEvent], None] | None, telemetry: Telemetry | None
) -> Callable[[HealthEvent], None] | None:
    """The health listener, plus telemetry's breaker metrics when telemetry is on."""
    if telemetry is None:
        return listener

    def both(event: HealthEvent) -> None:
        telemetry.health_event(event)
        if listener is not None:
            listener(event)

    return both
