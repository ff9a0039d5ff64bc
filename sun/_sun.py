"""``Sun``: the Python entry point. Build once, then ``decide(snapshot)`` as often as needed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import moons
from bus import MarketSnapshot, SunDecision
from planets import Planet, RiskLimits, default_planets
from sun._checkpoint import open_checkpointer
from sun._council import Council, default_variants
from sun._fallback import ChainPolicy, FallbackChain
from sun._graph import DecisionSink, Recaller, SunRuntime, build_sun_graph
from sun._health import HealthBoard, HealthEvent
from sun._llm_cache import CachingChatModel, LlmResponseCache
from sun._models import build_chat_model, default_model_spec, parse_model_spec
from sun._reasoning import QuantReasoner
from sun._routing import RoutingTree
from sun._settings import Settings
from sun._structured import StructuredLLM

if TYPE_CHECKING:
    from prompts import LiveExperiment


class Sun:
    """The supervisor: moons -> planets -> reasoning -> guard, as a LangGraph graph.

    Args:
        sun_model: Model spec of the deep tier (``local``, ``quant``, ``anthropic:<model>``,
            ...). Defaults to ``settings.sun_model``, then ``local`` if installed, else ``quant``.
        settings: Configuration (environment ``HELIARCH_*`` by default).
        planets: Planets by name; the four built-ins by default.
        limits: Risk limits; ``settings.limits`` by default.
        llm_policy: ``always`` or ``auto`` (skip the LLM when the planets agree strongly).
        planet_mode: ``inline`` (fast path) or ``subgraph`` (each planet's compiled subgraph).
        checkpoint: ``auto`` (PostgreSQL if ``settings.checkpoint_url`` is set, else a SQLite
            file under ``settings.data_dir``), ``none``, a SQLite path or a PostgreSQL URL.
        chat_model: An already-built LangChain chat model to use instead of ``sun_model``.
        trust_weights: Planet weights for the quant reasoner and the council (equal by default).
        recaller: Memory hook of the recall node (e.g. ``UniversalMemory.recaller()``).
        sinks: Called with every decision (e.g. ``LearningLoop.sink``, a journal).
        backup_models: Backup sun models, tried in order after the primary: spec strings,
            chat models, or ``(label, chat_model)`` pairs. Default: ``settings.backup_models``
            (``HELIARCH_BACKUP_MODELS``, comma-separated specs).
        chain_policy: Per-call timeout, retries, breaker and throttling of the model levels;
            by default the timeout is ``settings.llm_timeout_s``.
        council: The planet council used when every model failed; by default the routed
            directional planets plus ``council_variants`` technical variants.
        council_variants: How many technical variants join the default council (0-5).
        planet_timeout_s: Per-planet timeout in the fan-out (None: unbounded, no thread hop).
        health_listener: Called with every telemetry event (breaker transitions, sheds).
        llm_cache: Response cache for every model level (``LlmResponseCache()`` in process,
            ``LlmResponseCache.redis(url)`` shared by all workers); hits count in
            ``decision.llm_usage.cache_hits``.
        routing: The routing tree (default ``RoutingTree()``).
        moon_cache: Moon-result cache (default: the process-wide ``moons.DEFAULT_CACHE``).
        prompt_experiment: A :class:`prompts.LiveExperiment` on the reasoning prompt: each
            LLM-reasoned decision uses its arm (recorded in ``decision.prompt``); feed outcomes
            with ``LearningLoop(prompt_experiment=...)``. Needs an LLM sun model.
    """

    def __init__(
        self,
        sun_model: str | None = None,
        *,
        settings: Settings | None = None,
        planets: Mapping[str, Planet] | None = None,
        limits: RiskLimits | None = None,
        llm_policy: str = "always",
        planet_mode: str = "inline",
        checkpoint: str = "auto",
        chat_model: Any = None,
        trust_weights: Mapping[str, float] | None = None,
        recaller: Recaller | None = None,
        sinks: list[DecisionSink] | None = None,
        backup_models: Sequence[Any] | None = None,
        chain_policy: ChainPolicy | None = None,
        council: Council | None = None,
        council_variants: int = 5,
        planet_timeout_s: float | None = 5.0,
        health_listener: Callable[[HealthEvent], None] | None = None,
        llm_cache: LlmResponseCache | None = None,
        routing: RoutingTree | None = None,
        moon_cache: moons.MoonCache | None = None,
        prompt_experiment: LiveExperiment | None = None,
    ) -> None:
        if llm_policy not in ("always", "auto"):
            raise ValueError(f"llm_policy must be 'always' or 'auto', got {llm_policy!r}")
        if planet_mode not in ("inline", "subgraph"):
            raise ValueError(f"planet_mode must be 'inline' or 'subgraph', got {planet_mode!r}")
        self.settings = settings or Settings()
        self.model_spec = sun_model or self.settings.sun_model or default_model_spec()
        chosen_planets = dict(planets or default_planets())
        if "risk" not in chosen_planets:
            raise ValueError("a sun needs a 'risk' planet: risk supersedes every decision")
        self.health_board = HealthBoard(listener=health_listener)
        self.llm_cache = llm_cache
        self.chain_policy = chain_policy or ChainPolicy(timeout_s=self.settings.llm_timeout_s)
        if backup_models is None:
            backup_models = list(self.settings.backup_models)
        self.runtime = SunRuntime(
            planets=chosen_planets,
            limits=limits or self.settings.limits,
            llm=None,
            quant=QuantReasoner(trust_weights),
            llm_policy=llm_policy,
            planet_mode=planet_mode,
            recaller=recaller,
            sinks=list(sinks or []),
            chain=self._chain(chat_model, backup_models),
            council=council
            or Council(default_variants(chosen_planets, council_variants), trust_weights),
            planet_timeout_s=planet_timeout_s,
            health=self.health_board,
            routing=routing or RoutingTree(),
            cache=moon_cache or moons.DEFAULT_CACHE,
        )
        if prompt_experiment is not None:
            self._attach_experiment(prompt_experiment)
        self._stack = ExitStack()
        self.checkpointer = self._checkpointer(checkpoint)
        self.graph = build_sun_graph(self.runtime, checkpointer=self.checkpointer)

    def _attach_experiment(self, experiment: LiveExperiment) -> None:
        chain = self.runtime.chain
        if chain is None:
            raise ValueError(
                f"a live prompt experiment needs an LLM sun model; {self.model_spec!r} has no "
                "prompt to vary"
            )
        for level in chain.levels:
            level.reasoner.experiment = experiment

    def _build(self, spec: str) -> tuple[str, StructuredLLM]:
        parsed = parse_model_spec(spec)
        if not parsed.is_llm:
            raise ValueError(f"backup model {spec!r} is not an LLM (the council follows them)")
        model = build_chat_model(
            parsed, max_tokens=self.settings.llm_max_tokens, timeout_s=self.chain_policy.timeout_s
        )
        return self._structured(parsed.label, model)

    def _structured(self, label: str, model: Any) -> tuple[str, StructuredLLM]:
        """A counted structured caller for ``model``, behind the LLM response cache if set."""
        if self.llm_cache is not None:
            model = CachingChatModel(inner=model, response_cache=self.llm_cache, model_label=label)
        return label, StructuredLLM(model, label)

    def _chain(self, chat_model: Any, backups: Sequence[Any]) -> FallbackChain | None:
        spec = parse_model_spec(self.model_spec)
        models: list[tuple[str, StructuredLLM]] = []
        if chat_model is not None:
            models.append(self._structured(spec.label, chat_model))
        elif spec.is_llm:
            models.append(self._build(self.model_spec))
        if not models:
            return None
        for backup in backups:
            if isinstance(backup, str):
                models.append(self._build(backup))
            elif isinstance(backup, tuple):
                label, model = backup
                models.append(self._structured(label, model))
            else:
                label = f"model:{getattr(backup, '_llm_type', type(backup).__name__)}"
                models.append(self._structured(label, backup))
        return FallbackChain.build(models, self.chain_policy, health=self.health_board)

    def health(self) -> dict[str, Any]:
        """Health view: per model level (breaker, throttle, heartbeat) and per planet.

        Returns:
            ``{"models": {level: {...}}, "planets": {name: {...}}, "events": [...]}`` where a
            model entry has ``model``, ``breaker`` (state, transitions), ``shed``,
            ``p95_latency_ms`` and the heartbeat (``last_ok``, ``age_s``, ``status``, ...).
        """
        beats = self.health_board.view()
        models: dict[str, Any] = {}
        chain = self.runtime.chain
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
        """
        state: dict[str, Any] = {"snapshot": snapshot, "position": position}
        if instrument is not None:
            state["instrument"] = instrument
        return self._run(state, thread_id)

    def decide_request(
        self, request: Mapping[str, Any], *, thread_id: str | None = None
    ) -> SunDecision:
        """Decide from a JSON-style request: ``{"csv": path, "symbol": ..., "as_of": ...}``."""
        return self._run({"request": dict(request)}, thread_id)

    def resume(self, thread_id: str) -> SunDecision:
        """Continue an interrupted run from its last checkpoint."""
        if self.checkpointer is None:
            raise RuntimeError("resume needs a checkpointer (checkpoint='none' was chosen)")
        return self._run(None, thread_id)

    async def adecide(
        self,
        snapshot: MarketSnapshot,
        instrument: str | None = None,
        *,
        position: float = 0.0,
        thread_id: str | None = None,
    ) -> SunDecision:
        """Async :meth:`decide` (runs the graph in a worker thread; the event loop stays free)."""
        return await asyncio.to_thread(
            self.decide, snapshot, instrument, position=position, thread_id=thread_id
        )

    def _run(self, state: dict[str, Any] | None, thread_id: str | None) -> SunDecision:
        config: dict[str, Any] = {}
        if self.checkpointer is not None:
            config = {"configurable": {"thread_id": thread_id or uuid.uuid4().hex}}
        result = self.graph.invoke(state, config)
        return result["decision"]

    def add_sink(self, sink: Callable[[SunDecision], None]) -> None:
        """Call ``sink(decision)`` after every decision (journals, memories, learners)."""
        self.runtime.sinks.append(sink)

    def close(self) -> None:
        """Close checkpoint connections and worker threads."""
        self.runtime.close()
        self._stack.close()

    def __enter__(self) -> Sun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
