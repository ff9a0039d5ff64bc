"""Training the SentimentX student (distillation) and exporting it to ONNX.

``train_sentimentx`` fits a ridge regression on TF-IDF n-grams plus the lexicon's score (the
offline teacher used as a feature) to the gold labels of the training split, optionally mixed
with a teacher's labels (``teacher(text) -> score or None``, e.g. an LLM) on the training texts
and on extra unlabelled texts. The held-out split is never shown to the teacher or the model.
The exported file is evaluated on the held-out split and the figures are stored in it.

Run: ``heliarch train sentiment [--seed N] [--out PATH]`` (or ``python -m learning.sentimentx``).
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from learning.sentimentx._data import (
    DATASETS,
    DEFAULT_DATA_DIR,
    OVERLAP,
    SHINGLE,
    LabelledText,
    data_fingerprint,
    grouped_split,
    load_labelled,
)
from learning.sentimentx._eval import heldout_figures, pearson
from planets import (
    DEFAULT_SENTIMENTX_PATH,
    SENTIMENTX_FORMAT,
    Featurizer,
    SentimentX,
    extract_grams,
    lexicon_features,
    score_text,
)

__all__ = [
    "ALPHAS",
    "Teacher",
    "TrainReport",
    "fit_featurizer",
    "lexicon_teacher",
    "train_sentimentx",
]

Teacher = Callable[[str], float | None]
ALPHAS = (0.3, 1.0, 3.0, 10.0)
MIN_DF = 2
CV_FOLDS = 5
VERSION = "1"


@dataclass(frozen=True)
class TrainReport:
    """What training did and how the exported model scores on the held-out split."""

    path: Path
    seed: int
    alpha: float
    cv_pearson: float
    n_features: int
    size_bytes: int
    teacher: str | None
    n_train: dict[str, int]
    n_test: dict[str, int]
    figures: dict[str, Any]
    seconds: float = field(compare=False)


def lexicon_teacher(text: str) -> float | None:
    """The lexicon as a teacher: its SentimentX score, or None when no term fired."""
    s = score_text(text)
    return float(s.score) if s.has_signal else None


def fit_featurizer(texts: Sequence[str], min_df: int = MIN_DF) -> Featurizer:
    """Vocabulary (grams in >= ``min_df`` texts, sorted) and smoothed idf, rounded to 1e-6."""
    word_df: Counter[str] = Counter()
    char_df: Counter[str] = Counter()
    for text in texts:
        word_grams, char_grams = extract_grams(text)
        word_df.update(set(word_grams))
        char_df.update(set(char_grams))
    words = sorted(g for g, c in word_df.items() if c >= min_df)
    chars = sorted(g for g, c in char_df.items() if c >= min_df)
    df = np.array([word_df[g] for g in words] + [char_df[g] for g in chars], dtype=np.float64)
    idf = np.round(np.log((1.0 + len(texts)) / (1.0 + df)) + 1.0, 6)
    return Featurizer.from_json({"words": words, "chars": chars, "idf": idf.tolist()})


def _design(featurizer: Featurizer, texts: Sequence[str]) -> Any:
    """Sparse design matrix: TF-IDF columns then the two lexicon columns."""
    from scipy import sparse

    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    width = featurizer.size
    for r, text in enumerate(texts):
        idx, val, _ = featurizer.transform(text)
        dense = lexicon_features(text)
        rows.append(np.full(idx.size + 2, r))
        cols.append(np.concatenate([idx, [width, width + 1]]))
        vals.append(np.concatenate([val, dense]).astype(np.float64))
    return sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(texts), width + 2),
    )


def _fit(x: Any, y: np.ndarray, w: np.ndarray, alpha: float) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import Ridge

    model = Ridge(alpha=alpha, solver="lsqr", tol=1e-10, max_iter=100_000)
    model.fit(x, y, sample_weight=w)
    return np.asarray(model.coef_, dtype=np.float64), float(model.intercept_)


def _training_rows(
    items: Sequence[LabelledText],
    teacher: Teacher | None,
    unlabelled: Sequence[str],
    teacher_weight: float,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Texts, targets and sample weights: gold labels, blended with the teacher's if any."""
    texts = [it.text for it in items]
    y = np.array([it.label for it in items], dtype=np.float64)
    w = np.ones(len(items), dtype=np.float64)
    if teacher is None:
        return texts, y, w
    for i, text in enumerate(texts):
        t = teacher(text)
        if t is not None and math.isfinite(t):
            y[i] = (1.0 - teacher_weight) * y[i] + teacher_weight * max(-10.0, min(10.0, t))
    extra = [(u, teacher(u)) for u in unlabelled]
    kept = [(u, float(t)) for u, t in extra if t is not None and math.isfinite(t)]
    texts += [u for u, _ in kept]
    y = np.concatenate([y, [max(-10.0, min(10.0, t)) for _, t in kept]])
    w = np.concatenate([w, np.full(len(kept), teacher_weight)])
    return texts, y, w


