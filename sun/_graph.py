"""The sun as a LangGraph StateGraph.

ingest -> moons -> route -> (planets in parallel via Send, + recall) -> reason -> guard ->
propagate. Each node is a small function over :class:`SunState`; the collaborators (planets,
reasoners, limits, recall, journal) live in a :class:`SunRuntime` captured at build time.
"""

from __future__ import annotations

import operator
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import Send

import moons
from bus import (
    MarketSnapshot,
    MoonPanel,
    PlanetReport,
    SunDecision,
    load_csv,
)
from planets import Planet, PlanetContext, RiskLimits
from sun._council import Council
from sun._decide import _planet_view, _reason
from sun._fallback import ChainPolicy, FallbackChain
from sun._guard import guard
from sun._health import HealthBoard
from sun._panel import compute_panel
from sun._reasoning import LlmReasoner, QuantReasoner, Reasoning
from sun._routing import RoutingTree

Recaller = Callable[[str, MoonPanel], list[str]]
DecisionSink = Callable[[SunDecision], None]


class SunState(TypedDict, total=False):
    """The sun graph's state. ``request`` is the JSON-friendly input used by Studio and the CLI."""

    request: dict[str, Any]
    snapshot: MarketSnapshot
    instrument: str
    position: float
    panel: MoonPanel
    route: dict[str, Any]
    reports: Annotated[list[PlanetReport], operator.add]
    recalled: list[str]
    reasoning: Reasoning
    decision: SunDecision
    directives: list[dict[str, Any]]


@dataclass
class SunRuntime:
    """Collaborators of the sun graph.

    Attributes:
        planets: Planets by name (must include ``risk``; ``execution`` sizes orders).
        llm: The deep-tier reasoner, or None for quant only.
        llm_policy: ``always`` asks the LLM on every non-emergency decision; ``auto`` skips it
            when the directional planets agree strongly (the quant answer is then as good).
        planet_mode: ``inline`` runs each planet's select/score in the Send task (fast path);
            ``subgraph`` invokes each planet's compiled subgraph (per-planet traces, slower).
        chain: The model fallback chain (primary, backups). Built from ``llm`` when unset.
        council: The planet council that decides when every model level failed.
        planet_timeout_s: Per-planet timeout in the fan-out (None: no bound, no thread hop);
            a planet that does not answer in time reports "no data" naming the timeout.
        health: Heartbeats of models and planets (``Sun.health()``).
    """

    planets: Mapping[str, Planet]
    limits: RiskLimits = field(default_factory=RiskLimits)
    llm: LlmReasoner | None = None
    quant: QuantReasoner = field(default_factory=QuantReasoner)
    llm_policy: str = "always"
    planet_mode: str = "inline"
    routing: RoutingTree = field(default_factory=RoutingTree)
    panel_spec: moons.PanelSpec = moons.DEFAULT_PANEL
    cache: moons.MoonCache = moons.DEFAULT_CACHE
    recaller: Recaller | None = None
    sinks: list[DecisionSink] = field(default_factory=list)
    agree_threshold: float = 0.6
    chain: FallbackChain | None = None
    council: Council = field(default_factory=Council)
    planet_timeout_s: float | None = None
    health: HealthBoard = field(default_factory=HealthBoard)
    _subgraphs: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    _pool: ThreadPoolExecutor | None = field(default=None, init=False, repr=False)
    _pool_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def fallback_chain(self) -> FallbackChain | None:
        """The model chain; a one-level chain around ``llm`` if only that was given."""
        if self.chain is None and self.llm is not None:
            self.chain = FallbackChain.build(
                [(self.llm.label, self.llm.llm)], ChainPolicy(), health=self.health
            )
        return self.chain

    def planet_pool(self) -> ThreadPoolExecutor:
        """The shared executor that bounds planet calls with ``planet_timeout_s``."""
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(16, thread_name_prefix="heliarch-planet")
            return self._pool

    def close(self) -> None:
        """Stop worker threads (hung planets are abandoned, not joined)."""
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
        self.council.close()

    @property
    def directional(self) -> frozenset[str]:
        """Names of the planets that vote on direction."""
        return frozenset(name for name, planet in self.planets.items() if planet.directional)

    def subgraph(self, name: str) -> Any:
        """The compiled subgraph of planet ``name`` (built once)."""
        if name not in self._subgraphs:
            self._subgraphs[name] = self.planets[name].graph()
        return self._subgraphs[name]


