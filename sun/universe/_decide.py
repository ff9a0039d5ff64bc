"""``UniverseEngine``: N instruments decided in one vectorized pass, each as ``decide`` would.

The pass, per tick: moons for every instrument (one warp call when the histories grew by one
bar, see :mod:`sun.universe._moons`) -> data quality (gaps, halts) -> route each instrument
-> each planet scores all instruments routed to it in one array call
(:func:`planets.report_many`) -> recall -> reasoning (emergency, quant over arrays, the
policy skip; the model chain only for the instruments the policy sends to it, at most
``llm_concurrency`` at a time) -> the guard over arrays -> the reflex alerts -> the portfolio
guardian (optional) -> order intents and sinks.

Without reflex alerts and guardian, each decision equals ``Sun.decide(snapshot, instrument)``.
"""

from __future__ import annotations

import contextlib
import gc
import math
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeGuard

import numpy as np

from bus import (
    FallbackAttempt,
    GuardCorrection,
    MarketSnapshot,
    MoonPanel,
    OrderIntent,
    PlanetReport,
    ReasonedDecision,
    SunDecision,
    action_for,
)
from planets import ExecutionPlanet, Planet, PlanetBatch, PlanetContext, VectorPlanet, report_many
from sun._context import SunContext
from sun._guard import guard_many
from sun._plan_runtime import clock_of
from sun._reason import decide_reasoning, planets_agree
from sun._reasoning import QUANT, Reasoning, ReasonInputs
from sun._routing import PolicyRouter, Router, RoutingTree
from sun._view import planet_view
from sun.universe._config import UniverseConfig
from sun.universe._dispose import apply_failure_rule
from sun.universe._guardian import PortfolioLimits, corrections_of, portfolio_guard
from sun.universe._moons import UniverseMoons, last_bars
from sun.universe._quality import quality_reasons
from sun.universe._quant import quant_many
from sun.universe._reflex import ReflexBook, alert_cap

NO_DATA = "no_data"
UNIVERSE = "universe"


class UniverseEngine:
    """Decides whole universes for one sun; keeps the streaming moon state between ticks.

    Args:
        config: Universe settings (LLM concurrency, data-quality checks).
        book: Reflex alerts the next decision applies (a fresh book by default).
    """

    def __init__(self, config: UniverseConfig | None = None, book: ReflexBook | None = None):
        self.config = config or UniverseConfig()
        self.book = book if book is not None else ReflexBook()
        self._moons: UniverseMoons | None = None
        self._lock = threading.Lock()

    def moons_for(self, context: SunContext) -> UniverseMoons:
        """The streaming moon state for the context's panel spec and cache."""
        settings = context.orchestration
        with self._lock:
            held = self._moons
            if (
                held is None
                or held.spec != settings.panel_spec
                or held.cache is not settings.moon_cache
            ):
                held = UniverseMoons(
                    settings.panel_spec, settings.moon_cache, self.config.detach_limit
                )
                self._moons = held
            return held

    def decide(
        self,
        context: SunContext,
        snapshot: MarketSnapshot,
        instruments: Sequence[str] | None = None,
        *,
        positions: Mapping[str, float] | None = None,
        rejected: Mapping[str, str] | None = None,
        portfolio: PortfolioLimits | None = None,
    ) -> dict[str, SunDecision]:
        """One decision per instrument (``instruments``, default all in ``snapshot``).

        Args:
            context: The sun's context (planets, limits, reasoners, sinks).
            snapshot: Market data as of the decision time.
            instruments: Which instruments to decide (order kept).
            positions: Current position per instrument (0 when absent).
            rejected: Instruments whose data was refused at the boundary, with the reason
                (see :func:`load_universe`): each gets a flat "no data" decision.
            portfolio: Limits across instruments, applied after the per-instrument guard.

        Raises:
            KeyError: naming an instrument that is not in the snapshot.
            ValueError: naming an instrument with a non-finite position.
        """
        with _gc_paused():
            return self._decide(context, snapshot, instruments, positions, rejected, portfolio)

    def _decide(
        self,
        context: SunContext,
        snapshot: MarketSnapshot,
        instruments: Sequence[str] | None,
        positions: Mapping[str, float] | None,
        rejected: Mapping[str, str] | None,
        portfolio: PortfolioLimits | None,
    ) -> dict[str, SunDecision]:
        if not isinstance(snapshot, MarketSnapshot):
            snapshot = MarketSnapshot.model_validate(snapshot)
        names = _names(snapshot, instruments, rejected or {})
        held = _positions(positions or {}, names, tuple(rejected or ()))
        series = [snapshot.bars[name] for name in names]
        bars = last_bars(series)
        rows = self.moons_for(context).rows(snapshot, names, bars)
        columns = self.moons_for(context).columns
        skipped = quality_reasons(snapshot, names, bars, self.config)
        live = [i for i, name in enumerate(names) if name not in skipped]
        # planets see the same per-instrument views as in a single decision (built lazily)
        run = _Run(context, snapshot, names, rows, columns, live, held)
        decisions = run.decide(self.config, self.book.take(), portfolio)
        for name, reason in {**skipped, **(rejected or {})}.items():
            decisions[name] = run.no_data(name, reason)
        ordered = {name: decisions[name] for name in (*names, *(rejected or {}))}
        for decision in ordered.values():
            for sink in context.sinks:
                sink(decision)
        return ordered


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection during the pass: it allocates thousands of small, acyclic
    objects (reports, decisions), which would trigger collections that find nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _names(
    snapshot: MarketSnapshot, instruments: Sequence[str] | None, rejected: Mapping[str, str]
) -> tuple[str, ...]:
    names = tuple(instruments) if instruments is not None else snapshot.instruments
    names = tuple(n for n in names if n not in rejected)
    for name in names:
        if name not in snapshot.bars:
            raise KeyError(f"instrument {name!r} is not in the snapshot {snapshot.instruments}")
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise ValueError(f"instrument {twice!r} is listed twice")
    return names


