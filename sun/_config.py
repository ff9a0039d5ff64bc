"""The sun's settings, grouped by concern in frozen objects (see :class:`sun.Sun`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import moons
from bus import Authority, EscalationAlert, MoonPanel, SunDecision
from sun._authority import parse_authority
from sun._policy_router import PolicyRouter
from sun._routing import Router
from sun._sizing import ConfidenceSizing
from sun._telemetry import Telemetry
from sun.llm import LlmResponseCache
from sun.mesh import MeshConfig
from sun.policy import Policy
from sun.resilience import ChainPolicy, Council, HealthEvent

if TYPE_CHECKING:
    from prompts import LiveExperiment

Recaller = Callable[[str, MoonPanel], list[str]]
"""Memory hook of the recall node: (instrument, panel) -> similar past situations, as text."""
DecisionSink = Callable[[SunDecision], None]
"""Called with every decision (journals, memories, learners)."""
AlertSink = Callable[[EscalationAlert], None]
"""Called with the alert of every ESCALATE decision (e.g. :func:`sun.bus_alert_sink`)."""

LlmPolicy = Literal["always", "auto"]
PlanetMode = Literal["inline", "subgraph"]


def parse_llm_policy(value: str) -> LlmPolicy:
    """``value`` as an LLM policy, or a ValueError naming the choices."""
    if value == "always":
        return "always"
    if value == "auto":
        return "auto"
    raise ValueError(f"llm_policy must be 'always' or 'auto', got {value!r}")


@dataclass(frozen=True)
class ModelConfig:
    """Which chat models reason, and how they are called.

    Attributes:
        chat_model: An already-built LangChain chat model used instead of the ``sun_model``
            spec (e.g. a provider object, a fault-injecting wrapper).
        backup_models: Tried in order after the primary: spec strings, chat models, or
            ``(label, chat_model)`` pairs. ``None``: ``settings.backup_models``.
        chain_policy: Per-call timeout, retries, breaker and throttling of every model level.
            ``None``: defaults with ``settings.llm_timeout_s``.
        llm_cache: Response cache for every model level (``LlmResponseCache()`` in process,
            ``LlmResponseCache.redis(url)`` shared by workers); hits count in
            ``decision.llm_usage.cache_hits``.
        prompt_experiment: A live A/B experiment on the reasoning prompt; each LLM-reasoned
            decision uses its arm (recorded in ``decision.prompt``). Needs an LLM sun model.
        clock: Time source (seconds) of breaker cool-downs, shedding and level deadlines;
            ``time.monotonic`` by default. Tests inject a manual clock instead of sleeping.
        mesh: Model mesh: metadata and prices, quick/deep tier routing with refinement,
            budgets and rate limits (see :mod:`sun.mesh`). None: the chain as configured.
        authority: Every model level's authority (``decide``, ``adjust``, ``explain``).
            ``None``: a model built from its spec gets the level its stored check allows
            (``heliarch models check``; the shipped measurement for ``local``); an unmeasured
            or injected model decides (``Sun.authority`` says which source applied).
        authority_band: How far ``adjust`` may move the quant target (0 < band <= 1).
    """

    chat_model: Any = None
    backup_models: Sequence[Any] | None = None
    chain_policy: ChainPolicy | None = None
    llm_cache: LlmResponseCache | None = None
    prompt_experiment: LiveExperiment | None = None
    clock: Callable[[], float] = time.monotonic
    mesh: MeshConfig | None = None
    authority: Authority | None = None
    authority_band: float = 0.25

    def __post_init__(self) -> None:
        if self.authority is not None:
            parse_authority(self.authority)
        if not 0.0 < self.authority_band <= 1.0:
            raise ValueError(f"authority_band must be in (0, 1]; got {self.authority_band}")


@dataclass(frozen=True)
class OrchestrationConfig:
    """How one decision runs through the hierarchy.

    Attributes:
        llm_policy: ``always`` asks the LLM on every non-emergency decision; ``auto`` skips it
            when the directional planets agree strongly (the quant answer is then as good).
        agree_threshold: The confidence every directional planet needs for ``auto`` to skip.
        planet_mode: ``inline`` runs each planet's select/score in the fan-out task (fast
            path); ``subgraph`` invokes each planet's compiled subgraph (per-planet traces).
        planet_timeout_s: Per-planet timeout (None: unbounded, no thread hop); a planet that
            does not answer in time reports "no data" naming the timeout.
        router: Chooses the planets per query (default: :class:`PolicyRouter` over the shipped
            ``trading_default`` policy, which routes exactly as :class:`RoutingTree`; pass
            ``RoutingTree()`` to use the tree in code).
        policy: A policy (a shipped name such as ``trading_default``, a YAML path, or a loaded
            ``Policy``); when set, the router is ``PolicyRouter.load(policy)`` and ``router``
            must be left at its default.
        trust_weights: Planet weights for the quant reasoner and the council (equal by
            default); kept by reference, so a learning loop can update them in place.
        council: The planet council used when every model failed; by default the directional
            planets plus ``council_variants`` technical variants.
        council_variants: How many technical variants join the default council (0-5).
        moon_cache: Moon-result cache (default: the process-wide ``moons.DEFAULT_CACHE``).
        moon_carry: Each instrument's moon state, carried to the next decision whose history
            extends it (only the new bars are run; verified equal to the full pass, see
            ``moons.PanelCarry``). One per config by default; None: a full pass (or a cache
            hit) on every decision.
        panel_spec: The moon panel computed per decision.
        sizing: Lets a *calibrated* confidence scale the target (e.g.
            ``ConfidenceSizing(loop.calibrated)``); None: confidence never scales size.
    """

    llm_policy: LlmPolicy = "always"
    agree_threshold: float = 0.6
    planet_mode: PlanetMode = "inline"
    planet_timeout_s: float | None = 5.0
    router: Router = field(default_factory=PolicyRouter)
    trust_weights: Mapping[str, float] | None = None
    council: Council | None = None
    council_variants: int = 5
    moon_cache: moons.MoonCache = moons.DEFAULT_CACHE
    moon_carry: moons.PanelCarry | None = field(default_factory=moons.PanelCarry, compare=False)
    panel_spec: moons.PanelSpec = moons.DEFAULT_PANEL
    policy: Policy | str | Path | None = None
    sizing: ConfidenceSizing | None = None

    def __post_init__(self) -> None:
        parse_llm_policy(self.llm_policy)
        if self.planet_mode not in ("inline", "subgraph"):
            raise ValueError(
                f"planet_mode must be 'inline' or 'subgraph', got {self.planet_mode!r}"
            )
        if self.policy is not None:
            self._use_policy(self.policy)
        if not isinstance(self.router, Router):
            raise TypeError(f"router must have route(moons, has_headlines); got {self.router!r}")

    def _use_policy(self, policy: Policy | str | Path) -> None:
        if not isinstance(self.router, PolicyRouter):
            raise ValueError(f"give either router= or policy=, not both (router={self.router!r})")
        object.__setattr__(self, "router", PolicyRouter.load(policy))


@dataclass(frozen=True)
class SunHooks:
    """Callbacks into the rest of an application.

    Attributes:
        recaller: Memory hook of the recall node (e.g. ``UniversalMemory.recaller()``).
        sinks: Called with every decision (e.g. ``LearningLoop.sink``, a journal).
        health_listener: Called with every telemetry event (breaker transitions, sheds).
        telemetry: OpenTelemetry traces and metrics (:class:`sun.Telemetry`); None: off, or
            ``HELIARCH_TELEMETRY=console|otlp`` when ``telemetry_from_env`` is set.
        telemetry_from_env: Read ``HELIARCH_TELEMETRY`` when ``telemetry`` is None.
        alert_sink: Called with the alert of every ESCALATE decision (e.g.
            ``bus_alert_sink(client)`` publishes it on the bus's CRITICAL lane).
    """

    recaller: Recaller | None = None
    sinks: Sequence[DecisionSink] = ()
    health_listener: Callable[[HealthEvent], None] | None = None
    telemetry: Telemetry | None = None
    telemetry_from_env: bool = True
    alert_sink: AlertSink | None = None
