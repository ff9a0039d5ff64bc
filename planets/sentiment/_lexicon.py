"""Transparent lexicon baseline for financial sentiment on the SentimentX scale (-10..+10).

Every score can be traced back to the lexicon terms that fired (``SentimentScore.matched``).
The lexicon (``planets/lexicon/finance_lexicon.tsv``) is hand-written from domain knowledge;
it is not fitted on any evaluation data.

Pipeline for one text::

    strip URLs, $cashtags, @mentions -> lower-case -> tokenize (words, hyphenated words,
    contractions, numbers; clause punctuation kept as boundary tokens)
    -> greedy longest-match of lexicon phrases (up to the longest phrase in the lexicon)
    -> negation: a negator ("not", "no", "never", "without", "...n't", "fails to", ...) flips and
       dampens (x NEGATION_FACTOR) every term starting within NEGATION_WINDOW tokens after it,
       up to a clause boundary ("," "." ";" ":" "!" "?" "but")
    -> intensifiers ("sharply", ...) / downtoners ("slightly", ...) within INTENSIFIER_WINDOW
       tokens of a term scale its weight
    -> raw = tanh(sum of weights) in [-1, 1]; score = round(raw * 10) (half away from zero).

No term matched means ``has_signal=False`` ("no data", not neutral; score 0, raw 0.0).
Text is only ever matched against the lexicon: instructions inside a headline have no effect
beyond the lexicon words they contain.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = [
    "DEFAULT_LEXICON_PATH",
    "SentimentScore",
    "load_lexicon",
    "score_text",
    "score_texts",
]

DEFAULT_LEXICON_PATH = Path(__file__).resolve().parents[1] / "lexicon" / "finance_lexicon.tsv"

NEGATION_WINDOW = 3
NEGATION_FACTOR = -0.6
INTENSIFIER_WINDOW = 2

NEGATORS: frozenset[str] = frozenset(
    {"not", "no", "never", "without", "nor", "neither", "cannot", "hardly", "barely"}
)
# Multi-word negators. If the same phrase is also a lexicon term (e.g. "fails to"), its own
# weight is used only when it negated nothing.
NEGATOR_PHRASES: frozenset[tuple[str, ...]] = frozenset(
    {
        ("fails", "to"),
        ("fail", "to"),
        ("failed", "to"),
        ("failing", "to"),
        ("unable", "to"),
        ("no", "longer"),
    }
)
INTENSIFIERS: dict[str, float] = {
    "sharply": 1.5,
    "steeply": 1.5,
    "dramatically": 1.5,
    "significantly": 1.4,
    "substantially": 1.4,
    "strongly": 1.4,
    "heavily": 1.4,
    "massive": 1.4,
    "huge": 1.4,
    "very": 1.3,
    "extremely": 1.5,
    "highly": 1.3,
    "deeply": 1.3,
    "much": 1.2,
    "slightly": 0.5,
    "marginally": 0.5,
    "slight": 0.6,
    "modestly": 0.6,
    "modest": 0.7,
    "mildly": 0.6,
    "somewhat": 0.7,
}
BOUNDARIES: frozenset[str] = frozenset({",", ".", ";", ":", "!", "?", "but", "however"})

_STRIP_RE = re.compile(
    r"(?:https?://|www\.)\S+"  # URLs
    r"|\$[A-Za-z][A-Za-z0-9._-]*"  # cashtags
    r"|@\w+",  # mentions
)
_TOKEN_RE = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*|[.,;:!?]")


@dataclass(frozen=True, slots=True)
class SentimentScore:
    """Lexicon sentiment of one text.

    score: integer on the SentimentX scale, -10 (very negative) .. +10 (very positive).
    raw: tanh-squashed sum of term weights, in [-1, 1].
    matched: lexicon terms that fired, in text order (negated terms are listed too).
    has_signal: False when no lexicon term matched -> "no data", not "neutral".
    """

    score: int
    raw: float
    matched: tuple[str, ...]
    has_signal: bool


NO_SIGNAL = SentimentScore(score=0, raw=0.0, matched=(), has_signal=False)


@lru_cache(maxsize=8)
def _load(path: str) -> tuple[dict[str, float], int, frozenset[str]]:
    """(lexicon, longest phrase in tokens, first tokens of multi-word phrases)."""
    lexicon: dict[str, float] = {}
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            term, weight_text = line.split("\t")
            weight = float(weight_text)
        except ValueError as exc:
            raise ValueError(f"{path}:{lineno}: expected 'term<TAB>weight', got {line!r}") from exc
        if not -1.0 <= weight <= 1.0:
            raise ValueError(f"{path}:{lineno}: weight {weight} outside [-1, 1]")
        key = " ".join(term.lower().split())
        if key in lexicon:
            raise ValueError(f"{path}:{lineno}: duplicate term {key!r}")
        lexicon[key] = weight
    max_len = max((k.count(" ") + 1 for k in lexicon), default=1)
    starts = frozenset(k.split(" ")[0] for k in lexicon if " " in k)
    return lexicon, max_len, starts


def load_lexicon(path: str | Path | None = None) -> dict[str, float]:
    """The lexicon as ``{term: weight}`` (a copy; the parsed file is cached per path)."""
    return dict(_load(str(path or DEFAULT_LEXICON_PATH))[0])


def tokenize(text: str) -> list[str]:
    """Lower-cased tokens with URLs, cashtags and @mentions removed."""
    cleaned = _STRIP_RE.sub(" ", text).replace("\u2019", "'").lower()
    return _TOKEN_RE.findall(cleaned)


# First tokens of every negator (single or phrase); others cannot start a negation.
_NEGATOR_STARTS: frozenset[str] = NEGATORS | frozenset(p[0] for p in NEGATOR_PHRASES)


def _negator_len(tokens: list[str], i: int) -> int:
    if tuple(tokens[i : i + 2]) in NEGATOR_PHRASES:
        return 2
    tok = tokens[i]
    if tok in NEGATORS or tok.endswith("n't"):
        return 1
    return 0


def _round_half_away(x: float) -> int:
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def _score_tokens(
    tokens: list[str], lexicon: dict[str, float], max_len: int, starts: frozenset[str]
) -> SentimentScore:
    n = len(tokens)
    # (start index, length, term, weight, negated)
    hits: list[tuple[int, int, str, float, bool]] = []
    neg_until = -1  # terms starting before this index are negated
    pending: tuple[int, int, str, float] | None = None  # negator phrase with its own weight
    pending_used = False
    i = 0
    while i < n:
        tok = tokens[i]
        if tok in BOUNDARIES:
            neg_until = -1
            i += 1
            continue
        term_len = 0
        term = ""
        # Only a phrase's first token can begin a multi-word match (why: speed, same result).
        if tok in starts:
            for length in range(min(max_len, n - i), 0, -1):
                candidate = " ".join(tokens[i : i + length])
                if candidate in lexicon:
                    term_len, term = length, candidate
                    break
        elif tok in lexicon:
            term_len, term = 1, tok
        neg_len = _negator_len(tokens, i) if tok in _NEGATOR_STARTS or tok.endswith("n't") else 0
        if neg_len and neg_len >= term_len:
            if pending is not None and not pending_used:
                hits.append((*pending, False))
            pending, pending_used = None, False
            if term_len:  # e.g. "fails to": negator first, own weight as a fallback
                pending = (i, term_len, term, lexicon[term])
            neg_until = i + neg_len + NEGATION_WINDOW
            i += neg_len
            continue
        if term_len:
            negated = i < neg_until
            if negated and pending is not None:
                pending_used = True
            hits.append((i, term_len, term, lexicon[term], negated))
            i += term_len
            continue
        i += 1
    if pending is not None and not pending_used:
        hits.append((*pending, False))
    if not hits:
        return NO_SIGNAL
    hits.sort(key=lambda h: h[0])

    total = 0.0
    for start, length, _term, weight, negated in hits:
        mult = 1.0
        lo = start - INTENSIFIER_WINDOW
        hi = start + length + INTENSIFIER_WINDOW
        for j in range(max(0, lo), min(n, hi)):
            factor = INTENSIFIERS.get(tokens[j])
            if factor is not None and abs(factor - 1.0) > abs(mult - 1.0):
                mult = factor
        w = weight * mult
        if negated:
            w *= NEGATION_FACTOR
        total += w
    raw = math.tanh(total)
    score = max(-10, min(10, _round_half_away(raw * 10.0)))
    return SentimentScore(score=score, raw=raw, matched=tuple(h[2] for h in hits), has_signal=True)


def score_text(text: str, *, lexicon_path: str | Path | None = None) -> SentimentScore:
    """Score one text on the SentimentX scale (integer -10..+10); see the module docstring."""
    lexicon, max_len, starts = _load(str(lexicon_path or DEFAULT_LEXICON_PATH))
    return _score_tokens(tokenize(text), lexicon, max_len, starts)


def score_texts(
    texts: Iterable[str], *, lexicon_path: str | Path | None = None
) -> list[SentimentScore]:
    """Score many texts (same result as ``[score_text(t) for t in texts]``)."""
    lexicon, max_len, starts = _load(str(lexicon_path or DEFAULT_LEXICON_PATH))
    return [_score_tokens(tokenize(t), lexicon, max_len, starts) for t in texts]
