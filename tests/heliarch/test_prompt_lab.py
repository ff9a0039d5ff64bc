"""The prompt lab: labelled past situations without look-ahead, few-shot from memory."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bus import BarSeries, MarketSnapshot
from heliarch import build_situations, memory_examples, run_evolution
from memory import UniversalMemory
from sun import Sun, compute_panel
from sun.llm import local_available

needs_local = pytest.mark.skipif(not local_available(), reason="local model not installed")


@pytest.fixture
def prompt_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "prompts"
    monkeypatch.setenv("HELIARCH_PROMPTS_DIR", str(directory))
    return directory


def test_situation_sets_are_chronological_and_labelled_after_the_decision(
    goog: BarSeries,
) -> None:
    sets = build_situations(goog, pool=4, selection=6, holdout=3)
    ordered = [*sets.pool, *sets.selection, *sets.holdout]
    stamps = [datetime.fromisoformat(s.inputs.as_of) for s in ordered]
    assert stamps == sorted(stamps) and len(set(stamps)) == 13
    assert all(s.horizon_end > t for s, t in zip(ordered, stamps, strict=True))


def remembered(tmp_path: Path, goog: BarSeries) -> UniversalMemory:
    """Memory filled by real decisions on GOOG 2005 whose outcomes were labelled."""
    memory = UniversalMemory(tmp_path / "memory", episode="lab")
    stamps = [t.astype("datetime64[us]").item() for t in goog.timestamps]
    with Sun("quant", checkpoint="none") as sun:
        for i in range(300, 420, 3):
            snapshot = MarketSnapshot.at(stamps[i], {"GOOG": goog})
            decision = sun.decide(snapshot)
            panel = compute_panel(snapshot).for_instrument("GOOG")
            situation = memory.situation(
                "GOOG", stamps[i], action=decision.action, moons=panel,
                target_position=decision.target_position, confidence=decision.confidence,
            )  # fmt: skip
            memory.remember_decision(situation)
            ret = float(goog.close[i + 5] / goog.close[i] - 1.0)
            end = stamps[i + 5]
            memory.remember_outcome(
                situation, outcome_of(end, ret, decision.target_position), var95=0.02
            )
    return memory


def outcome_of(end: datetime, ret: float, target: float):  # type: ignore[no-untyped-def]
    from memory import Outcome

    return Outcome(end, 5, ret, target * ret, target * ret - ret, target)


def test_memory_examples_come_only_from_outcomes_known_before_the_evaluation(
    tmp_path: Path, goog: BarSeries
) -> None:
    memory = remembered(tmp_path, goog)
    sets = build_situations(goog, start=330, stride=5, pool=2, selection=6, holdout=3)
    first = min(datetime.fromisoformat(s.inputs.as_of) for s in (*sets.selection, *sets.holdout))
    examples = memory_examples(memory, sets, "GOOG", k=3)
    assert len(examples) == 3
    usable = memory.best_episodes(first, k=3, instrument="GOOG")
    assert all(e.outcome.horizon_end <= first for e in usable)
    assert [e.example() for e in usable] == examples
    unfiltered = memory.best_episodes(datetime(2100, 1, 1), k=3, instrument="GOOG")
    assert any(e.outcome.horizon_end > first for e in unfiltered)  # the cut-off mattered
    assert [e.example() for e in unfiltered] != examples
    with pytest.raises(ValueError, match="no EURUSD episode"):
        memory_examples(memory, sets, "EURUSD")


@needs_local
@pytest.mark.slow
def test_evolution_few_shot_examples_from_memory_reach_the_candidate(
    tmp_path: Path, goog: BarSeries, prompt_dir: Path
) -> None:
    memory = remembered(tmp_path, goog)
    report = run_evolution(
        goog.up_to(goog.last_timestamp), variants=1, selection=4, holdout=2, max_calls=6,
        mutations=("few_shot",), memory=memory, auto_adopt=False,
    )  # fmt: skip
    assert report["few_shot_source"] == "memory"
    tried = report["variants_tried"]
    assert len(tried) == 1 and "few-shot" in tried[0]["note"]
    candidate = next(prompt_dir.glob("sun_reason*.md")).read_text(encoding="utf-8")
    assert "Past decisions and their outcomes:" in candidate and "was right" in candidate


@needs_local
@pytest.mark.slow
def test_an_existing_candidate_version_is_tested_without_mutation_calls(
    goog: BarSeries, prompt_dir: Path
) -> None:
    report = run_evolution(
        goog.up_to(goog.last_timestamp), candidates=["2"], selection=2, holdout=1, max_calls=2,
        auto_adopt=False,
    )  # fmt: skip
    assert report["mutation_usage"]["calls"] == 0
    (tried,) = report["variants_tried"]
    assert tried["version"] == "2" and "rationale first" in tried["note"]
    assert report["incumbent"] == "1" and report["winner"] == "no winner"
    assert not list(prompt_dir.glob("pins.json"))  # nothing adopted
