"""Model checks (``heliarch models check``): does a model's answer follow its input? (a metamorphic test for any spec)

Each date is decided twice at full authority: on the real bars and on the **mirrored** bars
(every price p replaced by K / p, so every return changes sign: close above its SMA becomes
close below it, RSI r becomes about 100 - r, the technical score flips; volatility and VaR
stay about the same). A model that reads the evidence moves its answer with the mirror; a
model that ignores it answers the same twice.

``sensitivity`` = mean over dates of ``sign(c) * (sign(t) - sign(t')) / 2``, where ``c`` is
the directional planets' consensus on the real bars and ``t`` / ``t'`` the model's targets
before the guard: 1 when every answer follows the evidence, 0 for a model that ignores it (or
answers at random), -1 for a contrarian. Only pairs the model answered validly count; the
share of invalid first answers is reported apart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "ModelCheck",
    "bootstrap_ci",
    "check_dates",
    "check_model",
    "consensus",
    "mirror_series",
    "raw_target",
    "store_check",
]

from bus import BarSeries, MarketSnapshot, SunDecision
from sun._config import ModelConfig, OrchestrationConfig
from sun._grants import AuthorityThresholds, ModelCheckStore, allowed_authority
from sun._settings import Settings
from sun._sun import Sun

_WARMUP_BARS = 300


def mirror_series(series: BarSeries) -> BarSeries:
    """The same bars with every price p replaced by K / p (K = median close squared)."""
    k = float(np.median(series.close)) ** 2
    return BarSeries(
        instrument=series.instrument,
        timestamps=series.timestamps,
        open=k / series.open,
        high=k / series.low,
        low=k / series.high,
        close=k / series.close,
        volume=series.volume,
    )


def check_dates(series: BarSeries, count: int, horizon: int = 0) -> list[datetime]:
    """``count`` evenly spaced decision times after the moons' warm-up (and before the last
    ``horizon`` bars, so outcomes exist)."""
    n = len(series.close)
    last = n - 1 - horizon
    if count < 1 or last <= _WARMUP_BARS:
        raise ValueError(f"{series.instrument}: {n} bars leave no room for {count} dates")
    index = np.unique(np.linspace(_WARMUP_BARS, last, count).round().astype(int))
    return [pd.Timestamp(series.timestamps[i]).to_pydatetime() for i in index]


def raw_target(decision: SunDecision) -> float:
    """The reasoner's target before the guard clamped or vetoed it."""
    return decision.corrections[0].before if decision.corrections else decision.target_position


def consensus(decision: SunDecision, directional: frozenset[str]) -> float:
    """Sum of confidence x score over the directional planets with data."""
    return sum(
        r.confidence * r.score
        for r in decision.planet_reports
        if r.planet in directional and r.has_data
    )


@dataclass(frozen=True)
class ModelCheck:
    """What ``check_model`` measured for one model spec and prompt version."""

    spec: str
    prompt: str
    dates: int
    pairs: int
    sensitivity: float
    sensitivity_ci: tuple[float, float]
    invalid_share: float
    mirror_flips: float
    latency_p50_ms: float
    latency_p95_ms: float
    authority: str
    thresholds: dict[str, float]
    measured: str

    def record(self) -> dict[str, Any]:
        """The figures as stored (JSON-ready)."""
        return asdict(self)


def bootstrap_ci(values: Sequence[float], seed: int = 0, rounds: int = 2000) -> tuple[float, float]:
    """95% percentile bootstrap interval of the mean (NaNs when empty)."""
    if not values:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    data = np.asarray(values, dtype=float)
    means = data[rng.integers(0, len(data), (rounds, len(data)))].mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def _sign(x: float) -> float:
    return float(np.sign(x))


def check_model(
    spec: str,
    histories: Sequence[BarSeries],
    dates_per_series: int,
    *,
    settings: Settings | None = None,
    models: ModelConfig | None = None,
    thresholds: AuthorityThresholds | None = None,
) -> ModelCheck:
    """Measure input sensitivity, invalid answers and latency of ``spec`` at full authority.

    Args:
        spec: The model spec to check.
        histories: Bar histories to draw dates from (e.g. the bundled GOOG and EURUSD).
        dates_per_series: Evenly spaced dates per history.
        settings: Settings of the checked sun.
        models: Model settings (e.g. an injected chat model); authority is forced to
            ``decide`` and backups are dropped, so every answer is the checked model's.
        thresholds: The levels' thresholds (defaults: :class:`AuthorityThresholds`).
    """
    thresholds = thresholds or AuthorityThresholds()
    base = models or ModelConfig()
    config = ModelConfig(
        chat_model=base.chat_model,
        backup_models=[],
        chain_policy=base.chain_policy,
        authority="decide",
    )
    moves: list[float] = []
    flips: list[float] = []
    invalid = 0
    latencies: list[float] = []
    total = 0
    with Sun(
        spec,
        settings=settings,
        models=config,
        orchestration=OrchestrationConfig(llm_policy="always"),
        checkpoint="none",
    ) as sun:
        directional = sun.context.directional
        prompt = sun.context.chain.primary.reasoner.prompt if sun.context.chain else None
        for series in histories:
            mirrored = mirror_series(series)
            for when in check_dates(series, dates_per_series):
                pair = [
                    sun.decide(MarketSnapshot.at(when, {series.instrument: bars}))
                    for bars in (series, mirrored)
                ]
                total += 2
                latencies += [
                    sum(a.latency_ms for a in d.attempts if a.level.startswith("primary"))
                    for d in pair
                ]
                invalid += sum(1 for d in pair if d.attempts and not d.attempts[0].ok)
                c, c_mirror = (consensus(d, directional) for d in pair)
                if c == 0.0 or any(d.fallback_level not in ("primary", "quant") for d in pair):
                    continue
                flips.append(float(_sign(c) != _sign(c_mirror)))
                moves.append(
                    _sign(c) * (_sign(raw_target(pair[0])) - _sign(raw_target(pair[1]))) / 2
                )
    sensitivity = float(np.mean(moves)) if moves else math.nan
    low, high = bootstrap_ci(moves)
    invalid_share = invalid / total if total else math.nan
    level = allowed_authority(low if moves else -1.0, invalid_share, thresholds)
    return ModelCheck(
        spec=spec,
        prompt=f"{prompt.name} v{prompt.version}" if prompt else "none",
        dates=total // 2,
        pairs=len(moves),
        sensitivity=round(sensitivity, 4),
        sensitivity_ci=(round(low, 4), round(high, 4)),
        invalid_share=round(invalid_share, 4),
        mirror_flips=round(float(np.mean(flips)), 4) if flips else math.nan,
        latency_p50_ms=round(float(np.percentile(latencies, 50)), 1) if latencies else 0.0,
        latency_p95_ms=round(float(np.percentile(latencies, 95)), 1) if latencies else 0.0,
        authority=level,
        thresholds=asdict(thresholds),
        measured=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def store_check(check: ModelCheck, settings: Settings | None = None) -> ModelCheckStore:
    """Save ``check`` in the user's store (``<data dir>/model_checks.json``)."""
    from sun._grants import MODEL_CHECKS_FILE

    store = ModelCheckStore((settings or Settings()).data_dir / MODEL_CHECKS_FILE)
    store.put(check.spec, check.prompt, check.record())
    return store
