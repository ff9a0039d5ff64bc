"""Batch entry points: one history in, one output array per moon column out.

Each function runs the moon's step kernel over the whole history on a fresh state, so it
equals the incremental class fed bar by bar. Outputs are NaN during warm-up (the warm-up
length is in each docstring) and all-NaN when the history is shorter than that.
Prices must be finite and > 0, volumes finite and >= 0 (ValueError otherwise).
"""

from __future__ import annotations

import math

import numpy as np

from moons import _runs
from moons._kernels_stats import (
    beta_size,
    dd_size,
    mom_size,
    ret_size,
    var_size,
    var_tail_counts,
)
from moons._kernels_ta import atr_size, bb_size, ema_size, macd_size, rsi_size, sma_size
from moons._types import as_price_array
from moons._warp import ema_k


def _price(x: object, name: str = "close") -> np.ndarray:
    return as_price_array(x, name, positive=True)


def check_period(name: str, value: int) -> int:
    """Validate an integer window/period parameter (>= 2)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 2:
        raise ValueError(f"{name} must be an int >= 2, got {value!r}")
    return int(value)


def sma(close: object, period: int = 20) -> np.ndarray:
    """Simple moving average (TA-Lib SMA). Warm-up: period - 1 bars."""
    c = _price(close)
    p = check_period("period", period)
    out = np.empty(c.shape[0])
    _runs.sma_run(np.zeros(sma_size(p)), p, c, out)
    return out


def ema(close: object, period: int = 20) -> np.ndarray:
    """Exponential moving average, SMA-seeded (TA-Lib EMA). Warm-up: period - 1 bars."""
    c = _price(close)
    p = check_period("period", period)
    out = np.empty(c.shape[0])
    _runs.ema_run(np.zeros(ema_size(p)), p, ema_k(p), c, out)
    return out


def rsi(close: object, period: int = 14) -> np.ndarray:
    """Wilder RSI (TA-Lib RSI; 100 with no losses, 0 when flat). Warm-up: period bars."""
    c = _price(close)
    p = check_period("period", period)
    out = np.empty(c.shape[0])
    _runs.rsi_run(np.zeros(rsi_size(p)), p, c, out)
    return out


def macd(
    close: object, fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(macd, signal, hist) as TA-Lib MACD. Warm-up: slow + signal - 2 bars. Needs fast < slow."""
    c = _price(close)
    f, s, g = (check_period(n, v) for n, v in (("fast", fast), ("slow", slow), ("signal", signal)))
    if f >= s:
        raise ValueError(f"fast ({f}) must be < slow ({s})")
    out = np.empty((c.shape[0], 3))
    _runs.macd_run(np.zeros(macd_size(f, s, g)), f, s, g, ema_k(f), ema_k(s), ema_k(g), c, out)
    return out[:, 0].copy(), out[:, 1].copy(), out[:, 2].copy()


