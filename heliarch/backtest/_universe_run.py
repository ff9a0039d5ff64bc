"""Walk-forward backtest of a whole universe: ``Sun.decide_universe`` + the portfolio guardian.

At every tick ``t`` of the common clock from ``warmup`` on:

1. ``MarketSnapshot.at(t, universe, benchmark=...)`` cuts every history at ``t`` (instruments
   whose first bar is later are not in it yet);
2. the sun decides all instruments in one pass, the portfolio guardian sizing them across
   the universe (risk parity, gross / net / correlated-cluster limits);
3. weight ``w_i[t]`` (a capital fraction) earns instrument ``i``'s return over ``t + 1``;
   costs are ``sum_i |w_i[t] - w_i[t-1]| * (cost_bps + slippage_bps) / 1e4``.

The baseline is equal-weight buy-and-hold: ``1 / N`` of the capital in each of the ``N``
instruments present at the first tick, bought once (same costs) and never rebalanced.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

import moons
from bus import BarSeries, MarketSnapshot, to_datetime
from heliarch.backtest._metrics import Metrics, compute_metrics, years_between
from sun import OrchestrationConfig, Sun
from sun.universe import PortfolioLimits

UNIVERSE_STRATEGY = "sun_universe"
EQUAL_WEIGHT = "equal_weight_buy_and_hold"


@dataclass(frozen=True)
class UniverseBacktestConfig:
    """Parameters of a universe walk-forward.

    Attributes:
        model: The sun's model spec (``quant`` by default: no LLM, deterministic).
        warmup: Ticks of history before the first decision (the 250-bar VaR window).
        cost_bps: Commission per unit of turnover, in basis points.
        slippage_bps: Slippage per unit of turnover, in basis points.
        portfolio: The guardian's limits across instruments.
    """

    model: str = "quant"
    warmup: int = 260
    cost_bps: float = 1.0
    slippage_bps: float = 1.0
    portfolio: PortfolioLimits = field(default_factory=PortfolioLimits)


@dataclass
class UniverseBacktestResult:
    """A universe run: equity curves, weights, metrics and what the guards did."""

    config: UniverseBacktestConfig
    instruments: tuple[str, ...]
    timestamps: np.ndarray
    weights: np.ndarray
    equity: dict[str, np.ndarray]
    metrics: dict[str, Metrics]
    corrections: dict[str, int]
    no_data: dict[str, int]
    decisions: int
    elapsed_s: float
    decide_ms_p50: float

    def report(self) -> dict[str, Any]:
        """A JSON-able summary."""
        return {
            "kind": "universe",
            "instruments": len(self.instruments),
            "config": {
                "model": self.config.model,
                "warmup": self.config.warmup,
                "cost_bps": self.config.cost_bps,
                "slippage_bps": self.config.slippage_bps,
                "portfolio": vars(self.config.portfolio),
            },
            "window": {
                "start": str(self.timestamps[0]),
                "end": str(self.timestamps[-1]),
                "ticks": len(self.timestamps),
            },
            "metrics": {name: m.as_dict() for name, m in self.metrics.items()},
            "gross_exposure_mean": round(float(np.abs(self.weights).sum(axis=1).mean()), 6),
            "net_exposure_mean": round(float(self.weights.sum(axis=1).mean()), 6),
            "corrections": dict(sorted(self.corrections.items())),
            "no_data_decisions": dict(sorted(self.no_data.items())),
            "decisions": self.decisions,
            "decide_universe_ms_p50": round(self.decide_ms_p50, 2),
            "elapsed_s": round(self.elapsed_s, 3),
        }


def run_universe_backtest(
    universe: Mapping[str, BarSeries],
    benchmark: BarSeries,
    config: UniverseBacktestConfig | None = None,
    *,
    on_step: Callable[[int, int], None] | None = None,
) -> UniverseBacktestResult:
    """Walk the sun over ``universe`` on ``benchmark``'s clock (see the module docstring).

    Raises:
        ValueError: when the clock is shorter than ``warmup + 3`` ticks, or an instrument's
            bars are not on the benchmark's clock.
    """
    config = config or UniverseBacktestConfig()
    started = time.perf_counter()
    clock = benchmark.timestamps
    if len(clock) < config.warmup + 3:
        raise ValueError(f"the clock has {len(clock)} ticks; warmup {config.warmup} needs 3 more")
    names = tuple(universe)
    closes = _closes_on_clock(universe, clock)
    ticks = range(config.warmup, len(clock))
    weights = np.zeros((len(ticks), len(names)))
    corrections: dict[str, int] = {}
    no_data: dict[str, int] = {}
    held: dict[str, float] = {}
    spent: list[float] = []
    orchestration = OrchestrationConfig(moon_cache=moons.MoonCache(moons.LruBackend(256)))
    with Sun(config.model, checkpoint="none", orchestration=orchestration) as sun:
        for step, i in enumerate(ticks):
            present = {n: s for n, s in universe.items() if s.timestamps[0] <= clock[i]}
            snapshot = MarketSnapshot.at(to_datetime(clock[i]), present, benchmark=benchmark)
            begun = time.perf_counter()
            decided = sun.decide_universe(snapshot, positions=held, portfolio=config.portfolio)
            spent.append((time.perf_counter() - begun) * 1e3)
            held = {n: d.target_position for n, d in decided.items() if d.target_position}
            for k, name in enumerate(names):
                decision = decided.get(name)
                if decision is None:
                    continue
                weights[step, k] = decision.target_position
                for correction in decision.corrections:
                    corrections[correction.rule] = corrections.get(correction.rule, 0) + 1
                if decision.fallback_level == "no_data":
                    no_data[name] = no_data.get(name, 0) + 1
            if on_step is not None:
                on_step(step + 1, len(ticks))
    window = closes[config.warmup :]
    stamps = clock[config.warmup :]
    equity, metrics = _score(window, weights, stamps, config)
    return UniverseBacktestResult(
        config=config,
        instruments=names,
        timestamps=np.asarray(stamps),
        weights=weights,
        equity=equity,
        metrics=metrics,
        corrections=corrections,
        no_data=no_data,
        decisions=len(ticks) * len(names),
        elapsed_s=time.perf_counter() - started,
        decide_ms_p50=float(np.median(spent)),
    )


def _closes_on_clock(universe: Mapping[str, BarSeries], clock: np.ndarray) -> np.ndarray:
    """``(ticks, instruments)`` closes on the clock; NaN before an instrument's first bar."""
    out = np.full((len(clock), len(universe)), np.nan)
    for k, (name, series) in enumerate(universe.items()):
        index = np.searchsorted(clock, series.timestamps)
        if (index >= len(clock)).any() or not (
            clock[np.minimum(index, len(clock) - 1)] == series.timestamps
        ).all():
            raise ValueError(f"instrument {name!r}: bars are not on the benchmark's clock")
        out[index, k] = series.close
    return out


