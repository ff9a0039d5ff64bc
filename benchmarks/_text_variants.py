"""Text variants for ``benchmarks/sentiment_cv.py``: a target token in place of the company,
negation marking, and word-valence sums from optional third-party lexicons (VADER, pattern).

``rows`` is ``sentiment_cv.Rows`` (its ``items`` and ``texts``). Not a benchmark of its own.
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "examples" / "data"
_TOKEN_RE = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*")
_NEGATORS = frozenset(
    {"not", "no", "never", "without", "nor", "cannot", "fails", "failed", "fail", "unable"}
    | {"hardly", "barely"}
)


def target_marked(rows: Any) -> list[str]:
    """Texts with their labelled company (SemEval) / first target (FiQA) replaced by a token."""
    semeval = json.loads((DATA / "semeval2017_task5_headlines.json").read_text(encoding="utf-8"))
    posts = json.loads((DATA / "fiqa_posts.json").read_text(encoding="utf-8"))
    keys = sorted(posts, key=lambda k: int(k) if k.isdigit() else k)
    out = []
    for it in rows.items:
        if it.dataset == "semeval":
            target = semeval[it.row]["company"]
        else:
            target = posts[keys[it.row]]["info"][0]["target"]
        text = it.text + " tgtnone"
        for cand in (target, target.split()[0]):
            if len(cand) >= 2 and re.search(re.escape(cand), it.text, re.I):
                text = re.sub(re.escape(cand), " tgtx ", it.text, count=1, flags=re.I)
                break
        out.append(text)
    return out


def negation_marked(text: str) -> str:
    """Words within 3 tokens after a negator get a ``negx`` prefix (up to clause punctuation)."""
    out, left = [], 0
    for tok in re.findall(r"\w+(?:'\w+)*|[.,;:!?]", text.lower()):
        if tok in ".,;:!?" or tok == "but":
            out.append(tok)
            left = 0
            continue
        out.append("negx" + tok if left > 0 else tok)
        left -= 1
        if tok in _NEGATORS or tok.endswith("n't"):
            left = 3
    return " ".join(out)


def word_valence(valence: dict[str, float], text: str) -> list[float]:
    """tanh(sum of word valences / 4), negated (x -0.6) after a negator; and a has-term flag."""
    tokens = _TOKEN_RE.findall(text.lower())
    total, hits = 0.0, 0
    for i, tok in enumerate(tokens):
        v = valence.get(tok)
        if v is None:
            continue
        before = tokens[max(0, i - 3) : i]
        if any(
            b in {"not", "no", "never", "without", "nor", "cannot"} or b.endswith("n't")
            for b in before
        ):
            v = -0.6 * v
        total, hits = total + v, hits + 1
    return [math.tanh(total / 4.0), 1.0 if hits else 0.0]


def optional_extras(rows: Any) -> dict[str, np.ndarray | str]:
    """Extra dense columns from VADER / pattern lexicons, or why they are skipped."""
    out: dict[str, np.ndarray | str] = {}
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        out["vader_compound"] = out["vader_word_sum"] = "skipped: vaderSentiment not installed"
    else:
        sia = SentimentIntensityAnalyzer()
        compound = [[sia.polarity_scores(t)["compound"]] for t in rows.texts]
        out["vader_compound"] = np.array(compound)
        out["vader_word_sum"] = np.array([word_valence(sia.lexicon, t) for t in rows.texts])
    spec = importlib.util.find_spec("textblob")  # its data file only (no nltk import)
    if spec is None or spec.origin is None:
        out["pattern_word_sum"] = "skipped: textblob not installed"
    else:
        import xml.etree.ElementTree as ET

        path = Path(spec.origin).parent / "en" / "en-sentiment.xml"
        forms: dict[str, list[float]] = {}
        for w in ET.parse(path).getroot():
            forms.setdefault(str(w.get("form")).lower(), []).append(float(w.get("polarity", 0)))
        valence = {k: float(np.mean(v)) for k, v in forms.items()}
        out["pattern_word_sum"] = np.array([word_valence(valence, t) for t in rows.texts])
    return out
