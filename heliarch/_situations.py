"""Past situations with complete outcomes, and an evaluator that scores prompts on them.

``goog``-style situation sets are built from bundled bars without look-ahead: at decision bar
``t`` the planets see only ``MarketSnapshot.at(t)``; the forward return over ``horizon`` bars is
labelled by ``learning.OutcomeLabeler`` from bars after ``t``; and only situations whose
horizon ended on or before the evaluation's ``cutoff`` are kept. Sets are chronological:
few-shot pool (oldest) -> selection -> held-out confirmation (newest).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bus import BarSeries, MarketSnapshot, PlanetReport
from learning import OutcomeLabeler
from memory import Situation, UniversalMemory
from planets import Planet, PlanetContext, RiskLimits, default_planets
from prompts import return_scale
from sun import ReasonInputs, RoutingTree, compute_panel


@dataclass(frozen=True)
class LabSituation:
    """One past decision point with its realized outcome (known only to the scorer)."""

    id: str
    inputs: ReasonInputs
    forward_return: float
    horizon_end: datetime
    scale: float

    def example(self) -> str:
        """A one-line few-shot example: what the planets said and what happened."""
        scores = ", ".join(
            f"{r.planet} {r.score:+.2f}"
            for r in self.inputs.reports
            if r.has_data and r.planet in self.inputs.directional
        )
        move = "rose" if self.forward_return > 0 else "fell"
        best = "BUY" if self.forward_return > 0 else "SELL"
        return f"{scores}: price {move} {abs(self.forward_return):.1%}, {best} was right"


@dataclass(frozen=True)
class SituationSets:
    """Chronological, disjoint sets of labelled situations."""

    pool: tuple[LabSituation, ...]
    selection: tuple[LabSituation, ...]
    holdout: tuple[LabSituation, ...]

    def by_id(self) -> dict[str, LabSituation]:
        """Every situation by id."""
        return {s.id: s for s in (*self.pool, *self.selection, *self.holdout)}


def _reports(
    snapshot: MarketSnapshot, instrument: str, planets: dict[str, Planet], limits: RiskLimits
) -> tuple[PlanetReport, ...]:
    row = compute_panel(snapshot).for_instrument(instrument)
    route = RoutingTree().route(row, False)
    reports = []
    for name in route.planets:
        if name not in planets:
            continue
        context = PlanetContext(
            instrument=instrument,
            as_of=snapshot.as_of,
            moons=row,
            snapshot=snapshot,
            limits=limits,
            params=route.params.get(name, {}),
        )
        reports.append(planets[name].report(context))
    return tuple(sorted(reports, key=lambda r: r.planet))


def build_situations(
    series: BarSeries,
    *,
    horizon: int = 5,
    cutoff: datetime | None = None,
    start: int = 300,
    stride: int = 10,
    pool: int = 10,
    selection: int = 30,
    holdout: int = 20,
    limits: RiskLimits | None = None,
) -> SituationSets:
    """Labelled situations from one instrument's bars (no look-ahead; see the module doc).

    Args:
        series: Bars of one instrument.
        horizon: Bars until the outcome is labelled.
        cutoff: Evaluation cut-off; a situation is kept only if its horizon ended by then
            (default: the last bar).
        start: First decision bar (moons need warm-up).
        stride: Bars between decision points.
        pool / selection / holdout: Sizes of the three chronological sets.
    """
    limits = limits or RiskLimits()
    planets = default_planets()
    directional = frozenset(n for n, p in planets.items() if p.directional)
    name = series.instrument
    stamps = [t.astype("datetime64[us]").item() for t in series.timestamps]
    cutoff = cutoff or stamps[-1]
    wanted = pool + selection + holdout
    decision_bars = set(range(start, len(stamps) - horizon, stride))
    labeler = OutcomeLabeler(horizon)
    out: list[LabSituation] = []
    pending: dict[datetime, tuple[ReasonInputs, float]] = {}
    for i, stamp in enumerate(stamps):
        if stamp > cutoff or len(out) >= wanted:
            break
        for done in labeler.on_bar(name, stamp, float(series.close[i])):
            inputs, scale = pending.pop(done.situation.as_of)
            out.append(
                LabSituation(
                    id=f"{name}@{done.situation.as_of.date().isoformat()}",
                    inputs=inputs,
                    forward_return=done.outcome.realized_return,
                    horizon_end=done.outcome.horizon_end,
                    scale=scale,
                )
            )
        if i not in decision_bars or len(out) + len(pending) >= wanted:
            continue
        snapshot = MarketSnapshot.at(stamp, {name: series})
        reports = _reports(snapshot, name, planets, limits)
        vol = compute_panel(snapshot).for_instrument(name).get("realized_vol", math.nan)
        scale = return_scale(vol, horizon)
        inputs = ReasonInputs(
            instrument=name,
            as_of=stamp.isoformat(),
            reports=reports,
            recalled=(),
            limits=limits,
            directional=directional,
        )
        pending[stamp] = (inputs, scale)
        labeler.submit(Situation(name, stamp, None, "BUY", target_position=1.0, confidence=1.0))
    if len(out) < wanted:
        raise ValueError(f"only {len(out)} complete situations before {cutoff}; need {wanted}")
    return SituationSets(
        pool=tuple(out[:pool]),
        selection=tuple(out[pool : pool + selection]),
        holdout=tuple(out[pool + selection : wanted]),
    )


def best_examples(situations: Sequence[LabSituation], k: int = 3) -> list[str]:
    """Few-shot lines from the largest completed moves of the (oldest) pool."""
    ranked = sorted(situations, key=lambda s: abs(s.forward_return) / s.scale, reverse=True)
    return [s.example() for s in ranked[:k]]


def memory_examples(
    memory: UniversalMemory, sets: SituationSets, instrument: str, k: int = 3
) -> list[str]:
    """Few-shot lines from memory's best episodes whose outcome was known before the first
    evaluated situation (so no example reveals a move the candidates are scored on).

    Raises:
        ValueError: when memory holds no such episode for ``instrument``.
    """
    first = min(s.inputs.as_of for s in (*sets.selection, *sets.holdout))
    cutoff = datetime.fromisoformat(first)
    best = memory.best_episodes(cutoff, k, instrument=instrument)
    if not best:
        raise ValueError(
            f"memory holds no {instrument} episode with an outcome known before {first}; "
            "run a backtest into it first, or evolve without memory"
        )
    return [episode.example() for episode in best]
