"""SentimentX text handling: cleaning, n-grams, the lexicon features and the TF-IDF featurizer.

Training (``learning.train_sentimentx``) and inference (:class:`planets.SentimentX`) share this
one code path, so the shipped model sees exactly the features it was trained on. Input is
untrusted (headlines, posts): control and format characters and lone surrogates are dropped,
text beyond ``MAX_CHARS`` is cut, and everything is NFKC-normalized before tokenizing.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from planets.sentiment._lexicon import (
    _STRIP_RE,
    _TOKEN_RE,
    DEFAULT_LEXICON_PATH,
    _load,
    _score_tokens,
)

__all__ = [
    "CHAR_NGRAMS",
    "MAX_CHARS",
    "Featurizer",
    "dedupe_key",
    "extract_grams",
    "lexicon_features",
    "normalize_text",
]

MAX_CHARS = 2000
CHAR_NGRAMS = (5,)

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
_DIGITS_RE = re.compile(r"\d+(?:[.,]\d+)*")
_WORD_RE = re.compile(r"\w+(?:'\w+)*")


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
