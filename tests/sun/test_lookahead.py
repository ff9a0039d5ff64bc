"""No look-ahead: poison every bar after t and nothing the sun saw up to t may change.

The walk-forward runs twice over GOOG, once on real data and once with every row after the cut
multiplied by 10 (prices) and 1000 (volume). Every decision up to the cut — planet reports,
evidence, recalled memories, rationale, position — must be identical, and so must every prompt
the LLM received. Memory and learning are on, with a short horizon and frequent distillation,
so an outcome labelled early or a lesson leaking from the future would show up.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import numpy as np
import pytest

from bus import BarSeries, MarketSnapshot
from heliarch.backtest import BacktestConfig, run_backtest
from sun import compute_panel
from sun.testing import ScriptedChatModel

START, CUT, END = datetime(2010, 1, 1), datetime(2010, 3, 31), datetime(2010, 5, 31)


def poisoned(series: BarSeries, cut: datetime) -> BarSeries:
    future = series.timestamps > np.datetime64(cut)
    prices = {
        name: np.where(future, getattr(series, name) * 10.0, getattr(series, name))
        for name in ("open", "high", "low", "close")
    }
    volume = np.where(future, series.volume * 1000.0, series.volume)
    return BarSeries(instrument=series.instrument, timestamps=series.timestamps, volume=volume,
                     **prices)  # fmt: skip


def _strip(value: Any) -> Any:
    """Drop wall-clock fields (latencies) that legitimately differ between runs."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in ("latency_ms", "duration_ms")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _until_cut(decisions: list[Any]) -> list[Any]:
    return [_strip(d.model_dump(mode="json")) for d in decisions if d.as_of <= CUT]


def test_poisoned_future_changes_nothing_up_to_the_cut_quant(goog: BarSeries) -> None:
    config = BacktestConfig(start=START, end=END, horizon=3, distill_every=10, lesson_min_count=5)
    clean: list[Any] = []
    dirty: list[Any] = []
    clean_run = run_backtest(goog, config, capture=clean)
    dirty_run = run_backtest(poisoned(goog, CUT), config, capture=dirty)
    before = _until_cut(clean)
    assert len(before) > 50 and before == _until_cut(dirty)
    recalled = [line for d in before for line in d["recalled"]]
    assert any("3-bar return" in line for line in recalled)  # outcomes were recalled
    assert any(line.startswith("lesson (") for line in recalled)  # and lessons
    n = len(before)
    np.testing.assert_array_equal(clean_run.positions["sun"][:n], dirty_run.positions["sun"][:n])
    # and the poison is real: after the cut the runs differ
    assert _strip(clean[-1].model_dump(mode="json")) != _strip(dirty[-1].model_dump(mode="json"))


def test_poisoned_future_changes_no_prompt(goog: BarSeries) -> None:
    answer = json.dumps(
        {"action": "BUY", "size": 0.3, "confidence": 0.6, "rationale": "momentum trend is up"}
    )
    config = BacktestConfig(
        model="openai:scripted", policy="always", start=START, end=END, horizon=3,
        distill_every=10, lesson_min_count=5,
    )  # fmt: skip
    runs = []
    for series in (goog, poisoned(goog, CUT)):
        model = ScriptedChatModel(script=[answer], prompts=[])
        decisions: list[Any] = []
        seen: list[int] = []

        def mark(done: int, total: int, model=model, decisions=decisions, seen=seen) -> None:
            if decisions and decisions[-1].as_of <= CUT:
                seen.append(len(model.prompts))

        run_backtest(series, config, chat_model=model, capture=decisions, on_step=mark)
        runs.append((model.prompts[: seen[-1]], _until_cut(decisions)))
    (clean_prompts, clean_decisions), (dirty_prompts, dirty_decisions) = runs
    assert clean_decisions == dirty_decisions
    assert len(clean_prompts) > 50 and clean_prompts == dirty_prompts
    assert any("3-bar return" in p for p in clean_prompts)  # recall reached the prompt


def test_moon_panel_at_the_cut_ignores_the_future(goog: BarSeries) -> None:
    clean = compute_panel(MarketSnapshot.at(CUT, {"GOOG": goog}))
    dirty = compute_panel(MarketSnapshot.at(CUT, {"GOOG": poisoned(goog, CUT)}))
    assert json.dumps(clean.values) == json.dumps(dirty.values)  # NaN-safe, bit-exact repr
    with pytest.raises(Exception, match="look-ahead"):
        MarketSnapshot(as_of=CUT, bars={"GOOG": goog})
