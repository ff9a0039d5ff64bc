"""Equity-curve plot of backtest runs and their baselines (needs the ``plot`` extra)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from heliarch.backtest._metrics import BUY_AND_HOLD, SMA_CROSS, STRATEGY

if TYPE_CHECKING:
    from heliarch.backtest._result import BacktestResult


def plot_equity(
    results: Sequence[BacktestResult], path: str | Path, title: str | None = None
) -> Path:
    """Write an equity-curve PNG: each run's strategy and the baselines (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(9, 4.8), dpi=90)
    first = results[0]
    times = first.timestamps.astype("datetime64[ms]").astype(object)
    for result in results:
        label = f"sun ({result.config.model}, learning {'on' if result.config.learning else 'off'})"
        ax.plot(times, result.equity[STRATEGY], label=label, linewidth=1.4)
    ax.plot(times, first.equity[BUY_AND_HOLD], label="buy & hold", color="grey", linewidth=1.0)
    ax.plot(times, first.equity[SMA_CROSS], label="SMA 50/200", color="black", linewidth=0.9,
            linestyle="--")  # fmt: skip
    ax.set_yscale("log")
    # 1-2-5 ticks in every decade: a curve that spans less than a decade still gets labels.
    ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_locator(
        matplotlib.ticker.LogLocator(base=10, subs=(1.25, 1.5, 3.0, 4.0, 6.0, 7.0, 8.0, 9.0))
    )
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_ylabel("equity (start = 1, log scale)")
    ax.set_title(title or f"{first.instrument}: walk-forward, costs included")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
