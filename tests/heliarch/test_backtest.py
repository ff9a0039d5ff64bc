"""Backtest: metrics against hand-computed values, baselines, determinism, the CLI."""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bus import BarSeries
from heliarch.backtest import (
    BacktestConfig,
    compute_metrics,
    equity_from_positions,
    run_backtest,
    sma_cross_positions,
)
from heliarch.cli import app

CLOSE = np.array([100.0, 102.0, 101.0, 103.0, 106.0, 104.0, 105.0, 107.0, 103.0, 108.0])
POS = np.array([0.0, 1.0, 1.0, 0.0, -0.5, -0.5, 0.0, 1.0, 1.0, 1.0])


def test_equity_hand_computed_on_ten_bars() -> None:
    net, equity = equity_from_positions(CLOSE, POS, cost_bps=5.0, slippage_bps=5.0)
    rate = 10 / 1e4
    expected = [
        0.0,
        0.0 * (102 / 100 - 1) - 0.0,  # held 0 over bar 1; the trade at bar 1 is charged in bar 2
        1.0 * (101 / 102 - 1) - 1.0 * rate,
        1.0 * (103 / 101 - 1) - 0.0,
        0.0 * (106 / 103 - 1) - 1.0 * rate,
        -0.5 * (104 / 106 - 1) - 0.5 * rate,
        -0.5 * (105 / 104 - 1) - 0.0,
        0.0 * (107 / 105 - 1) - 0.5 * rate,
        1.0 * (103 / 107 - 1) - 1.0 * rate,
        1.0 * (108 / 103 - 1) - 0.0,
    ]
    np.testing.assert_allclose(net, expected, atol=1e-15)
    np.testing.assert_allclose(equity, np.cumprod(1 + np.array(expected)))


def test_metrics_hand_computed_on_ten_bars() -> None:
    net, _ = equity_from_positions(CLOSE, POS, 0.0, 0.0)
    m = compute_metrics(net, POS, CLOSE, years=0.5)
    r = net[1:]
    total = float(np.prod(1 + r) - 1)
    assert m.total_return == pytest.approx(total)
    assert m.cagr == pytest.approx((1 + total) ** 2 - 1)
    per_year = 9 / 0.5
    assert m.sharpe == pytest.approx(r.mean() / r.std(ddof=1) * math.sqrt(per_year))
    downside = math.sqrt(np.mean(np.minimum(r, 0) ** 2))
    assert m.sortino == pytest.approx(r.mean() / downside * math.sqrt(per_year))
    equity = np.cumprod(np.concatenate([[1.0], 1 + r]))
    assert m.max_drawdown == pytest.approx(np.max(1 - equity / np.maximum.accumulate(equity)))
    # held non-zero over bars 2, 3 (long: -, +), 5, 6 (short: +, -), 8, 9 (long: -, +)
    assert m.hit_rate == pytest.approx(3 / 6)
    assert m.trades == 5  # 0->1, 1->0, 0->-0.5, -0.5->0, 0->1
    assert m.exposure == pytest.approx(6 / 9)


def test_sma_cross_uses_only_past_closes() -> None:
    close = np.concatenate([np.linspace(100, 50, 30), np.linspace(50, 120, 30)])
    pos = sma_cross_positions(close, 0, fast=5, slow=20)
    assert (pos[:19] == 0).all()  # slow SMA not defined yet
    for t in range(19, len(close)):
        assert pos[t] == float(close[t - 4 : t + 1].mean() > close[t - 19 : t + 1].mean())
    poisoned = close.copy()
    poisoned[40:] *= 10
    np.testing.assert_array_equal(sma_cross_positions(poisoned, 0, 5, 20)[:40], pos[:40])


def small_config(**changes: object) -> BacktestConfig:
    base = {
        "start": datetime(2010, 1, 1),
        "end": datetime(2010, 4, 30),
        "distill_every": 20,
        "lesson_min_count": 10,
    }
    return BacktestConfig(**{**base, **changes})  # type: ignore[arg-type]


def test_backtest_is_deterministic_and_has_baselines(goog: BarSeries) -> None:
    first = run_backtest(goog, small_config())
    second = run_backtest(goog, small_config())
    assert first.decisions == 82  # trading days 2010-01-04 .. 2010-04-30
    for name in ("sun", "buy_and_hold", "sma_50_200"):
        np.testing.assert_array_equal(first.equity[name], second.equity[name])
        assert first.metrics[name].as_dict() == second.metrics[name].as_dict()
    a, b = first.report(), second.report()
    a.pop("elapsed_s"), b.pop("elapsed_s")
    assert a == b
    bh = first.metrics["buy_and_hold"]
    close = goog.close[(goog.timestamps >= np.datetime64("2010-01-01"))
                       & (goog.timestamps <= np.datetime64("2010-04-30"))]  # fmt: skip
    assert bh.total_return == pytest.approx((close[-1] / close[0] - 1) * 1 - 2e-4, abs=5e-4)
    assert a["llm"]["calls"] == 0 and a["learning"]["labelled"] == 82 - 5
    assert a["learning"]["lessons_written"] >= 1


def test_cli_writes_report_and_png(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["backtest", "--data", "examples/data/GOOG.csv", "--symbol", "GOOG", "--start",
         "2010-01-01", "--end", "2010-03-01", "--learning", "off", "--out", str(tmp_path),
         "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout[result.stdout.index("{") :])
    assert set(report["metrics"]) == {"sun", "buy_and_hold", "sma_50_200"}
    assert report["learning"]["enabled"] is False and report["learning"]["weight_updates"] == 0
    assert Path(report["files"]["equity_png"]).stat().st_size > 10_000
    assert json.loads(Path(report["files"]["report"]).read_text())["decisions"] == 39


@pytest.mark.slow
def test_whole_goog_walk_forward_decides_every_bar(goog: BarSeries) -> None:
    # Its speed target (<= 60 s) is measured by benchmarks/memory.py, not asserted here.
    result = run_backtest(goog, BacktestConfig())
    assert result.decisions == len(goog)
