"""Performance tracking: hit rate, mean return and Sharpe per planet and per market regime."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from learning._outcomes import Labelled

SUN = "sun"


@dataclass
class Stats:
    """Running statistics of one stream of per-decision returns (Welford's algorithm).

    ``hit_rate`` counts only non-flat calls; ``sharpe`` annualizes the mean/std of the
    horizon returns with ``sqrt(periods_per_year / horizon_bars)``.
    """

    count: int = 0
    calls: int = 0
    hits: int = 0
    mean: float = 0.0
    _m2: float = 0.0
    horizon_bars: int = 1

    def add(self, value: float, hit: bool | None) -> None:
        """Add one return and whether the call was right (None: no call)."""
        self.count += 1
        delta = value - self.mean
        self.mean += delta / self.count
        self._m2 += delta * (value - self.mean)
        if hit is not None:
            self.calls += 1
            self.hits += int(hit)

    @property
    def hit_rate(self) -> float:
        """Fraction of non-flat calls that were right (NaN without calls)."""
        return self.hits / self.calls if self.calls else math.nan

    @property
    def std(self) -> float:
        """Sample standard deviation of the returns (NaN with fewer than 2)."""
        return math.sqrt(self._m2 / (self.count - 1)) if self.count > 1 else math.nan

    def sharpe(self, periods_per_year: int = 252) -> float:
        """Annualized Sharpe ratio of the horizon returns (NaN when undefined)."""
        std = self.std
        if not math.isfinite(std) or std == 0.0:
            return math.nan
        return self.mean / std * math.sqrt(periods_per_year / max(1, self.horizon_bars))


def planet_return(score: float, confidence: float, realized_return: float) -> float:
    """What a planet "earned": its confidence-weighted score as a position times the return."""
    return max(-1.0, min(1.0, score * confidence)) * realized_return


class PerformanceTracker:
    """Per-(subject, regime) statistics of labelled decisions.

    Subjects are ``"sun"`` (the decisions themselves) and every directional planet that had data
    at the decision; the regime ``"all"`` aggregates every regime.
    """

    def __init__(self, periods_per_year: int = 252) -> None:
        self.periods_per_year = periods_per_year
        self._stats: dict[tuple[str, str], Stats] = {}

    def _get(self, subject: str, regime: str, horizon: int) -> Stats:
        stats = self._stats.get((subject, regime))
        if stats is None:
            stats = self._stats[(subject, regime)] = Stats(horizon_bars=horizon)
        return stats

    def update(self, item: Labelled) -> None:
        """Account one labelled decision."""
        situation, outcome = item.situation, item.outcome
        regime = situation.regime or "unknown"
        for key in ("all", regime):
            self._get(SUN, key, outcome.horizon_bars).add(outcome.strategy_return, outcome.hit)
        for planet, (score, confidence) in situation.planet_scores.items():
            value = planet_return(score, confidence, outcome.realized_return)
            hit = None if score == 0.0 else (score * outcome.realized_return > 0.0)
            for key in ("all", regime):
                self._get(planet, key, outcome.horizon_bars).add(value, hit)

    def update_many(self, items: Iterable[Labelled]) -> None:
        """Account several labelled decisions."""
        for item in items:
            self.update(item)

    def stats(self, subject: str = SUN, regime: str = "all") -> Stats:
        """Statistics of ``subject`` in ``regime`` (empty if never seen)."""
        return self._stats.get((subject, regime), Stats())

    def rows(self) -> list[dict[str, object]]:
        """Every (subject, regime) as a JSON-friendly row, sorted."""
        out = []
        for (subject, regime), s in sorted(self._stats.items()):
            out.append(
                {
                    "subject": subject,
                    "regime": regime,
                    "count": s.count,
                    "calls": s.calls,
                    "hit_rate": _clean(s.hit_rate),
                    "mean_return": _clean(s.mean),
                    "sharpe": _clean(s.sharpe(self.periods_per_year)),
                }
            )
        return out

    def subjects(self) -> list[str]:
        """Subjects seen so far."""
        return sorted({subject for subject, _ in self._stats})

    def regimes(self) -> list[str]:
        """Regimes seen so far (without ``all``)."""
        return sorted({regime for _, regime in self._stats if regime != "all"})


def _clean(value: float) -> float | None:
    return None if not math.isfinite(value) else round(value, 6)
