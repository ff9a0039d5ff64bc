"""``heliarch usage``: cost per decision and per model, cache savings, from a journal or a
backtest report."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from bus import BarSeries, MarketSnapshot
from heliarch.cli import app
from sun import ModelConfig, Sun
from sun.llm import LlmResponseCache, ModelInfo, ModelRegistry
from sun.mesh import MeshConfig, Tier
from sun.replay import record
from sun.testing import ScriptedChatModel

ANSWER = json.dumps(
    {
        "action": "SELL",
        "size": 0.1,
        "confidence": 0.9,
        "rationale": "momentum is bearish, close below its SMA",
    }
)
PRICE = ModelInfo(context_window=100_000, input_usd_per_mtok=3.0, output_usd_per_mtok=15.0)


def _journal(goog: BarSeries, path: Path) -> None:
    model = ScriptedChatModel(script=[ANSWER], input_tokens=1000, output_tokens=100)
    mesh = MeshConfig(
        registry=ModelRegistry.default().with_models({"test:deep": PRICE}),
        deep=Tier([("test:deep", model)]),
    )
    config = ModelConfig(mesh=mesh, backup_models=[], llm_cache=LlmResponseCache())
    snapshot = MarketSnapshot.at(datetime(2012, 6, 1), {"GOOG": goog})
    with Sun("quant", checkpoint="none", models=config) as sun:
        recorder = record(sun, path)
        first = recorder.decide(snapshot)
        again = recorder.decide(snapshot)  # same prompt: served by the response cache
    assert first.llm_usage.cost_usd == (1000 * 3.0 + 100 * 15.0) / 1e6
    assert again.llm_usage.calls == 0 and again.llm_usage.cache_hits == 1
    assert again.llm_usage.cost_usd == 0.0 and again.llm_usage.cache_saved_usd > 0.0


def test_usage_of_a_journal(goog: BarSeries, tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    _journal(goog, path)
    result = CliRunner().invoke(app, ["usage", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["kind"] == "journal" and report["decisions"] == 2
    assert report["total"]["calls"] == 1
    assert report["cost_per_decision_usd"] == 0.0045 / 2
    assert report["by_model"]["test:deep"]["cost_usd"] == 0.0045
    assert report["cache_saved_usd"] > 0
    table = CliRunner().invoke(app, ["usage", str(path)])
    assert table.exit_code == 0 and "test:deep" in table.output and "caches saved" in table.output


def test_usage_of_a_backtest_report(tmp_path: Path) -> None:
    path = tmp_path / "backtest.json"
    llm = {"calls": 4, "prompt_tokens": 4000, "completion_tokens": 400, "cache_hits": 1}
    by_model = {"test:deep": {**llm, "cost_usd": 0.018, "cache_saved_usd": 0.004}}
    path.write_text(
        json.dumps(
            {
                "decisions": 8,
                "llm": {**llm, "cost_usd": 0.018, "cache_saved_usd": 0.004},
                "llm_by_model": by_model,
            }
        )
    )
    report = json.loads(CliRunner().invoke(app, ["usage", str(path), "--json"]).output)
    assert report["kind"] == "backtest" and report["cost_per_decision_usd"] == 0.00225
    assert report["by_model"]["test:deep"]["cost_usd"] == 0.018


def test_usage_of_something_else_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.jsonl"
    path.write_text('{"hello": 1}\n')
    result = CliRunner().invoke(app, ["usage", str(path)])
    assert result.exit_code == 2
    assert "no decisions found" in " ".join(result.output.split())


def test_backtest_with_a_mesh_reports_cost_within_its_run_budget(goog: BarSeries) -> None:
    from heliarch.backtest import BacktestConfig, run_backtest
    from sun.mesh import BudgetConfig, BudgetLimits

    model = ScriptedChatModel(script=[ANSWER], input_tokens=1000, output_tokens=100)
    mesh = MeshConfig(
        registry=ModelRegistry.default().with_models({"test:deep": PRICE}),
        deep=Tier([("test:deep", model)]),
        budget=BudgetConfig(per_run=BudgetLimits(usd=0.02)),
    )
    config = BacktestConfig(start=datetime(2010, 1, 1), end=datetime(2010, 2, 26))
    decisions: list[Any] = []
    report = run_backtest(goog, config, mesh=mesh, capture=decisions).report()
    llm = report["llm"]
    assert 0 < llm["cost_usd"] <= 0.02 and llm["calls"] == model.calls
    assert llm["cost_per_decision_usd"] == round(llm["cost_usd"] / report["decisions"], 8)
    assert report["llm_by_model"]["test:deep"]["calls"] == model.calls
    last = decisions[-1]  # budget spent: the council (or quant) level went on, and says so
    assert last.fallback_level in ("council", "quant") and last.llm_usage.calls == 0
    assert "budget exhausted: per-run usd cap 0.02 reached" in last.rationale
