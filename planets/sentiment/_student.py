"""SentimentX student: a small distilled n-gram model scoring text on -10..+10 with a confidence.

The student is a linear model over TF-IDF word (1-2) and in-word character 5-grams plus
two lexicon features (the lexicon's tanh score and whether any lexicon term fired). It is
trained by ``learning.train_sentimentx`` and shipped as one ONNX file
(``planets/models/sentimentx.onnx``): the graph holds the weights, the metadata holds the
vocabulary, idf, confidence base and the training record (split, figures).

Featurization (:mod:`planets.sentiment._text`) runs in plain Python so that training and
inference share one code path; onnxruntime evaluates the linear head. Without onnxruntime or a loadable model file the scorer
falls back to the lexicon and says so (``SentimentXScore.model == "lexicon"``).

Input handling (why: headlines are untrusted data): control characters are removed, text beyond
``MAX_CHARS`` is cut off and lowers the confidence, unknown words lower the confidence, and a
text with nothing the model or the lexicon knows is "no data" (``has_signal=False``), not neutral.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from planets.sentiment._text import MAX_CHARS, Featurizer, _clean, _lexicon_lowered, _lowered

__all__ = [
    "DEFAULT_MODEL_PATH",
    "LEXICON_CONFIDENCE",
    "MODEL_FORMAT",
    "SentimentX",
    "SentimentXScore",
    "default_scorer",
]

DEFAULT_MODEL_PATH = Path(__file__).resolve().parents[1] / "models" / "sentimentx.onnx"
MODEL_FORMAT = "heliarch-sentimentx/1"
# Confidence of a lexicon-only score with a signal (fallback path). Deliberately modest (about
# half the lexicon's held-out Pearson, benchmarks/sentiment.py): a fallback is less informed.
LEXICON_CONFIDENCE = 0.35

_OUTPUTS = ["score"]


@dataclass(frozen=True, slots=True)
class SentimentXScore:
    """Sentiment of one text.

    score: -10 (very negative) .. +10 (very positive); 0.0 when ``has_signal`` is False.
    confidence: 0..1; 0.0 when ``has_signal`` is False.
    has_signal: False when neither the model nor the lexicon knows anything in the text
        ("no data", not "neutral").
    model: "student:<version>" or "lexicon" (the fallback) -- what produced the score.
    """

    score: float
    confidence: float
    has_signal: bool
    model: str


class _Student:
    """The ONNX linear head plus its featurizer and metadata."""

    def __init__(self, path: Path) -> None:
        import onnxruntime as ort  # optional at runtime: absence means lexicon fallback

        # One small graph per call: one thread, sequential, no arena or memory-pattern
        # planning (measured: -15% of the run call's wall time interleaved with featurizing).
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.enable_cpu_mem_arena = False
        options.enable_mem_pattern = False
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self.session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        meta = self.session.get_modelmeta().custom_metadata_map
        if meta.get("format") != MODEL_FORMAT:
            raise ValueError(f"{path}: not a {MODEL_FORMAT} model (format={meta.get('format')!r})")
        self.featurizer = Featurizer.from_json(json.loads(meta["featurizer"]))
        self.base_confidence = float(meta["base_confidence"])
        self.version = meta.get("version", "unknown")
        self.record: dict[str, Any] = json.loads(meta.get("record", "{}"))
        size = self.featurizer.size
        self._tail = [size, size + 1, size + 2]
        # Why: onnxruntime's C++ session skips the Python wrapper's per-call input checks
        # (~7 of ~100 us a headline); the public ``run`` when that attribute is absent.
        inner = getattr(self.session, "_sess", None)
        self._run: Any = (
            (lambda feeds: inner.run(_OUTPUTS, feeds, None))
            if inner is not None
            else (lambda feeds: self.session.run(_OUTPUTS, feeds))
        )

    def predict(
        self, ids: list[int], vals: list[float], lex_raw: float, lex_signal: float
    ) -> float:
        """Student score on -10..+10: w[ids].vals + w_lex.(raw, signal) + bias, in one graph.

        The lexicon features and the bias are the last three weights (indices size..size+2).
        """
        idx = np.array(ids + self._tail, dtype=np.int64)
        val = np.array([*vals, lex_raw, lex_signal, 1.0], dtype=np.float32)
        return float(self._run({"idx": idx, "val": val})[0])


class SentimentX:
    """Scores text on the SentimentX scale with the student model, or the lexicon as fallback.

    Args:
        path: model file; defaults to the shipped ``planets/models/sentimentx.onnx``.

    ``model`` names what scores ("student:<version>" or "lexicon"); ``fallback_reason`` says
    why the student is not used (None when it is).
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else DEFAULT_MODEL_PATH
        self._student: _Student | None = None
        self.fallback_reason: str | None = None
        try:
            self._student = _Student(self.path)
        except ImportError as exc:
            self.fallback_reason = f"onnxruntime unavailable ({exc})"
        except Exception as exc:  # any unreadable/invalid model file means: use the lexicon
            self.fallback_reason = f"model {self.path.name} unusable ({type(exc).__name__}: {exc})"
        self._model = "lexicon" if self._student is None else f"student:{self._student.version}"

    @property
    def model(self) -> str:
        """What produces the scores: "student:<version>" or "lexicon"."""
        return self._model

    @property
    def record(self) -> dict[str, Any]:
        """The training record stored in the model file (empty for the lexicon)."""
        return {} if self._student is None else dict(self._student.record)

    def score(self, text: str) -> SentimentXScore:
        """Score one text; never raises on content (empty, huge, foreign, control chars)."""
        length_factor = min(1.0, MAX_CHARS / len(text)) if text else 1.0
        lowered = _lowered(_clean(text))
        lex_raw, lex_flag = _lexicon_lowered(lowered)
        lex_signal = lex_flag > 0.0
        if self._student is None:
            if not lex_signal:
                return SentimentXScore(0.0, 0.0, False, "lexicon")
            score = _clip10(10.0 * lex_raw)
            return SentimentXScore(score, LEXICON_CONFIDENCE * length_factor, True, "lexicon")
        ids, vals, coverage = self._student.featurizer._sparse(lowered)
        confidence = self._student.base_confidence * coverage * length_factor
        if lex_signal:  # the lexicon knew a term even if the words are new to the student
            confidence = max(confidence, LEXICON_CONFIDENCE * length_factor * 0.5)
        confidence = _clip01(confidence)
        if confidence == 0.0:  # no known word, no lexicon term: "no data", not neutral
            return SentimentXScore(0.0, 0.0, False, self._model)
        score = _clip10(self._student.predict(ids, vals, lex_raw, lex_flag))
        return SentimentXScore(score, confidence, True, self._model)

    def score_many(self, texts: Iterable[str]) -> list[SentimentXScore]:
        """``[self.score(t) for t in texts]``."""
        return [self.score(t) for t in texts]

    def predict_raw(self, texts: Sequence[str]) -> np.ndarray:
        """Scores only (0.0 for "no data"), for evaluation."""
        return np.array([s.score for s in self.score_many(texts)], dtype=np.float64)


def _clip10(x: float) -> float:
    return 0.0 if not math.isfinite(x) else max(-10.0, min(10.0, x))


def _clip01(x: float) -> float:
    return 0.0 if not math.isfinite(x) else max(0.0, min(1.0, x))


@lru_cache(maxsize=1)
def default_scorer() -> SentimentX:
    """The shared scorer for the shipped model (loaded once per process)."""
    return SentimentX()