def bollinger(
    close: object, period: int = 20, k: float = 2.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(mid, upper, lower, %b): TA-Lib BBANDS(SMA, k, k) plus %b. Warm-up: period - 1 bars.

    %b = (close - lower) / (upper - lower), NaN when the window is flat (upper == lower).
    """
    c = _price(close)
    p = check_period("period", period)
    if not (math.isfinite(k) and k > 0):
        raise ValueError(f"k must be finite and > 0, got {k!r}")
    out = np.empty((c.shape[0], 4))
    _runs.bb_run(np.zeros(bb_size(p)), p, float(k), c, out)
    return tuple(out[:, j].copy() for j in range(4))  # type: ignore[return-value]


def atr(high: object, low: object, close: object, period: int = 14) -> np.ndarray:
    """Wilder average true range (TA-Lib ATR). Warm-up: period bars."""
    h, lo, c = _price(high, "high"), _price(low, "low"), _price(close)
    if not (h.shape == lo.shape == c.shape):
        raise ValueError("high, low and close must have the same length")
    p = check_period("period", period)
    out = np.empty(c.shape[0])
    _runs.atr_run(np.zeros(atr_size(p)), p, h, lo, c, out)
    return out


def realized_vol(close: object, window: int = 20, periods_per_year: int = 252) -> np.ndarray:
    """Rolling sample std of log returns * sqrt(periods_per_year). Warm-up: window bars.

    A flat window gives exactly 0.
    """
    c = _price(close)
    w = check_period("window", window)
    if periods_per_year <= 0:
        raise ValueError("periods_per_year must be > 0")
    out = np.empty(c.shape[0])
    _runs.realized_vol_run(np.zeros(ret_size(w)), w, math.sqrt(periods_per_year), c, out)
    return out


def ret_z(close: object, window: int = 20) -> np.ndarray:
    """z-score of the last simple return vs the rolling mean/std (ddof=1) of the last
    ``window`` returns (the last one included). Warm-up: window bars. NaN when std is 0."""
    c = _price(close)
    w = check_period("window", window)
    out = np.empty(c.shape[0])
    _runs.ret_z_run(np.zeros(ret_size(w)), w, c, out)
    return out


def max_drawdown(close: object, window: int = 60) -> np.ndarray:
    """Largest peak-to-later-trough loss 1 - trough/peak within the last ``window`` closes
    (a positive fraction, 0 if prices only rose). Warm-up: window - 1 bars."""
    c = _price(close)
    w = check_period("window", window)
    out = np.empty(c.shape[0])
    _runs.dd_run(np.zeros(dd_size(w)), w, c, out)
    return out


def var_cvar(
    close: object, window: int = 250
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Historical (var95, cvar95, var99, cvar99) of the last ``window`` simple returns.

    Positive numbers are losses. With k = ceil(window * (1 - level)), VaR is minus the
    k-th smallest return (numpy ``quantile(method="inverted_cdf")``) and CVaR is minus the
    mean of the k smallest returns. Warm-up: window bars.
    """
    c = _price(close)
    w = check_period("window", window)
    k95, k99 = var_tail_counts(w)
    out = np.empty((c.shape[0], 4))
    _runs.var_run(np.zeros(var_size(w)), w, k95, k99, c, out)
    return tuple(out[:, j].copy() for j in range(4))  # type: ignore[return-value]


def sharpe(close: object, window: int = 60, periods_per_year: int = 252) -> np.ndarray:
    """Rolling mean/std (ddof=1) of simple returns * sqrt(periods_per_year), zero risk-free
    rate. Warm-up: window bars. NaN when std is 0."""
    c = _price(close)
    w = check_period("window", window)
    if periods_per_year <= 0:
        raise ValueError("periods_per_year must be > 0")
    out = np.empty(c.shape[0])
    _runs.sharpe_run(np.zeros(ret_size(w)), w, math.sqrt(periods_per_year), c, out)
    return out


def beta_corr(
    close: object, benchmark_close: object, window: int = 60
) -> tuple[np.ndarray, np.ndarray]:
    """Rolling (beta, correlation) of simple returns against a benchmark. Warm-up: window bars.

    beta = cov(r, r_bench) / var(r_bench) -- the same as ``talib.BETA(bench, close, window)``;
    correlation is Pearson's on returns (TA-Lib CORREL would correlate prices instead).
    Constant benchmark window: both NaN; constant asset window: beta 0, correlation NaN.
    """
    c, b = _price(close), _price(benchmark_close, "benchmark_close")
    if c.shape != b.shape:
        raise ValueError("close and benchmark_close must have the same length")
    w = check_period("window", window)
    out = np.empty((c.shape[0], 2))
    _runs.beta_run(np.zeros(beta_size(w)), w, c, b, out)
    return out[:, 0].copy(), out[:, 1].copy()


def volume_z(volume: object, window: int = 20) -> np.ndarray:
    """z-score of the volume vs the rolling mean/std (ddof=1) of the last ``window`` volumes
    (current included). Warm-up: window - 1 bars. NaN when std is 0."""
    v = as_price_array(volume, "volume", positive=False)
    w = check_period("window", window)
    out = np.empty(v.shape[0])
    _runs.volume_z_run(np.zeros(mom_size(w)), w, v, out)
    return out
