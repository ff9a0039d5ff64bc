"""The universe walk-forward: one decide_universe per tick, the guardian's limits held,
compared with equal-weight buy-and-hold; the CLI writes the JSON report and the figure."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from heliarch.backtest import (
    EQUAL_WEIGHT,
    UNIVERSE_STRATEGY,
    UniverseBacktestConfig,
    bundled_universe,
    run_universe_backtest,
)
from heliarch.cli import app
from sun.universe import PortfolioLimits


@pytest.mark.parametrize("max_gross", [1.0, 0.4])
def test_universe_walk_forward_respects_the_portfolio_limits(max_gross: float) -> None:
    universe, benchmark = bundled_universe(12, 290)
    limits = PortfolioLimits(max_gross=max_gross, max_net=0.3)
    result = run_universe_backtest(
        universe, benchmark, UniverseBacktestConfig(warmup=265, portfolio=limits)
    )
    assert result.weights.shape == (25, 12)
    assert (np.abs(result.weights).sum(axis=1) <= max_gross + 1e-9).all()
    assert (np.abs(result.weights.sum(axis=1)) <= 0.3 + 1e-9).all()
    report = result.report()
    assert set(report["metrics"]) == {UNIVERSE_STRATEGY, EQUAL_WEIGHT}
    assert report["window"]["ticks"] == 25 and report["decisions"] == 25 * 12
    short = [n for n in universe if n.startswith("BTCUSD")]
    assert short and all(result.weights[:, list(universe).index(n)].max() == 0 for n in short)
    baseline = result.equity[EQUAL_WEIGHT]
    assert baseline[0] == 1.0 and np.isfinite(baseline).all()
    json.dumps(report)


def test_cli_universe_backtest_writes_report_and_figure(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["backtest", "--universe", "6", "--universe-bars", "275", "--out", str(tmp_path), "--json"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "universe6-quant.json").read_text())
    assert report["instruments"] == 6 and (tmp_path / "universe6-quant.png").stat().st_size > 0


def test_cli_backtest_needs_data_or_universe(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["backtest", "--out", str(tmp_path)])
    assert result.exit_code == 2
