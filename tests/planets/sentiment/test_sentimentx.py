"""SentimentX student scorer: bounds, hostile input, "no data", fallback to the lexicon."""

from __future__ import annotations

import math
import string
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planets import (
    DEFAULT_SENTIMENTX_PATH,
    SentimentX,
    SentimentXScore,
    dedupe_key,
    default_scorer,
    extract_grams,
)
from planets.sentiment._text import MAX_CHARS, normalize_text


def _broken(s: SentimentXScore) -> list[str]:
    """The score's invariants it breaks (none for a valid score)."""
    checks = {
        "finite float score": isinstance(s.score, float) and math.isfinite(s.score),
        "score in [-10, 10]": -10.0 <= s.score <= 10.0,
        "confidence in [0, 1]": 0.0 <= s.confidence <= 1.0,
        # "no data" is not neutral: it says so, and carries no weight
        "signal has weight, no data has none": (
            s.confidence > 0.0 if s.has_signal else s.score == 0.0 and s.confidence == 0.0
        ),
    }
    return [name for name, held in checks.items() if not held]


@pytest.fixture(scope="module")
def sx() -> SentimentX:
    scorer = default_scorer()
    assert scorer.fallback_reason is None, scorer.fallback_reason
    return scorer


def test_shipped_model_is_small_and_used(sx: SentimentX) -> None:
    assert DEFAULT_SENTIMENTX_PATH.is_file()
    assert DEFAULT_SENTIMENTX_PATH.stat().st_size < 5 * 1024 * 1024
    assert sx.model.startswith("student:")
    assert sx.record["seed"] == 0 and sx.record["figures"]


def test_direction_on_plain_headlines(sx: SentimentX) -> None:
    good = sx.score("Google profit beats expectations, shares rise")
    bad = sx.score("Barclays shares plunge after profit warning and fraud probe")
    assert good.has_signal and bad.has_signal
    assert good.score > 1.0 and bad.score < -1.0


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "qwzx blorf vrrk",
        "股票大涨",
        "\x00\x01\x1b[31m\x7f\u202e\ufeff",
        "\ud800 lone surrogate",
        "!!!???...",
    ],
)
def test_nothing_known_is_no_data(sx: SentimentX, text: str) -> None:
    s = sx.score(text)
    assert _broken(s) == []
    if text in ("", "   \n\t ", "qwzx blorf vrrk", "股票大涨", "!!!???..."):
        assert not s.has_signal


def test_one_megabyte_is_scored_with_low_confidence(sx: SentimentX) -> None:
    headline = "Glencore shares rise after profit beats expectations. "
    short = sx.score(headline)
    huge_text = headline * (1_000_000 // len(headline) + 1)
    huge = sx.score(huge_text)
    assert _broken(huge) == []
    assert huge.has_signal and huge.confidence < 0.01 < short.confidence
    assert huge.score > 0


def test_unknown_words_lower_confidence(sx: SentimentX) -> None:
    plain = sx.score("Profit beats expectations")
    diluted = sx.score("Profit beats expectations zorblat quixxle frobnar vexlit")
    assert 0.0 < diluted.confidence < plain.confidence


def test_control_characters_do_not_change_the_score(sx: SentimentX) -> None:
    clean = sx.score("Shares rise after results")
    dirty = sx.score("Shares\x00 rise\u200b after\x1b results\x7f")
    assert dirty == clean


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec=None), max_size=300))
def test_any_text_gives_a_bounded_score(text: str) -> None:
    assert _broken(default_scorer().score(text)) == []


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=string.printable, max_size=80), st.integers(min_value=0, max_value=5))
def test_case_punctuation_and_numbers_share_a_dedupe_key(text: str, n: int) -> None:
    """ASCII case only: Unicode upper/lower are not inverses ("ß".upper() == "SS")."""
    variant = text.upper() + "!" * n + f" {n}"
    assert dedupe_key(variant) == dedupe_key(text.lower() + f" {n + 7}")


def test_normalization_and_grams() -> None:
    assert normalize_text("$AAPL up 12.5% http://x.co/a @bob").split() == ["up", "0%"]
    words_and_bigrams, chars = extract_grams("Profits up")
    assert words_and_bigrams == ["profits", "up", "profits up"]
    assert " prof" in chars and len(normalize_text("x" * (3 * MAX_CHARS))) == MAX_CHARS


def test_fast_features_equal_the_reference_tf_idf(sx: SentimentX) -> None:
    """The cached per-word path gives exactly the TF-IDF of ``extract_grams`` (training's view)."""
    student = sx._student
    assert student is not None
    f = student.featurizer
    for text in ["Shares in Glencore rise 5% after zorblat profits beat", "", "up up up up"]:
        word_grams, char_grams = extract_grams(text)
        ids = [f.words[g] for g in word_grams if g in f.words]
        ids += [f.chars[g] for g in char_grams if g in f.chars]
        counts = {i: ids.count(i) for i in set(ids)}
        raw = {i: (1 + math.log(c)) * f.idf[i] for i, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in raw.values()))
        idx, val, _ = f.transform(text)
        got = dict(zip(idx.tolist(), val.tolist(), strict=True))
        assert got.keys() == raw.keys()
        for i, v in raw.items():
            assert got[i] == pytest.approx(v / norm, rel=1e-6)


def test_missing_model_file_falls_back_to_lexicon(tmp_path: Path) -> None:
    scorer = SentimentX(tmp_path / "absent.onnx")
    assert scorer.model == "lexicon" and scorer.fallback_reason
    s = scorer.score("Google profit beats expectations")
    assert _broken(s) == []
    assert s.model == "lexicon" and s.has_signal and s.score > 0
    assert not scorer.score("qwzx blorf").has_signal


def test_corrupt_model_file_falls_back_to_lexicon(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not an onnx model")
    scorer = SentimentX(bad)
    assert scorer.model == "lexicon" and "unusable" in (scorer.fallback_reason or "")


def test_without_onnxruntime_falls_back_to_lexicon(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import now raises ImportError
    scorer = SentimentX()
    assert scorer.model == "lexicon"
    assert "onnxruntime unavailable" in (scorer.fallback_reason or "")
    assert _broken(scorer.score("Shares plunge on fraud probe")) == []


def test_onnx_head_equals_the_linear_formula(sx: SentimentX) -> None:
    """The graph computes w[idx].val + w_lex.(raw, signal) + bias (checked on the raw weights)."""
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    from planets import lexicon_features

    model = onnx.load(str(DEFAULT_SENTIMENTX_PATH))
    w = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}["w"]
    text = "Tesco profit falls as price war bites"
    student = sx._student
    assert student is not None
    idx, val, _ = student.featurizer.transform(text)
    size = student.featurizer.size
    assert w.shape == (size + 3,)
    expected = float(w[idx] @ val + w[size : size + 2] @ lexicon_features(text) + w[size + 2])
    assert sx.score(text).score == pytest.approx(np.clip(expected, -10, 10), abs=1e-4)