def _choose_alpha(
    texts: Sequence[str], y: np.ndarray, w: np.ndarray, groups: Sequence[int]
) -> tuple[float, float]:
    """Ridge alpha with the best out-of-fold Pearson (GroupKFold, vocabulary fit per fold)."""
    from sklearn.model_selection import GroupKFold

    oof = {a: np.zeros(len(texts)) for a in ALPHAS}
    for fit_idx, val_idx in GroupKFold(n_splits=CV_FOLDS).split(np.zeros(len(texts)), y, groups):
        featurizer = fit_featurizer([texts[i] for i in fit_idx])
        x_fit = _design(featurizer, [texts[i] for i in fit_idx])
        x_val = _design(featurizer, [texts[i] for i in val_idx])
        for a in ALPHAS:
            coef, bias = _fit(x_fit, y[fit_idx], w[fit_idx], a)
            oof[a][val_idx] = np.clip(x_val @ coef + bias, -10.0, 10.0)
    scored = [(pearson(oof[a], y) or 0.0, a) for a in ALPHAS]
    best_pearson, best_alpha = max(scored, key=lambda pa: (pa[0], -pa[1]))
    return best_alpha, best_pearson


def _write_onnx(
    path: Path, featurizer: Featurizer, coef: np.ndarray, bias: float, meta: dict[str, str]
) -> None:
    """The linear head as an ONNX graph: clip(w[idx] . val), lexicon and bias as the last 3 w."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weights = np.concatenate([coef, [bias]]).astype(np.float32)  # sparse, lexicon x2, bias
    inits = [
        numpy_helper.from_array(weights, "w"),
        numpy_helper.from_array(np.array(-10.0, dtype=np.float32), "lo"),
        numpy_helper.from_array(np.array(10.0, dtype=np.float32), "hi"),
    ]
    nodes = [
        helper.make_node("Gather", ["w", "idx"], ["g"]),
        helper.make_node("MatMul", ["g", "val"], ["raw"]),
        helper.make_node("Clip", ["raw", "lo", "hi"], ["score"]),
    ]
    graph = helper.make_graph(
        nodes,
        "sentimentx_student",
        [
            helper.make_tensor_value_info("idx", TensorProto.INT64, ["n"]),
            helper.make_tensor_value_info("val", TensorProto.FLOAT, ["n"]),
        ],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, [])],
        initializer=inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="heliarch"
    )
    model.ir_version = 8
    helper.set_model_props(model, meta)
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.SerializeToString())


def train_sentimentx(
    out_path: str | Path = DEFAULT_SENTIMENTX_PATH,
    seed: int = 0,
    teacher: Teacher | None = None,
    *,
    data_dir: Path | None = None,
    test_fraction: float = 0.2,
    unlabelled: Sequence[str] = (),
    teacher_weight: float = 0.3,
    progress: Callable[[str], None] | None = None,
) -> TrainReport:
    """Train the SentimentX student, export it to ``out_path`` (ONNX), report held-out figures.

    Args:
        out_path: where the model file goes (default: the shipped package file).
        seed: fixes the grouped held-out split (training itself is deterministic).
        teacher: optional ``text -> SentimentX score or None`` (e.g. an LLM, or
            :func:`lexicon_teacher`); its labels are blended into the training targets with
            ``teacher_weight`` and label ``unlabelled`` texts. The lexicon is always a feature.
        data_dir: directory with the SemEval and FiQA JSON files (None: ``examples/data``).
        test_fraction: held-out share of each dataset.
        unlabelled: extra texts for the teacher to label (ignored without a teacher).
        teacher_weight: blend weight of the teacher's label, and sample weight of its rows.
        progress: called with one line per training step (none by default).
    """
    started = time.perf_counter()
    say = progress or (lambda _line: None)
    out = Path(out_path)
    data_dir = DEFAULT_DATA_DIR if data_dir is None else Path(data_dir)
    items = load_labelled(data_dir)
    say(f"loaded {len(items)} labelled texts from {data_dir}")
    split = grouped_split(items, test_fraction=test_fraction, seed=seed)
    say(f"grouped split (seed {seed}): {len(split.train)} train, {len(split.test)} held out")
    train_items = [items[i] for i in split.train]
    texts, y, w = _training_rows(train_items, teacher, unlabelled, teacher_weight)
    groups = [split.groups[i] for i in split.train]
    groups += [max(split.groups) + 1 + k for k in range(len(texts) - len(train_items))]
    say(f"choosing the ridge alpha by {CV_FOLDS}-fold grouped cross-validation")
    alpha, cv_pearson = _choose_alpha(texts, y, w, groups)
    say(f"alpha {alpha} (cross-validated Pearson {cv_pearson:.3f}); fitting {len(texts)} rows")
    featurizer = fit_featurizer(texts)
    coef, bias = _fit(_design(featurizer, texts), y, w, alpha)
    teacher_name = None if teacher is None else getattr(teacher, "__name__", type(teacher).__name__)
    record: dict[str, Any] = {
        "seed": seed,
        "alpha": alpha,
        "cv_pearson": round(cv_pearson, 6),
        "test_fraction": test_fraction,
        "split": f"grouped: same dedupe_key or char-{SHINGLE}-gram Jaccard >= {OVERLAP}",
        "data_sha256": data_fingerprint(data_dir),
        "teacher": teacher_name,
        "teacher_weight": teacher_weight if teacher is not None else None,
        "n_unlabelled": len(texts) - len(train_items),
        "n_train": {d: sum(it.dataset == d for it in train_items) for d in DATASETS},
        "heldout_rows": {
            d: [items[i].row for i in split.test if items[i].dataset == d] for d in DATASETS
        },
    }
    meta = {
        "format": SENTIMENTX_FORMAT,
        "version": VERSION,
        "featurizer": json.dumps(featurizer.to_json(), separators=(",", ":")),
        "base_confidence": repr(round(max(0.0, cv_pearson), 6)),
    }
    _write_onnx(out, featurizer, coef, bias, {**meta, "record": json.dumps(record)})
    say(f"exported {out}; evaluating on the held-out split")
    figures = heldout_figures(SentimentX(out), items, split.test)
    record["figures"] = figures
    _write_onnx(out, featurizer, coef, bias, {**meta, "record": json.dumps(record)})
    return TrainReport(
        path=out,
        seed=seed,
        alpha=alpha,
        cv_pearson=cv_pearson,
        n_features=featurizer.size + 2,
        size_bytes=out.stat().st_size,
        teacher=teacher_name,
        n_train=record["n_train"],
        n_test={d: figures[d]["n"] for d in DATASETS},
        figures=figures,
        seconds=time.perf_counter() - started,
    )
