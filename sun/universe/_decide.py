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
from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from bus import (
    GuardCorrection,
    MarketSnapshot,
    PlanetReport,
    SunDecision,
)
from sun._context import SunContext
from sun._guard import guard_targets
from sun.universe._config import UniverseConfig
from sun.universe._consulting import Consulting
from sun.universe._dispose import apply_failure_rules
from sun.universe._guardian import PortfolioLimits
from sun.universe._moons import UniverseMoons
from sun.universe._packaging import Packaging
from sun.universe._quality import GapMemo, quality_reasons
from sun.universe._reasoning import ReasoningStage
from sun.universe._reflex import ReflexBook


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
        self._gap_memo = GapMemo()
        self._lock = threading.Lock()

    @property
    def gap_checks(self) -> dict[str, int]:
        """Ticks whose gap check ran in ``full``, or was ``carried`` (known clean: see
        :class:`sun.universe._quality.GapMemo`)."""
        return dict(self._gap_memo.checks)

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
        moons = self.moons_for(context)
        read = moons.read(snapshot, names)
        window = self.config.gap_window
        gaps = self._gap_memo.gaps(snapshot, names, moons, read, window) if window and names else {}
        skipped = quality_reasons(snapshot, names, read.bars, self.config, gaps)
        live = [i for i, name in enumerate(names) if name not in skipped]
        # planets see the same per-instrument views as in a single decision (built lazily)
        run = _Run(context, snapshot, names, read.rows, moons.columns, live, held)
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


class _Run(Consulting, ReasoningStage, Packaging):
    """One universe decision: its stages over the working data (see :class:`RunData`)."""

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
        reasoned = self._reason(routes, reports, recalled, config)
        names = [self.names[i] for i in self.live]
        guarded = guard_targets(
            names, reasoned.decisions.targets, reports, self.context.limits, self.risk_planet
        )
        targets = np.array(guarded[0], dtype=np.float64)
        extra: list[list[GuardCorrection]] = [[] for _ in self.live]
        targets = self._apply_alerts(targets, alerts, extra)
        if portfolio is not None:
            targets = self._apply_portfolio(targets, portfolio, extra)
        packaged = self._package(routes, reports, recalled, reasoned, guarded, targets, extra)
        positions = [self.positions.get(name, 0.0) for name in names]
        disposed = apply_failure_rules(
            packaged, routes, self.failed, reasoned.sources, positions, self.context
        )
        return dict(zip(names, disposed, strict=True))
