"""SentimentX student: a small distilled n-gram model scoring text on -10..+10 with a confidence.

The student is a linear model over TF-IDF word (1-2) and in-word character 5-grams plus
two lexicon features (the lexicon's tanh score and whether any lexicon term fired). It is
trained by ``learning.train_sentimentx`` and shipped as one ONNX file
(``planets/models/sentimentx.onnx``): the graph holds the weights, the metadata holds the
vocabulary, idf, confidence base and the training record (split, figures).

Featurization runs here in plain Python so that training and inference share one code path;
onnxruntime evaluates the linear head. Without onnxruntime or a loadable model file the scorer
falls back to the lexicon and says so (``SentimentXScore.model == "lexicon"``).

Input handling (why: headlines are untrusted data): control characters are removed, text beyond
``MAX_CHARS`` is cut off and lowers the confidence, unknown words lower the confidence, and a
text with nothing the model or the lexicon knows is "no data" (``has_signal=False``), not neutral.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from planets._lexicon import _STRIP_RE, _TOKEN_RE, DEFAULT_LEXICON_PATH, _load, _score_tokens

__all__ = [
    "DEFAULT_MODEL_PATH",
    "LEXICON_CONFIDENCE",
    "MAX_CHARS",
    "MODEL_FORMAT",
    "Featurizer",
    "SentimentX",
    "SentimentXScore",
    "dedupe_key",
    "default_scorer",
    "extract_grams",
    "lexicon_features",
    "normalize_text",
]

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "models" / "sentimentx.onnx"
MODEL_FORMAT = "heliarch-sentimentx/1"
MAX_CHARS = 2000
CHAR_NGRAMS = (5,)
# Confidence of a lexicon-only score with a signal (fallback path). Deliberately modest (about
# half the lexicon's held-out Pearson, benchmarks/sentiment.py): a fallback is less informed.
LEXICON_CONFIDENCE = 0.35

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
_DIGITS_RE = re.compile(r"\d+(?:[.,]\d+)*")
_WORD_RE = re.compile(r"\w+(?:'\w+)*")
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


def _clean(text: str) -> str:
    """Cut to MAX_CHARS, drop control/format characters and lone surrogates, NFKC."""
    text = text[:MAX_CHARS]
    if text.isascii() and text.isprintable():  # nothing to drop, NFKC is the identity
        return text
    text = _SURROGATE_RE.sub(" ", _CONTROL_RE.sub(" ", text))
    return unicodedata.normalize("NFKC", text)


def normalize_text(text: str) -> str:
    """Lower-cased text without URLs, cashtags, mentions; digit runs become "0"."""
    return _normalize_clean(_clean(text))


def _lowered(cleaned: str) -> str:
    """What the lexicon tokenizes: URLs, cashtags, mentions removed, lower case (shared)."""
    return _STRIP_RE.sub(" ", cleaned).replace("\u2019", "'").lower()


def _normalize_clean(cleaned: str) -> str:
    return _DIGITS_RE.sub("0", _lowered(cleaned))


def dedupe_key(text: str) -> str:
    """Key under which near-identical texts collide: normalized words, punctuation dropped."""
    return " ".join(_WORD_RE.findall(normalize_text(text)))


def _grams(cleaned: str) -> tuple[list[str], list[str], list[str]]:
    """(words, word bigrams, in-word char n-grams) of already ``_clean``-ed text."""
    words = _WORD_RE.findall(_normalize_clean(cleaned))
    bigrams = [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    chars = [g for w in words for g in _word_chars(w)]
    return words, bigrams, chars


def _word_chars(word: str) -> list[str]:
    """Char n-grams of one word padded with spaces (the word's contribution to ``chars``)."""
    p = f" {word} "
    return [p[i : i + n] for n in CHAR_NGRAMS for i in range(len(p) - n + 1)]


def extract_grams(text: str) -> tuple[list[str], list[str]]:
    """Word uni/bigrams and in-word char 5-grams of the normalized text (duplicates kept)."""
    words, bigrams, chars = _grams(_clean(text))
    return words + bigrams, chars


def lexicon_features(text: str) -> np.ndarray:
    """The lexicon's tanh score and has-signal flag, as the student's two dense features."""
    return np.array(_lexicon_clean(_clean(text)), dtype=np.float32)


def _lexicon_clean(cleaned: str) -> tuple[float, float]:
    return _lexicon_lowered(_lowered(cleaned))


def _lexicon_lowered(lowered: str) -> tuple[float, float]:
    """``score_text`` of the text whose ``_lowered`` form is given (tokenized once)."""
    lex = _score_tokens(_TOKEN_RE.findall(lowered), *_load(str(DEFAULT_LEXICON_PATH)))
    return lex.raw, 1.0 if lex.has_signal else 0.0


@dataclass(frozen=True)
class Featurizer:
    """Maps text to sparse TF-IDF (sublinear tf, L2-normalized) indices and values.

    Word grams take indices 0..len(words)-1, char grams follow. ``idf`` is stored rounded
    so that training and the shipped file compute exactly the same features.
    """

    words: dict[str, int]
    chars: dict[str, int]
    idf: np.ndarray
    idf_list: list[float] = field(init=False, repr=False, compare=False)

    _table: dict[str, tuple[int, tuple[int, ...]]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "idf_list", [float(x) for x in self.idf])
        # Why: most words of a headline are in the vocabulary; their word id and known char
        # n-gram ids are looked up once here instead of sliced and hashed on every call.
        table = {w: (i, self._char_ids(w)) for w, i in self.words.items() if " " not in w}
        object.__setattr__(self, "_table", table)

    def _char_ids(self, word: str) -> tuple[int, ...]:
        cget = self.chars.get
        return tuple(i for i in map(cget, _word_chars(word)) if i is not None)

    @property
    def size(self) -> int:
        """Number of sparse features."""
        return len(self.words) + len(self.chars)

    def transform(self, text: str) -> tuple[np.ndarray, np.ndarray, float]:
        """(indices int64, values float32, share of words known to the vocabulary)."""
        ids, vals, coverage = self._sparse(_lowered(_clean(text)))
        return np.array(ids, dtype=np.int64), np.array(vals, dtype=np.float32), coverage

    def _sparse(self, lowered: str) -> tuple[list[int], list[float], float]:
        """Plain-Python TF-IDF of ``_lowered`` text: for the ~50 grams of a headline it beats
        numpy's overhead."""
        words = _WORD_RE.findall(_DIGITS_RE.sub("0", lowered))
        known: list[int] = []
        n_known_words = 0
        table, wget = self._table, self.words.get
        prev: str | None = None  # previous word, if in the vocabulary
        for w in words:
            entry = table.get(w)
            if entry is None:
                known.extend(self._char_ids(w))
                prev = None
                continue
            n_known_words += 1
            known.append(entry[0])
            known.extend(entry[1])
            # A bigram is in the vocabulary only if both its words are (their document
            # frequency is at least the bigram's), so only those pairs are looked up.
            if prev is not None and (b := wget(f"{prev} {w}")) is not None:
                known.append(b)
            prev = w
        coverage = n_known_words / len(words) if words else 0.0
        if not known:
            return [], [], coverage
        idf = self.idf_list
        if len(set(known)) == len(known):  # the usual headline: every gram once, same order
            ids, vals = known, [idf[i] for i in known]
        else:
            counts = Counter(known)
            ids = list(counts)
            vals = [(1.0 + math.log(c)) * idf[i] if c > 1 else idf[i] for i, c in counts.items()]
        norm = math.sqrt(sum([v * v for v in vals]))
        return ids, [v / norm for v in vals], coverage

    def to_json(self) -> dict[str, Any]:
        """Vocabulary (in index order) and idf for the model metadata."""
        return {
            "words": sorted(self.words, key=self.words.__getitem__),
            "chars": sorted(self.chars, key=self.chars.__getitem__),
            "idf": [float(x) for x in self.idf],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Featurizer:
        """Inverse of :meth:`to_json`."""
        words = {g: i for i, g in enumerate(data["words"])}
        chars = {g: i + len(words) for i, g in enumerate(data["chars"])}
        return cls(words=words, chars=chars, idf=np.asarray(data["idf"], dtype=np.float64))


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
