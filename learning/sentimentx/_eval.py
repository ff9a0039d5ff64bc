"""How a SentimentX scorer compares with the gold labels: Pearson, Spearman and directional
accuracy, per held-out data set, for the student and for the lexicon on the same items.

Used by training (the figures stored in the model file) and by the scorecard
(``benchmarks/decisions.py --sections sentiment``), so both report the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from learning.sentimentx._data import DATASETS, LabelledText
from planets import SentimentX, score_text

__all__ = ["evaluate_scores", "heldout_figures", "pearson"]


def pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson correlation, or None for fewer than 3 items or a constant side."""
    if len(x) < 3 or np.std(x) == 0 or np.std(y) == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = np.arange(len(x), dtype=np.float64)
    for value in np.unique(x):  # average ranks of ties
        tied = x == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 4)


def evaluate_scores(
    scores: np.ndarray, labels: np.ndarray, signal: np.ndarray | None = None
) -> dict[str, Any]:
    """Pearson, Spearman, directional accuracy of scores vs labels (no-signal items score 0).

    Directional accuracy: sign agreement over items with a nonzero label; an item without
    signal or with a 0 score counts as wrong.
    """
    signal = np.ones(len(scores), dtype=bool) if signal is None else signal
    scores = np.where(signal, scores, 0.0)
    nonzero = labels != 0
    agree = (np.sign(scores) == np.sign(labels)) & signal
    return {
        "n": len(scores),
        "pearson": _r(pearson(scores, labels)),
        "spearman": _r(pearson(_ranks(scores), _ranks(labels))),
        "directional_accuracy": _r(float(agree[nonzero].mean()) if nonzero.any() else None),
    }


def heldout_figures(
    scorer: SentimentX, items: Sequence[LabelledText], test: Sequence[int]
) -> dict[str, Any]:
    """Student vs lexicon per held-out dataset, on all items and on lexicon-covered items."""
    figures: dict[str, Any] = {}
    for d in DATASETS:
        held = [items[i] for i in test if items[i].dataset == d]
        texts = [it.text for it in held]
        labels = np.array([it.label for it in held])
        student = scorer.score_many(texts)
        s_scores = np.array([s.score for s in student])
        s_signal = np.array([s.has_signal for s in student])
        lex = [score_text(t) for t in texts]
        l_scores = np.array([float(s.score) for s in lex])
        covered = np.array([s.has_signal for s in lex])
        figures[d] = {
            "n": len(held),
            "lexicon_coverage": _r(float(covered.mean())),
            "student_all": evaluate_scores(s_scores, labels, s_signal),
            "lexicon_all_uncovered_as_0": evaluate_scores(l_scores, labels, covered),
            "student_lexicon_covered": evaluate_scores(
                s_scores[covered], labels[covered], s_signal[covered]
            ),
            "lexicon_covered": evaluate_scores(l_scores[covered], labels[covered]),
        }
    return figures