def _score(
    closes: np.ndarray, weights: np.ndarray, stamps: np.ndarray, config: UniverseBacktestConfig
) -> tuple[dict[str, np.ndarray], dict[str, Metrics]]:
    """Equity curves and metrics of the strategy and the equal-weight baseline."""
    with np.errstate(invalid="ignore", divide="ignore"):
        bar = np.nan_to_num(closes[1:] / closes[:-1] - 1.0)
    rate = (config.cost_bps + config.slippage_bps) / 1e4
    years = years_between(stamps[0], stamps[-1])
    present = np.isfinite(closes[0])
    baseline = np.where(present, 1.0 / present.sum(), 0.0)
    drift = np.nan_to_num(closes / np.where(present, closes[0], np.nan)) * baseline
    curves = {
        UNIVERSE_STRATEGY: _net(weights, bar, rate),
        EQUAL_WEIGHT: _buy_and_hold(drift, rate),
    }
    equity, metrics = {}, {}
    for name, net in curves.items():
        curve = np.cumprod(1.0 + net)
        gross = (
            np.concatenate([[0.0], (weights[:-1] * bar).sum(axis=1)])
            if name == UNIVERSE_STRATEGY
            else net
        )
        invested = np.abs(weights).sum(axis=1) if name == UNIVERSE_STRATEGY else np.ones(len(net))
        proxy = np.cumprod(1.0 + gross)
        found = compute_metrics(net, np.where(invested > 0, 1.0, 0.0), proxy, years)
        trades = (
            int(np.count_nonzero(np.diff(weights, axis=0, prepend=0.0)))
            if name == UNIVERSE_STRATEGY
            else int(present.sum())
        )
        equity[name] = curve
        metrics[name] = replace(found, trades=trades)
    return equity, metrics


def _net(weights: np.ndarray, bar: np.ndarray, rate: float) -> np.ndarray:
    """Net returns: index 0 is the zero before the first decision (as the single backtest)."""
    net = np.zeros(len(weights))
    turnover = np.abs(np.diff(weights, axis=0, prepend=0.0)).sum(axis=1)
    net[1:] = (weights[:-1] * bar).sum(axis=1) - turnover[:-1] * rate
    return net


def _buy_and_hold(drift: np.ndarray, rate: float) -> np.ndarray:
    value = drift.sum(axis=1)
    net = np.zeros(len(value))
    net[1:] = value[1:] / value[:-1] - 1.0
    net[1] -= rate  # bought once at the first tick
    return net


def plot_universe(result: UniverseBacktestResult, path: str | Path) -> Path:
    """Write the equity curves of the strategy and the equal-weight baseline (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), dpi=90, sharex=True,
                                      gridspec_kw={"height_ratios": [3, 1]})  # fmt: skip
    times = result.timestamps.astype("datetime64[ms]").astype(object)
    top.plot(times, result.equity[UNIVERSE_STRATEGY], label="sun, decide_universe + guardian")
    top.plot(times, result.equity[EQUAL_WEIGHT], label="equal-weight buy & hold", color="grey")
    top.set_ylabel("equity (start = 1)")
    top.set_title(f"{len(result.instruments)} instruments from the bundled data, costs included")
    top.grid(True, alpha=0.3)
    top.legend(loc="upper left", fontsize=8)
    bottom.plot(times, np.abs(result.weights).sum(axis=1), label="gross", color="tab:green")
    bottom.plot(times, result.weights.sum(axis=1), label="net", color="tab:red", linewidth=0.8)
    bottom.set_ylabel("exposure")
    bottom.grid(True, alpha=0.3)
    bottom.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
