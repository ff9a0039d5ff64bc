"""Labelled sentiment data and a grouped, near-duplicate-free train/held-out split.

Why grouped: SemEval repeats headlines (one per company) and both sets hold near-copies;
a random split would put a copy of a test item into training and flatter the student.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from planets import dedupe_key

__all__ = [
    "DATASETS",
    "DEFAULT_DATA_DIR",
    "LabelledText",
    "Split",
    "data_fingerprint",
    "grouped_split",
    "load_labelled",
    "near_duplicate_groups",
]

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "examples" / "data"
SEMEVAL_FILE = "semeval2017_task5_headlines.json"
FIQA_FILE = "fiqa_posts.json"
DATASETS = ("semeval", "fiqa")
SHINGLE = 5
OVERLAP = 0.6


@dataclass(frozen=True, slots=True)
class LabelledText:
    """One labelled text; ``row`` is its position in the dataset's load order."""

    dataset: str
    row: int
    text: str
    label: float  # SentimentX scale, -10..+10 (source label x 10)


@dataclass(frozen=True)
class Split:
    """Indices into the item list: training and held-out, plus the group of every item."""

    train: tuple[int, ...]
    test: tuple[int, ...]
    groups: tuple[int, ...]


def load_labelled(data_dir: Path = DEFAULT_DATA_DIR) -> list[LabelledText]:
    """SemEval-2017 task 5 headlines (file order) then FiQA posts (by numeric id).

    The files live in the repository's ``examples/data`` (not in the installed package): from
    an install, pass ``data_dir`` pointing at a checkout's copy.
    """
    for name in (SEMEVAL_FILE, FIQA_FILE):
        if not (data_dir / name).is_file():
            raise FileNotFoundError(f"{data_dir / name} not found: pass data_dir= a folder with it")
    items: list[LabelledText] = []
    rows = json.loads((data_dir / SEMEVAL_FILE).read_text(encoding="utf-8"))
    for i, r in enumerate(rows):
        items.append(LabelledText("semeval", i, r["title"], 10.0 * float(r["sentiment"])))
    posts = json.loads((data_dir / FIQA_FILE).read_text(encoding="utf-8"))
    keys = sorted(posts, key=lambda k: int(k) if k.isdigit() else k)
    for i, key in enumerate(keys):
        info = posts[key]["info"]
        label = float(np.mean([float(x["sentiment_score"]) for x in info]))
        items.append(LabelledText("fiqa", i, posts[key]["sentence"], 10.0 * label))
    return items


def data_fingerprint(data_dir: Path = DEFAULT_DATA_DIR) -> str:
    """sha256 of both data files, recorded with the split (why: row indices need the file)."""
    digest = hashlib.sha256()
    for name in (SEMEVAL_FILE, FIQA_FILE):
        digest.update((data_dir / name).read_bytes())
    return digest.hexdigest()


def _shingles(key: str) -> set[str]:
    padded = f" {key} "
    if len(padded) <= SHINGLE:
        return {padded}
    return {padded[i : i + SHINGLE] for i in range(len(padded) - SHINGLE + 1)}


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def near_duplicate_groups(texts: Sequence[str], overlap: float = OVERLAP) -> list[int]:
    """Group id per text: same ``dedupe_key`` or char-5-gram Jaccard >= ``overlap``."""
    from scipy import sparse  # training-only dependency (comes with scikit-learn)

    keys = [dedupe_key(t) for t in texts]
    vocab: dict[str, int] = {}
    rows, cols = [], []
    for r, key in enumerate(keys):
        for s in _shingles(key):
            rows.append(r)
            cols.append(vocab.setdefault(s, len(vocab)))
    x = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(keys), len(vocab))
    )
    inter = (x @ x.T).tocoo()
    sizes = np.asarray(x.sum(axis=1)).ravel()
    jaccard = inter.data / (sizes[inter.row] + sizes[inter.col] - inter.data)
    parent = list(range(len(keys)))
    pairs = zip(inter.row, inter.col, jaccard, strict=True)
    for a, b in ((int(a), int(b)) for a, b, j in pairs if a < b and j >= overlap):
        parent[_find(parent, a)] = _find(parent, b)
    first_seen: dict[str, int] = {}
    for i, key in enumerate(keys):  # identical keys always share a group
        if key in first_seen:
            parent[_find(parent, i)] = _find(parent, first_seen[key])
        else:
            first_seen[key] = i
    roots = [_find(parent, i) for i in range(len(keys))]
    renumber: dict[int, int] = {}
    return [renumber.setdefault(r, len(renumber)) for r in roots]


def grouped_split(
    items: Sequence[LabelledText], test_fraction: float = 0.2, seed: int = 0
) -> Split:
    """Held-out ~``test_fraction`` of each dataset, whole near-duplicate groups at a time."""
    groups = near_duplicate_groups([it.text for it in items])
    members: dict[int, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    target = {d: test_fraction * sum(it.dataset == d for it in items) for d in DATASETS}
    taken = dict.fromkeys(DATASETS, 0)
    test: list[int] = []
    for g in np.random.default_rng(seed).permutation(len(members)):
        idx = members[int(g)]
        need = {d: sum(items[i].dataset == d for i in idx) for d in DATASETS}
        if all(taken[d] + need[d] <= target[d] for d in DATASETS):
            test.extend(idx)
            for d in DATASETS:
                taken[d] += need[d]
    test_set = set(test)
    train = tuple(i for i in range(len(items)) if i not in test_set)
    return Split(train=train, test=tuple(sorted(test_set)), groups=tuple(groups))
