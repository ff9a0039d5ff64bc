"""SentimentX training: leak-free grouped split, reproducibility, the shipped file's figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("onnx")

from learning import (  # noqa: E402
    LabelledText,
    TrainReport,
    grouped_split,
    lexicon_teacher,
    load_labelled,
    train_sentimentx,
)
from learning.sentimentx._data import DATASETS, OVERLAP, data_fingerprint  # noqa: E402
from learning.sentimentx._eval import evaluate_scores, heldout_figures  # noqa: E402
from planets import DEFAULT_SENTIMENTX_PATH, SentimentX, dedupe_key  # noqa: E402


@pytest.fixture(scope="module")
def items() -> list[LabelledText]:
    return load_labelled()


@pytest.fixture(scope="module")
def shipped() -> SentimentX:
    scorer = SentimentX(DEFAULT_SENTIMENTX_PATH)
    assert scorer.fallback_reason is None, scorer.fallback_reason
    return scorer


@pytest.fixture(scope="module")
def retrained(tmp_path_factory: pytest.TempPathFactory) -> TrainReport:
    return train_sentimentx(tmp_path_factory.mktemp("sx") / "student.onnx", seed=0)


def _shingles(text: str) -> set[str]:
    key = f" {dedupe_key(text)} "
    return {key[i : i + 5] for i in range(max(1, len(key) - 4))}


def test_labelled_data_loads_both_sets(items: list[LabelledText]) -> None:
    assert sum(it.dataset == "semeval" for it in items) == 1142
    assert sum(it.dataset == "fiqa" for it in items) == 675
    assert all(-10.0 <= it.label <= 10.0 for it in items)


@pytest.mark.parametrize("seed", [0, 1])
def test_split_has_no_near_duplicate_across_train_and_test(
    items: list[LabelledText], seed: int
) -> None:
    split = grouped_split(items, seed=seed)
    assert not set(split.train) & set(split.test)
    assert len(split.train) + len(split.test) == len(items)
    train_keys = {dedupe_key(items[i].text) for i in split.train}
    assert not train_keys & {dedupe_key(items[i].text) for i in split.test}
    train_sh = [_shingles(items[i].text) for i in split.train]
    for i in split.test:  # independent check of the overlap rule, pair by pair
        a = _shingles(items[i].text)
        assert all(len(a & b) / len(a | b) < OVERLAP for b in train_sh)
    for d in DATASETS:  # about 20% of each dataset is held out
        n = sum(it.dataset == d for it in items)
        held = sum(items[i].dataset == d for i in split.test)
        assert 0.17 * n <= held <= 0.2 * n


def test_split_depends_on_seed_only(items: list[LabelledText]) -> None:
    assert grouped_split(items, seed=3) == grouped_split(items, seed=3)
    assert grouped_split(items, seed=3).test != grouped_split(items, seed=4).test


def test_shipped_record_matches_this_data_and_split(
    items: list[LabelledText], shipped: SentimentX
) -> None:
    record = shipped.record
    assert record["data_sha256"] == data_fingerprint()
    split = grouped_split(items, test_fraction=record["test_fraction"], seed=record["seed"])
    for d in DATASETS:
        expected = [items[i].row for i in split.test if items[i].dataset == d]
        assert record["heldout_rows"][d] == expected


def test_shipped_model_reproduces_its_training_figures(
    items: list[LabelledText], shipped: SentimentX
) -> None:
    record = shipped.record
    split = grouped_split(items, test_fraction=record["test_fraction"], seed=record["seed"])
    assert heldout_figures(shipped, items, split.test) == record["figures"]


def test_training_is_reproducible(
    retrained: TrainReport, shipped: SentimentX, items: list[LabelledText]
) -> None:
    """Same seed, same data -> the same model as the shipped one (same predictions)."""
    again = SentimentX(retrained.path)
    assert again.record["heldout_rows"] == shipped.record["heldout_rows"]
    texts = [it.text for it in items[::7]]
    np.testing.assert_allclose(again.predict_raw(texts), shipped.predict_raw(texts), atol=1e-4)
    assert retrained.figures == shipped.record["figures"]
    assert retrained.size_bytes < 5 * 1024 * 1024


def test_student_beats_lexicon_on_fiqa(retrained: TrainReport) -> None:
    """Measured targets (see the report); a floor that fails if the student regresses."""
    for d in DATASETS:
        f = retrained.figures[d]
        assert f["student_all"]["pearson"] > f["lexicon_all_uncovered_as_0"]["pearson"]
        assert f["student_all"]["directional_accuracy"] > 0.7
    fiqa = retrained.figures["fiqa"]
    assert fiqa["student_all"]["pearson"] >= fiqa["lexicon_all_uncovered_as_0"]["pearson"] + 0.05


def test_teacher_never_sees_held_out_text(tmp_path: Path, items: list[LabelledText]) -> None:
    seen: list[str] = []

    def spy(text: str) -> float | None:
        seen.append(text)
        return lexicon_teacher(text)

    report = train_sentimentx(
        tmp_path / "t.onnx", seed=0, teacher=spy, unlabelled=["Shares soar on takeover bid"]
    )
    split = grouped_split(items, seed=0)
    held = {items[i].text for i in split.test}
    assert seen and not held & set(seen)
    assert "Shares soar on takeover bid" in seen
    assert report.teacher == "spy"
    assert SentimentX(report.path).record["n_unlabelled"] == 1


def test_missing_data_dir_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="data_dir"):
        load_labelled(tmp_path)


def test_evaluate_scores_counts_no_signal_as_wrong() -> None:
    labels = np.array([1.0, -2.0, 3.0, 0.0])
    scores = np.array([2.0, -1.0, 5.0, 1.0])
    full = evaluate_scores(scores, labels)
    assert full["directional_accuracy"] == 1.0 and full["n"] == 4
    part = evaluate_scores(scores, labels, np.array([True, True, False, True]))
    assert part["directional_accuracy"] == pytest.approx(2 / 3, abs=1e-4)
