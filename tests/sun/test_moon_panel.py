"""The moons node with a carried state: the same panels and decisions as a full pass each time,
walking forward, jumping back and after an edited past bar; checkpoints unaffected."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import moons
from bus import BarSeries, MarketSnapshot, SunDecision
from sun import OrchestrationConfig, Sun, compute_panel


def walk(series: BarSeries, starts: int, steps: list[int]) -> list[datetime]:
    """Decision times: bar ``starts`` plus the cumulative ``steps`` (negative = back)."""
    index, stamps = starts, []
    for step in [0, *steps]:
        index += step
        stamps.append(series.timestamps[index].astype("datetime64[us]").item())
    return stamps


STEPS = [1, 0, 3, 1, 17, -40, 1, 2, 250, 1]


def edited(series: BarSeries, index: int) -> BarSeries:
    """``series`` with one past bar's volume changed (every other value kept)."""
    volume = series.volume.copy()
    volume[index] += 100.0
    return BarSeries(instrument=series.instrument, timestamps=series.timestamps,
                     open=series.open, high=series.high, low=series.low, close=series.close,
                     volume=volume)  # fmt: skip


def bits(panel: moons.MoonPanel | Any) -> dict[str, bytes]:
    return {name: np.array(list(row.values())).tobytes() for name, row in panel.values.items()}


@pytest.mark.parametrize("with_benchmark", [False, True])
def test_carried_panels_equal_full_passes(
    goog: BarSeries, eurusd: BarSeries, with_benchmark: bool
) -> None:
    carry = moons.PanelCarry()
    for as_of in walk(eurusd, 300, STEPS):
        snapshot = MarketSnapshot.at(
            as_of, {"EURUSD": eurusd, "GOOG": goog}, benchmark=eurusd if with_benchmark else None
        )
        reference = compute_panel(snapshot, cache=moons.MoonCache())
        got = compute_panel(snapshot, cache=moons.MoonCache(), carry=carry)
        assert bits(got) == bits(reference)
    assert carry.stats["carried"] > 0 and carry.stats["full"] >= 2


def test_an_edited_history_is_recomputed_in_the_panel(goog: BarSeries) -> None:
    carry = moons.PanelCarry()
    as_of = walk(goog, 900, [5])
    compute_panel(MarketSnapshot.at(as_of[0], {"GOOG": goog}), carry=carry)
    changed = MarketSnapshot.at(as_of[1], {"GOOG": edited(goog, 400)})
    got = compute_panel(changed, carry=carry)
    assert bits(got) == bits(compute_panel(changed, cache=moons.MoonCache()))
    assert carry.stats["full"] == 2 and carry.stats["carried"] == 0


def comparable(decision: SunDecision) -> dict[str, Any]:
    """The decision without wall-clock durations."""
    dumped = decision.model_dump(mode="json")
    dumped["trace"] = [{k: v for k, v in s.items() if k != "duration_ms"} for s in dumped["trace"]]
    return dumped


@pytest.mark.parametrize("checkpoint", ["none", "sqlite"])
def test_decisions_with_a_carried_state_equal_full_passes(
    goog: BarSeries, tmp_path: Path, checkpoint: str
) -> None:
    store = "none" if checkpoint == "none" else str(tmp_path / "c.sqlite")
    carried_config = OrchestrationConfig(moon_cache=moons.MoonCache())
    full_config = OrchestrationConfig(moon_cache=moons.MoonCache(), moon_carry=None)
    history = [*walk(goog, 600, STEPS)]
    with (
        Sun("quant", checkpoint=store, orchestration=carried_config) as carried,
        Sun("quant", checkpoint="none", orchestration=full_config) as full,
    ):
        for as_of in history:
            snapshot = MarketSnapshot.at(as_of, {"GOOG": goog})
            assert comparable(carried.decide(snapshot)) == comparable(full.decide(snapshot))
        after_edit = MarketSnapshot.at(history[-1], {"GOOG": edited(goog, 100)})
        assert comparable(carried.decide(after_edit)) == comparable(full.decide(after_edit))
    assert carried_config.moon_carry is not None
    assert carried_config.moon_carry.stats["carried"] >= 6
    assert carried_config.moon_carry.stats["full"] >= 3  # first, the jump back, the edit


def test_each_config_carries_its_own_state() -> None:
    first, second = OrchestrationConfig(), OrchestrationConfig()
    assert first.moon_carry is not second.moon_carry
    assert first == second  # the carried state is not part of a config's identity
