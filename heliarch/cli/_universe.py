"""``heliarch backtest --universe N``: a universe walk-forward with JSON report and PNG."""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table


def universe_backtest(
    n: int, bars: int, model: str, cost_bps: float, slippage_bps: float, out: Path, as_json: bool
) -> None:
    """Run :func:`heliarch.backtest.run_universe_backtest` on ``bundled_universe(n, bars)``."""
    from heliarch.backtest import (
        UniverseBacktestConfig,
        bundled_universe,
        plot_universe,
        run_universe_backtest,
    )

    err = Console(stderr=True)
    try:
        universe, benchmark = bundled_universe(n, bars)
        config = UniverseBacktestConfig(model=model, cost_bps=cost_bps, slippage_bps=slippage_bps)
        result = run_universe_backtest(universe, benchmark, config)
    except ValueError as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error
    out.mkdir(parents=True, exist_ok=True)
    model_part = re.sub(r"[^A-Za-z0-9._-]", "_", model)[:60].lstrip(".-") or "model"
    stem = f"universe{len(universe)}-{model_part}"
    report = result.report()
    png = plot_universe(result, out / f"{stem}.png")
    report["files"] = {"report": str(out / f"{stem}.json"), "equity_png": str(png)}
    (out / f"{stem}.json").write_text(json.dumps(report, indent=2))
    if as_json:
        print(json.dumps(report, indent=2))
        return
    table = Table(title=f"{len(universe)} instruments, {report['window']['ticks']} ticks")
    columns = ("total_return", "cagr", "sharpe", "max_drawdown", "trades")
    table.add_column("strategy")
    for column in columns:
        table.add_column(column, justify="right")
    for name, metrics in report["metrics"].items():
        table.add_row(name, *(str(metrics[c]) for c in columns))
    console = Console()
    console.print(table)
    console.print(f"corrections {report['corrections']}  report: {report['files']['report']}  "
                  f"figure: {png}")  # fmt: skip
