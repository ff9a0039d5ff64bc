"""The moon registry: every moon declared once.

Adding a moon = its kernels (``*_size`` and the numba ``*_step``, plus a ``*_pack`` if its
kernel parameters are not just its int/float arguments) in a module of :mod:`moons.kernels`,
and one ``MoonDef`` entry below. ``moons.batch``, ``moons.incremental``, ``PanelSpec``, the panel
columns and the fused compiled panel (``moons._fused``) all follow from ``REGISTRY``.

Step kernel convention: ``step(st, o, *int_params, *float_params, *inputs)`` returns the
value of a one-column moon; a multi-column moon takes ``(..., out, col)`` after its inputs
and writes ``out[col:col + len(columns)]``.
"""

from __future__ import annotations

from moons._moon import MoonDef, Param, check_factor, check_positive
from moons.kernels import beta, risk, stats, ta

PPY = Param("periods_per_year", "periods_per_year", 252, check_positive)


def _fast_below_slow(fast: int, slow: int, signal: int) -> None:
    """MACD's cross-parameter rule."""
    if fast >= slow:
        raise ValueError(f"fast ({fast}) must be < slow ({slow})")


REGISTRY: tuple[MoonDef, ...] = (
    MoonDef(
        "sma", ("close",), (Param("period", "sma_period", 20),), ("sma",),
        ta.sma_step, ta.sma_size, lambda period: period - 1,
        "Simple moving average (TA-Lib SMA). Warm-up: period - 1 bars.",
    ),
    MoonDef(
        "ema", ("close",), (Param("period", "ema_period", 20),), ("ema",),
        ta.ema_step, ta.ema_size, lambda period: period - 1,
        "Exponential moving average, SMA-seeded (TA-Lib EMA). Warm-up: period - 1 bars.",
        pack=ta.ema_pack, windowed=False,
    ),
    MoonDef(
        "rsi", ("close",), (Param("period", "rsi_period", 14),), ("rsi",),
        ta.rsi_step, ta.rsi_size, lambda period: period,
        "Wilder RSI (TA-Lib RSI; 100 with no losses, 0 when flat). Warm-up: period bars.",
        windowed=False,
    ),
    MoonDef(
        "macd", ("close",),
        (Param("fast", "macd_fast", 12), Param("slow", "macd_slow", 26),
         Param("signal", "macd_signal", 9)),
        ("macd", "macd_signal", "macd_hist"),
        ta.macd_step, ta.macd_size, lambda fast, slow, signal: slow + signal - 2,
        "(macd, signal, hist) as TA-Lib MACD. Warm-up: slow + signal - 2 bars. Needs fast < slow.",
        pack=ta.macd_pack, validate=_fast_below_slow, windowed=False,
    ),
    MoonDef(
        "bollinger", ("close",),
        (Param("period", "bb_period", 20), Param("k", "bb_k", 2.0, check_factor)),
        ("bb_mid", "bb_upper", "bb_lower", "bb_pctb"),
        ta.bb_step, lambda period, k: ta.bb_size(period), lambda period, k: period - 1,
        "(mid, upper, lower, %b): TA-Lib BBANDS(SMA, k, k) plus %b = (close - lower) / "
        "(upper - lower), NaN when the window is flat. Warm-up: period - 1 bars.",
    ),
    MoonDef(
        "atr", ("high", "low", "close"), (Param("period", "atr_period", 14),), ("atr",),
        ta.atr_step, ta.atr_size, lambda period: period,
        "Wilder average true range (TA-Lib ATR). Warm-up: period bars.",
        windowed=False,
    ),
    MoonDef(
        "realized_vol", ("close",), (Param("window", "vol_window", 20), PPY), ("realized_vol",),
        stats.realized_vol_step, lambda window, periods_per_year: stats.ret_size(window),
        lambda window, periods_per_year: window,
        "Rolling sample std of log returns * sqrt(periods_per_year); a flat window gives "
        "exactly 0. Warm-up: window bars.",
        pack=stats.ret_pack,
    ),
    MoonDef(
        "ret_z", ("close",), (Param("window", "ret_z_window", 20),), ("ret_z",),
        stats.ret_z_step, stats.ret_size, lambda window: window,
        "z-score of the last simple return vs the rolling mean/std (ddof=1) of the last "
        "``window`` returns (the last one included); NaN when std is 0. Warm-up: window bars.",
    ),
    MoonDef(
        "max_drawdown", ("close",), (Param("window", "dd_window", 60),), ("max_drawdown",),
        risk.dd_step, risk.dd_size, lambda window: window - 1,
        "Largest peak-to-later-trough loss 1 - trough/peak within the last ``window`` closes "
        "(a positive fraction, 0 if prices only rose). Warm-up: window - 1 bars.",
    ),
    MoonDef(
        "var_cvar", ("close",), (Param("window", "var_window", 250),),
        ("var95", "cvar95", "var99", "cvar99"),
        risk.var_step, risk.var_size, lambda window: window,
        "Historical (var95, cvar95, var99, cvar99) of the last ``window`` simple returns; "
        "positive = loss. With k = ceil(window * (1 - level)), VaR is minus the k-th smallest "
        "return (numpy quantile, method='inverted_cdf') and CVaR minus the mean of the k "
        "smallest. Warm-up: window bars.",
        pack=risk.var_pack,
    ),
    MoonDef(
        "sharpe", ("close",), (Param("window", "sharpe_window", 60), PPY), ("sharpe",),
        stats.sharpe_step, lambda window, periods_per_year: stats.ret_size(window),
        lambda window, periods_per_year: window,
        "Rolling mean/std (ddof=1) of simple returns * sqrt(periods_per_year), zero risk-free "
        "rate; NaN when std is 0. Warm-up: window bars.",
        pack=stats.ret_pack,
    ),
    MoonDef(
        "beta_corr", ("close", "benchmark_close"), (Param("window", "beta_window", 60),),
        ("beta", "correlation"),
        beta.beta_step, beta.beta_size, lambda window: window,
        "Rolling (beta, correlation) of simple returns against a benchmark; beta = "
        "cov(r, r_bench) / var(r_bench) = talib.BETA(bench, close, window), correlation is "
        "Pearson's on returns. Constant benchmark window: both NaN; constant asset window: "
        "beta 0, correlation NaN. Warm-up: window bars.",
    ),
    MoonDef(
        "volume_z", ("volume",), (Param("window", "volume_z_window", 20),), ("volume_z",),
        stats.volume_z_step, stats.mom_size, lambda window: window - 1,
        "z-score of the volume vs the rolling mean/std (ddof=1) of the last ``window`` "
        "volumes (current included); NaN when std is 0. Warm-up: window - 1 bars.",
    ),
)  # fmt: skip

MOONS: dict[str, MoonDef] = {d.name: d for d in REGISTRY}