def _snapshot_from_request(request: Mapping[str, Any]) -> MarketSnapshot:
    if "snapshot" in request:
        return MarketSnapshot.model_validate(request["snapshot"])
    if "csv" in request:
        symbol = request.get("symbol") or Path(request["csv"]).stem
        series = load_csv(request["csv"], symbol)
        as_of = request.get("as_of")
        stamp = datetime.fromisoformat(as_of) if as_of else series.last_timestamp
        return MarketSnapshot.at(stamp, {symbol: series})
    raise ValueError("request needs 'snapshot' (a MarketSnapshot) or 'csv' (+ 'symbol', 'as_of')")


def build_sun_graph(runtime: SunRuntime, *, checkpointer: Any = None, name: str = "sun") -> Any:
    """Compile the sun graph for ``runtime`` (``checkpointer=None``: no persistence)."""

    def ingest(state: SunState) -> SunState:
        snapshot = state.get("snapshot")
        if snapshot is None:
            snapshot = _snapshot_from_request(state.get("request") or {})
        elif not isinstance(snapshot, MarketSnapshot):
            snapshot = MarketSnapshot.model_validate(snapshot)
        instrument = state.get("instrument") or snapshot.instruments[0]
        if instrument not in snapshot.bars:
            raise KeyError(
                f"instrument {instrument!r} is not in the snapshot {snapshot.instruments}"
            )
        return {
            "snapshot": snapshot,
            "instrument": instrument,
            "position": state.get("position", 0.0),
        }

    def moon_panel(state: SunState) -> SunState:
        snapshot = state["snapshot"]
        panel = compute_panel(snapshot, runtime.panel_spec, runtime.cache)
        # Past this point only the panel and the last bars are read; dropping the long
        # history keeps every later checkpoint (and every planet task) small.
        return {"panel": panel, "snapshot": _recent_view(snapshot)}

    def route(state: SunState) -> SunState:
        instrument, snapshot = state["instrument"], state["snapshot"]
        chosen = runtime.routing.route(
            state["panel"].for_instrument(instrument), bool(snapshot.headlines_for(instrument))
        )
        planets = tuple(p for p in chosen.planets if p in runtime.planets)
        return {"route": {"planets": planets, "params": dict(chosen.params), "path": chosen.path}}

    def fan_out(state: SunState) -> list[Send]:
        instrument, snapshot = state["instrument"], state["snapshot"]
        row = state["panel"].for_instrument(instrument)
        view = _planet_view(snapshot, instrument)
        sends = [
            Send(
                "consult",
                {
                    "planet": name,
                    "context": PlanetContext(
                        instrument=instrument,
                        as_of=snapshot.as_of,
                        moons=row,
                        snapshot=view,
                        limits=runtime.limits,
                        params=state["route"]["params"].get(name, {}),
                    ),
                },
            )
            for name in state["route"]["planets"]
        ]
        if runtime.recaller is not None:  # no memory configured: no recall task to schedule
            sends.append(Send("recall", {"instrument": instrument, "panel": state["panel"]}))
        return sends

    def consult(task: dict[str, Any]) -> SunState:
        name, context = task["planet"], task["context"]
        planet = runtime.planets[name]

        def ask() -> PlanetReport:
            if runtime.planet_mode == "subgraph":
                return runtime.subgraph(name).invoke({"context": context})["report"]
            return planet.report(context)

        started = time.perf_counter()
        error: str | None = None
        timeout = runtime.planet_timeout_s
        try:
            if timeout is None:
                report = _checked(ask())
            else:
                report = _checked(runtime.planet_pool().submit(ask).result(timeout=timeout))
        except FutureTimeout:
            error = f"planet timed out after {timeout:g}s"
        except Exception as failure:  # contained: one failing planet never blocks the others
            error = f"planet failed: {type(failure).__name__}: {failure}"
        if error is not None:
            report = planet.no_data(context, {}, error[:300])
        latency = (time.perf_counter() - started) * 1e3
        runtime.health.beat("planet", name, latency, error is None, error)
        return {"reports": [report]}

    def recall(task: dict[str, Any]) -> SunState:
        if runtime.recaller is None:
            return {"recalled": []}
        return {"recalled": list(runtime.recaller(task["instrument"], task["panel"]))}

    def reason(state: SunState) -> SunState:
        return {"reasoning": _reason(runtime, state)}

    def guard_node(state: SunState) -> SunState:
        reasoning = state["reasoning"]
        reports = tuple(sorted(state.get("reports", []), key=lambda r: r.planet))
        guarded, corrections = guard(reasoning.decision, reports, runtime.limits)
        snapshot = state["snapshot"]
        decision = SunDecision(
            instrument=state["instrument"],
            as_of=snapshot.as_of,
            action=guarded.action,
            target_position=guarded.target_position,
            confidence=guarded.confidence,
            rationale=guarded.rationale,
            reasoner=reasoning.reasoner,
            fallback_level=reasoning.level,
            attempts=reasoning.attempts,
            emergency=reasoning.level == "emergency",
            planet_reports=reports,
            corrections=corrections,
            llm_usage=reasoning.usage,
            prompt=reasoning.prompt,
            routed_planets=tuple(state["route"]["planets"]),
            recalled=tuple(state.get("recalled", [])),
        )
        return {"decision": decision}

    def propagate(state: SunState) -> SunState:
        decision = state["decision"]
        execution = runtime.planets.get("execution")
        if execution is not None and hasattr(execution, "order_intent"):
            context = PlanetContext(
                instrument=decision.instrument,
                as_of=decision.as_of,
                moons=state["panel"].for_instrument(decision.instrument),
                snapshot=_planet_view(state["snapshot"], decision.instrument),
                limits=runtime.limits,
            )
            intent = execution.order_intent(context, decision.target_position, state["position"])
            decision = decision.model_copy(update={"order_intent": intent})
        directives = [
            {
                "to": name,
                "instrument": decision.instrument,
                "action": decision.action,
                "target_position": decision.target_position,
            }  # fmt: skip
            for name in runtime.planets
        ]
        for sink in runtime.sinks:
            sink(decision)
        return {"decision": decision, "directives": directives}

    builder = StateGraph(SunState)
    builder.add_node("ingest", ingest)
    builder.add_node("moons", moon_panel)
    builder.add_node("route", route)
    builder.add_node("consult", consult)
    builder.add_node("recall", recall)
    builder.add_node("reason", reason)
    builder.add_node("guard", guard_node)
    builder.add_node("propagate", propagate)
    builder.add_edge(START, "ingest")
    builder.add_edge("ingest", "moons")
    builder.add_edge("moons", "route")
    builder.add_conditional_edges("route", fan_out, ["consult", "recall"])
    builder.add_edge("consult", "reason")
    builder.add_edge("recall", "reason")
    builder.add_edge("reason", "guard")
    builder.add_edge("guard", "propagate")
    builder.add_edge("propagate", END)
    return builder.compile(checkpointer=checkpointer, name=name)


def _recent_view(snapshot: MarketSnapshot) -> MarketSnapshot:
    """The snapshot with each history cut to its last bar (headlines and books kept)."""
    return snapshot.model_copy(
        update={
            "bars": {name: series.tail(1) for name, series in snapshot.bars.items()},
            "benchmark": snapshot.benchmark.tail(1) if snapshot.benchmark is not None else None,
        }
    )


def _checked(report: PlanetReport) -> PlanetReport:
    """Re-validate a planet's report at the boundary (a buggy planet may skip validation)."""
    return PlanetReport.model_validate(report.model_dump())
