"""Walk-forward backtests of a sun on real bars, with memory, learning and baselines.

from heliarch.backtest import BacktestConfig, run_backtest
result = run_backtest(load_csv("examples/data/GOOG.csv", "GOOG"), BacktestConfig())
print(result.report()["metrics"])
"""

from heliarch.backtest._metrics import (
    BUY_AND_HOLD,
    SMA_CROSS,
    STRATEGY,
    Metrics,
    compute_metrics,
    equity_from_positions,
    sma_cross_positions,
    years_between,
)
from heliarch.backtest._plot import plot_equity
from heliarch.backtest._result import BacktestConfig, BacktestResult, usage_summary
from heliarch.backtest._run import run_backtest
from heliarch.backtest._universe_data import bundled_universe
from heliarch.backtest._universe_run import (
    EQUAL_WEIGHT,
    UNIVERSE_STRATEGY,
    UniverseBacktestConfig,
    UniverseBacktestResult,
    plot_universe,
    run_universe_backtest,
)

__all__ = [
    "BUY_AND_HOLD",
    "EQUAL_WEIGHT",
    "SMA_CROSS",
    "STRATEGY",
    "UNIVERSE_STRATEGY",
    "UniverseBacktestConfig",
    "UniverseBacktestResult",
    "BacktestConfig",
    "BacktestResult",
    "Metrics",
    "bundled_universe",
    "compute_metrics",
    "equity_from_positions",
    "plot_equity",
    "plot_universe",
    "run_backtest",
    "run_universe_backtest",
    "sma_cross_positions",
    "usage_summary",
    "years_between",
]
