"""Backtest metrics and baselines: equity from held positions, performance metrics, and the
SMA 50/200 crossover baseline (names of the strategy and baseline curves included).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

STRATEGY = "sun"
BUY_AND_HOLD = "buy_and_hold"
SMA_CROSS = "sma_50_200"


@dataclass
class Metrics:
    """Performance of one equity curve."""

    total_return: float
    cagr: float
    sharpe: float
    sortino: float
    max_drawdown: float
    hit_rate: float
    trades: int
    exposure: float

    def as_dict(self) -> dict[str, float | int | None]:
        """JSON-friendly (NaN -> None)."""
        return {k: _clean(v) for k, v in asdict(self).items()}


# -- metrics -----------------------------------------------------------------------------------


def equity_from_positions(
    close: np.ndarray, positions: np.ndarray, cost_bps: float, slippage_bps: float
) -> tuple[np.ndarray, np.ndarray]:
    """Net per-bar returns and the equity curve (starting at 1) of held ``positions``.

    ``positions[t]`` is decided at bar ``t`` and earns bar ``t + 1``'s return; the change
    ``|positions[t] - positions[t-1]|`` (with ``positions[-1] = 0``) costs
    ``(cost_bps + slippage_bps) / 1e4`` per unit, charged in bar ``t + 1``.
    ``returns[0] = 0`` (nothing is held before the first decision).
    """
    close = np.asarray(close, dtype=np.float64)
    positions = np.asarray(positions, dtype=np.float64)
    bar_returns = np.zeros_like(close)
    bar_returns[1:] = close[1:] / close[:-1] - 1.0
    turnover = np.abs(np.diff(positions, prepend=0.0))
    rate = (cost_bps + slippage_bps) / 1e4
    net = np.zeros_like(close)
    net[1:] = positions[:-1] * bar_returns[1:] - turnover[:-1] * rate
    return net, np.cumprod(1.0 + net)


def compute_metrics(
    net_returns: np.ndarray,
    positions: np.ndarray,
    close: np.ndarray,
    years: float,
) -> Metrics:
    """Metrics of a run whose first return (index 0) is the zero before the first decision.

    * total return ``prod(1 + r) - 1``; CAGR ``(1 + total) ** (1 / years) - 1``;
    * Sharpe ``mean(r) / std(r, ddof=1) * sqrt(n / years)`` over the ``n`` bar returns after
      the first (risk-free rate 0); Sortino uses ``sqrt(mean(min(r, 0) ** 2))`` instead of std;
    * max drawdown ``max(1 - equity / running max)``;
    * hit rate: share of bars held with a non-zero position whose gross return was positive;
    * trades: position changes; exposure: share of bars with a non-zero position held.
    """
    r = np.asarray(net_returns, dtype=np.float64)[1:]
    held = np.asarray(positions, dtype=np.float64)[:-1]
    bar = np.asarray(close[1:], dtype=np.float64) / np.asarray(close[:-1]) - 1.0
    equity = np.cumprod(np.concatenate([[1.0], 1.0 + r]))
    total = float(equity[-1] - 1.0)
    cagr = float((1.0 + total) ** (1.0 / years) - 1.0) if years > 0 and total > -1 else math.nan
    per_year = len(r) / years if years > 0 else math.nan
    std = float(np.std(r, ddof=1)) if len(r) > 1 else math.nan
    sharpe = float(np.mean(r) / std * math.sqrt(per_year)) if std and std > 0 else math.nan
    downside = float(np.sqrt(np.mean(np.minimum(r, 0.0) ** 2))) if len(r) else math.nan
    sortino = (
        float(np.mean(r) / downside * math.sqrt(per_year))
        if downside and downside > 0
        else math.nan
    )
    peak = np.maximum.accumulate(equity)
    max_dd = float(np.max(1.0 - equity / peak))
    active = held != 0.0
    hits = (held * bar)[active] > 0.0
    hit_rate = float(hits.mean()) if active.any() else math.nan
    trades = int(np.count_nonzero(np.diff(np.asarray(positions), prepend=0.0)))
    exposure = float(active.mean()) if len(active) else 0.0
    return Metrics(total, cagr, sharpe, sortino, max_dd, hit_rate, trades, exposure)


def years_between(first: np.datetime64, last: np.datetime64) -> float:
    """Calendar years between two timestamps."""
    return float((last - first) / np.timedelta64(1, "s")) / (365.25 * 86400.0)


def sma_cross_positions(
    close_history: np.ndarray, start: int, fast: int = 50, slow: int = 200
) -> np.ndarray:
    """Long (1) when SMA``fast`` > SMA``slow`` at each bar from ``start``, else flat (0).

    Each value uses closes up to and including that bar only.
    """
    csum = np.concatenate([[0.0], np.cumsum(np.asarray(close_history, dtype=np.float64))])
    idx = np.arange(start, len(close_history))
    out = np.zeros(len(idx))
    ok = idx + 1 >= slow
    i = idx[ok]
    fast_ma = (csum[i + 1] - csum[i + 1 - fast]) / fast
    slow_ma = (csum[i + 1] - csum[i + 1 - slow]) / slow
    out[ok] = (fast_ma > slow_ma).astype(np.float64)
    return out


def _clean(value: float | int) -> float | int | None:
    if isinstance(value, float):
        return None if not math.isfinite(value) else round(value, 6)
    return value