def _vectorized(router: Router) -> TypeGuard[RoutingTree | PolicyRouter]:
    """Whether ``router.route_many`` is the array form of its ``route`` (neither overridden)."""
    if isinstance(router, RoutingTree):
        tree = type(router)
        return tree.route is RoutingTree.route and tree.route_many is RoutingTree.route_many
    if isinstance(router, PolicyRouter):
        kind = type(router)
        return kind.route is PolicyRouter.route and kind.route_many is PolicyRouter.route_many
    return False


def _positions(
    positions: Mapping[str, float], names: tuple[str, ...], rejected: tuple[str, ...]
) -> dict[str, float]:
    known = set(names) | set(rejected)
    for name, value in positions.items():
        if name not in known:
            raise KeyError(f"position given for {name!r}, which is not in the universe")
        if not math.isfinite(value):
            raise ValueError(f"instrument {name!r}: position {value!r} is not finite")
    return dict(positions)


class _Run:
    """One universe decision's working data (instrument ``i`` is row ``i`` everywhere)."""

    def __init__(
        self,
        context: SunContext,
        snapshot: MarketSnapshot,
        names: tuple[str, ...],
        rows: np.ndarray,
        columns: tuple[str, ...],
        live: list[int],
        positions: dict[str, float],
    ) -> None:
        self.context = context
        self.snapshot = snapshot
        self.as_of = snapshot.as_of
        self.names = names
        self.rows = rows
        self.columns = columns
        self.live = live
        self.positions = positions
        self.moons = [dict(zip(columns, r, strict=True)) for r in rows.tolist()]
        self.execution = context.execution_planet
        self.directional = context.directional
        self.risk_planet = context.risk_planet
        self._views: dict[str, MarketSnapshot] = {}
        self.failed: list[dict[str, str]] = [{} for _ in live]  # per live instrument
        self.started_at = clock_of(context)()  # the plans' latency budgets count from here

    # -- the pass ---------------------------------------------------------------------------

    def decide(
        self,
        config: UniverseConfig,
        alerts: Mapping[str, PlanetReport],
        portfolio: PortfolioLimits | None,
    ) -> dict[str, SunDecision]:
        if not self.live:
            return {}
        routes = self._route()
        reports = self._consult(routes)
        recalled = self._recall()
        reasonings = self._reason(routes, reports, recalled, config)
        guarded = guard_many(
            [self.names[i] for i in self.live],
            [r.decision for r in reasonings],
            reports,
            self.context.limits,
            self.risk_planet,
        )
        targets = np.array([g.target_position for g, _ in guarded])
        extra: list[list[GuardCorrection]] = [[] for _ in self.live]
        targets = self._apply_alerts(targets, alerts, extra)
        if portfolio is not None:
            targets = self._apply_portfolio(targets, portfolio, extra)
        decided = {}
        for k, i in enumerate(self.live):
            decision = self._decision(
                i, routes[k], reports[k], recalled[k], reasonings[k], guarded[k],
                float(targets[k]), extra[k],
            )  # fmt: skip
            decided[self.names[i]] = apply_failure_rule(
                decision, routes[k], self.failed[k], reasonings[k],
                self.positions.get(self.names[i], 0.0), self.context,
            )  # fmt: skip
        return decided

    def _route(self) -> list[dict[str, Any]]:
        """The router's choice per live instrument; the risk planet always added."""
        context = self.context
        router = context.orchestration.router
        untagged = any(h.instrument is None for h in self.snapshot.headlines)
        tagged = {h.instrument for h in self.snapshot.headlines}
        headlines = [untagged or self.names[i] in tagged for i in self.live]
        if _vectorized(router):
            live = np.array(self.live, dtype=np.int64)
            columns = {c: self.rows[live, j] for j, c in enumerate(self.columns)}
            chosen = router.route_many(columns, np.array(headlines, dtype=np.bool_))
        else:
            chosen = [
                router.route(self.moons[i], h) for i, h in zip(self.live, headlines, strict=True)
            ]
        # routes repeat (route_many shares planets and params within a class): finish each
        # distinct one once
        known: dict[tuple[tuple[str, ...], int, str, tuple[str, ...]], dict[str, Any]] = {}
        routes = []
        for route in chosen:
            key = (route.planets, id(route.params), route.rule, route.path)
            if key not in known:
                planets = [p for p in route.planets if p in context.planets]
                if self.risk_planet not in planets:
                    planets.append(self.risk_planet)
                known[key] = {"planets": tuple(planets), "params": dict(route.params),
                              "rule": route.rule, "path": route.path}  # fmt: skip
            routes.append(known[key])
        return routes

    def _consult(self, routes: list[dict[str, Any]]) -> list[list[PlanetReport]]:
        """Every routed planet's reports: one batch per planet (vectorized where it can)."""
        reports: list[list[PlanetReport]] = [[] for _ in self.live]
        for name, planet in self.context.planets.items():
            ks = [k for k, route in enumerate(routes) if name in route["planets"]]  # fmt: skip
            if not ks:
                continue
            params = [dict(routes[k]["params"].get(name) or {}) for k in ks]
            batch = self._batch([self.live[k] for k in ks], params)
            started = time.perf_counter()
            got, errors = self._ask(planet, batch)
            latency = (time.perf_counter() - started) * 1e3
            error = next((e for e in errors if e is not None), None)
            self.context.health.beat("planet", name, latency, error is None, error)
            for k, report, failure in zip(ks, got, errors, strict=True):
                reports[k].append(report)
                if failure is not None:
                    self.failed[k][name] = failure
        return [sorted(rs, key=lambda r: r.planet) for rs in reports]

    def _batch(self, indices: list[int], params: list[dict[str, Any]]) -> PlanetBatch:
        idx = np.array(indices, dtype=np.int64)
        return PlanetBatch(
            instruments=tuple(self.names[i] for i in indices),
            as_of=self.as_of,
            moons={c: self.rows[idx, j] for j, c in enumerate(self.columns)},
            snapshot=self.snapshot,
            view=self.view,
            limits=self.context.limits,
            params=params,
        )

    def view(self, name: str) -> MarketSnapshot:
        """The snapshot part a planet sees for ``name`` (as in a single decision)."""
        if name not in self._views:
            self._views[name] = planet_view(self.snapshot, name)
        return self._views[name]

    def _ask(
        self, planet: Planet, batch: PlanetBatch
    ) -> tuple[list[PlanetReport], list[str | None]]:
        """The batch's reports and each one's error; a failing planet gives "no data" naming
        the failure, per instrument when it is asked one by one (one bad instrument never
        sinks the rest)."""
        if isinstance(planet, VectorPlanet):
            try:
                return report_many(planet, batch), [None] * len(batch)
            except Exception:  # contained: retried one instrument at a time below
                pass
        timeout = self.context.orchestration.planet_timeout_s
        reports: list[PlanetReport] = []
        errors: list[str | None] = []
        pool = self.context.workers.pool() if timeout is not None else None
        contexts = [batch.context(i) for i in range(len(batch))]
        futures = [pool.submit(planet.report, c) for c in contexts] if pool else None
        deadline = time.monotonic() + (timeout or 0.0)
        for i, planet_input in enumerate(contexts):
            try:
                if futures is None:
                    report = planet.report(planet_input)
                else:
                    report = futures[i].result(max(0.0, deadline - time.monotonic()))
                reports.append(PlanetReport.model_validate(report.model_dump()))
                errors.append(None)
                continue
            except TimeoutError:
                error = f"planet timed out after {timeout:g}s"
            except Exception as failure:  # contained like the graph's consult node
                error = f"planet failed: {type(failure).__name__}: {failure}"
            errors.append(error)
            reports.append(planet.no_data(planet_input, {}, error[:300]))
        return reports, errors

    def _recall(self) -> list[tuple[str, ...]]:
        recaller = self.context.recaller
        if recaller is None:
            return [() for _ in self.live]
        panel = self.panel(range(len(self.names)))
        return [tuple(recaller(self.names[i], panel)) for i in self.live]

    def panel(self, indices: Sequence[int] | range) -> MoonPanel:
        """A :class:`MoonPanel` of the instruments ``indices``."""
        return MoonPanel(as_of=self.as_of, values={self.names[i]: self.moons[i] for i in indices})

    def _reason(
        self,
        routes: list[dict[str, Any]],
        reports: list[list[PlanetReport]],
        recalled: list[tuple[str, ...]],
        config: UniverseConfig,
    ) -> list[Reasoning]:
        """Emergency / quant / policy skip over arrays; the model chain, bounded, for the rest."""
        context = self.context
        inputs = [
            ReasonInputs(
                instrument=self.names[i],
                as_of=self.as_of.isoformat(),
                reports=tuple(reports[k]),
                recalled=recalled[k],
                limits=context.limits,
                directional=self.directional,
                risk_planet=self.risk_planet,
            )
            for k, i in enumerate(self.live)
        ]
        kinds = [self._kind(one) for one in inputs]
        result: list[Reasoning | None] = [None] * len(inputs)
        quant = [k for k, kind in enumerate(kinds) if kind in (QUANT, "policy")]
        for k, decided in zip(
            quant, quant_many(context.quant, [inputs[k] for k in quant]), strict=True
        ):
            result[k] = self._quant_reasoning(decided, kinds[k])
        for k in [k for k, kind in enumerate(kinds) if kind == "emergency"]:  # no model call
            state = self._state(k, routes[k], reports[k], recalled[k])
            result[k] = decide_reasoning(state, context)
        asked = [k for k, kind in enumerate(kinds) if kind == "model"]
        if asked:
            workers = min(config.llm_concurrency, len(asked))
            with ThreadPoolExecutor(workers, thread_name_prefix="heliarch-universe") as pool:
                states = [self._state(k, routes[k], reports[k], recalled[k]) for k in asked]
                answers = pool.map(lambda state: decide_reasoning(state, context), states)
                for k, answer in zip(asked, answers, strict=True):
                    result[k] = answer
        return [r for r in result if r is not None]

    def _kind(self, inputs: ReasonInputs) -> str:
        """Which branch of ``decide_reasoning`` this instrument takes."""
        if any(r.critical for r in inputs.reports):
            return "emergency"
        if self.context.chain is None:
            return QUANT
        if self.context.orchestration.llm_policy == "auto" and planets_agree(inputs, self.context):
            return "policy"
        return "model"

    def _quant_reasoning(self, decision: ReasonedDecision, kind: str) -> Reasoning:
        if kind == QUANT:
            return Reasoning(decision=decision, reasoner=QUANT, level=QUANT)
        chain = self.context.chain
        assert chain is not None
        note = FallbackAttempt(level=chain.primary.label, ok=False, error="skipped: planets agree")
        return Reasoning(decision=decision, reasoner=QUANT, level="policy", attempts=(note,))

    def _state(
        self, k: int, route: dict[str, Any], reports: list[PlanetReport], recalled: tuple[str, ...]
    ) -> Any:
        """What ``decide_reasoning`` reads of one instrument (its plan's rule: the budget)."""
        i = self.live[k]
        return {
            "route": {"rule": route["rule"]},
            "started_at": self.started_at,
            "instrument": self.names[i],
            "snapshot": self.snapshot,
            "panel": self.panel([i]),
            "reports": reports,
            "recalled": list(recalled),
            "position": self.positions.get(self.names[i], 0.0),
        }

    # -- after the guard --------------------------------------------------------------------

    def _apply_alerts(
        self,
        targets: np.ndarray,
        alerts: Mapping[str, PlanetReport],
        extra: list[list[GuardCorrection]],
    ) -> np.ndarray:
        """Reflex alerts since the last decision cap their instruments (never loosen)."""
        if not alerts:
            return targets
        targets = targets.copy()
        for k, i in enumerate(self.live):
            alert = alerts.get(self.names[i])
            if alert is None:
                continue
            cap = alert_cap(alert)
            if abs(targets[k]) > cap:
                after = math.copysign(cap, targets[k]) if cap > 0 else 0.0
                rule = alert.recommendations[0] if alert.recommendations else "alert"
                extra[k].append(
                    GuardCorrection(
                        rule=f"reflex:{rule}",
                        before=float(targets[k]),
                        after=after,
                        reason=(alert.critical_reason or "reflex alert")[:300],
                    )
                )
                targets[k] = after
        return targets

    def _apply_portfolio(
        self, targets: np.ndarray, limits: PortfolioLimits, extra: list[list[GuardCorrection]]
    ) -> np.ndarray:
        live = np.array(self.live, dtype=np.int64)
        vol = self.rows[live, self.columns.index("realized_vol")]
        corr = self.rows[live, self.columns.index("correlation")]
        steps = portfolio_guard(targets, vol, corr, limits)
        for k, found in enumerate(corrections_of(steps, limits)):
            extra[k].extend(found)
        result: np.ndarray = steps[-1]
        return result

    # -- packaging --------------------------------------------------------------------------

    def _decision(
        self,
        i: int,
        route: dict[str, Any],
        reports: list[PlanetReport],
        recalled: tuple[str, ...],
        reasoning: Reasoning,
        guarded: tuple[ReasonedDecision, tuple[GuardCorrection, ...]],
        target: float,
        extra: list[GuardCorrection],
    ) -> SunDecision:
        decided, corrections = guarded
        rationale = decided.rationale
        if extra:
            notes = "; ".join(f"{c.rule}: {c.before:+.3f} -> {c.after:+.3f}" for c in extra)
            rationale = f"{rationale} [{notes}]"[:600]
        name = self.names[i]
        final = target if extra else decided.target_position
        return SunDecision(
            instrument=name,
            as_of=self.as_of,
            action=action_for(target) if extra else decided.action,
            target_position=final,
            confidence=decided.confidence,
            rationale=rationale,
            reasoner=reasoning.reasoner,
            fallback_level=reasoning.level,
            attempts=reasoning.attempts,
            emergency=reasoning.level == "emergency",
            planet_reports=tuple(reports),
            corrections=(*corrections, *extra),
            order_intent=self._intent(i, final),
            llm_usage=reasoning.usage,
            prompt=reasoning.prompt,
            routed_planets=route["planets"],
            recalled=recalled,
        )

    def _intent(self, i: int, target: float) -> OrderIntent | None:
        """The execution planet's order toward ``target`` (as the graph's propagate node)."""
        execution = self.execution
        if execution is None:
            return None
        name = self.names[i]
        # the built-in execution planet sizes from moons and limits only (no per-instrument
        # view) and orders nothing when the position does not change
        built_in = type(execution) is ExecutionPlanet
        if built_in and target == self.positions.get(name, 0.0):
            return None
        context = PlanetContext(
            instrument=name,
            as_of=self.as_of,
            moons=self.moons[i],
            snapshot=self.snapshot if built_in else self.view(name),
            limits=self.context.limits,
        )
        return execution.order_intent(context, target, self.positions.get(name, 0.0))

    def no_data(self, name: str, reason: str) -> SunDecision:
        """A flat decision for an instrument that cannot be decided, every planet saying why."""
        context = PlanetContext(
            instrument=name, as_of=self.as_of, moons={}, snapshot=self.snapshot,
            limits=self.context.limits,
        )  # fmt: skip
        reports = tuple(
            planet.no_data(context, {}, reason[:300])
            for _, planet in sorted(self.context.planets.items())
        )
        return SunDecision(
            instrument=name,
            as_of=self.as_of,
            action="HOLD",
            target_position=0.0,
            confidence=0.0,
            rationale=f"[{UNIVERSE}] {reason}"[:600],
            reasoner=UNIVERSE,
            fallback_level=NO_DATA,
            planet_reports=reports,
            order_intent=self._intent(self.names.index(name), 0.0) if name in self.names else None,
        )
