"""Evaluate the lexicon sentiment baseline (``planets.score_text``) on the bundled labelled data.

Usage: python benchmarks/sentiment.py [--json]

Prints ONE JSON object (indented without --json, a single line with --json):

- per dataset (SemEval-2017 Task 5 headlines, FiQA 2018 task 1 posts): n, coverage (fraction of
  texts where some lexicon term fired), Pearson / Spearman of score vs label on covered items,
  the same on all items with uncovered items scored 0 (``*_all_uncovered_as_0``), directional
  accuracy (sign agreement on items with a nonzero label and a signal; a 0 score counts as
  wrong), mean absolute error on the -10..+10 scale (label x 10) on covered items;
- throughput of ``score_texts`` in texts per second;
- ``heldout``: the SentimentX student (``planets/models/sentimentx.onnx``) against the lexicon on
  the held-out split recorded in the model file (grouped: no near-duplicate of a held-out text
  was trained on), per dataset: Pearson, Spearman, directional accuracy on all held-out items
  (lexicon-uncovered items scored 0) and on lexicon-covered items only, the student-minus-lexicon
  Pearson margins, and whether they equal the figures stored at training time;
- ``student_latency_us``: per-headline wall-clock latency of ``SentimentX.score`` (p50/p95) over
  the SemEval held-out headlines, with the machine's load average for context.

The lexicon is hand-written and was not fitted on these labels, so all figures are
out-of-sample for it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
# Run as a script from a checkout: the repo root must come before benchmarks/, whose
# memory.py would otherwise shadow the memory package (imported by learning).
sys.path.insert(0, str(ROOT))

from learning import heldout_figures, load_labelled  # noqa: E402
from planets import SentimentX, load_lexicon, score_text, score_texts  # noqa: E402

DATA = ROOT / "examples" / "data"
SEMEVAL = DATA / "semeval2017_task5_headlines.json"
FIQA = DATA / "fiqa_posts.json"


def load_semeval(path: Path = SEMEVAL) -> tuple[list[str], np.ndarray]:
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [r["title"] for r in rows], np.array([float(r["sentiment"]) for r in rows])


def load_fiqa(path: Path = FIQA) -> tuple[list[str], np.ndarray]:
    """Posts and labels; a post's label is the mean of its per-target sentiment scores."""
    posts = json.loads(path.read_text(encoding="utf-8"))
    texts, labels = [], []
    for key in sorted(posts, key=lambda k: int(k) if k.isdigit() else k):
        post = posts[key]
        texts.append(post["sentence"])
        labels.append(float(np.mean([float(i["sentiment_score"]) for i in post["info"]])))
    return texts, np.array(labels)


def _pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    if len(x) < 3 or np.std(x) == 0 or np.std(y) == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def _spearman(x: np.ndarray, y: np.ndarray) -> float | None:
    return _pearson(
        pd.Series(x).rank(method="average").to_numpy(),
        pd.Series(y).rank(method="average").to_numpy(),
    )


def _r(v: float | None, nd: int = 4) -> float | None:
    return None if v is None else round(v, nd)


def evaluate(texts: list[str], labels: np.ndarray) -> dict[str, object]:
    results = score_texts(texts)
    scores = np.array([r.score for r in results], dtype=float)
    covered = np.array([r.has_signal for r in results])
    directional = covered & (labels != 0)
    agree = np.sign(scores[directional]) == np.sign(labels[directional])
    return {
        "n": len(texts),
        "n_covered": int(covered.sum()),
        "coverage": _r(float(covered.mean())),
        "pearson_covered": _r(_pearson(scores[covered], labels[covered])),
        "spearman_covered": _r(_spearman(scores[covered], labels[covered])),
        "pearson_all_uncovered_as_0": _r(_pearson(scores, labels)),
        "spearman_all_uncovered_as_0": _r(_spearman(scores, labels)),
        "n_directional": int(directional.sum()),
        "directional_accuracy": _r(float(agree.mean()) if agree.size else None),
        "mae_x10_covered": _r(float(np.mean(np.abs(scores[covered] - 10 * labels[covered]))), 3),
    }


def throughput(texts: list[str], min_seconds: float = 0.5) -> float:
    score_texts(texts[:10])  # warm the lexicon cache
    done, start = 0, time.perf_counter()
    while True:
        score_texts(texts)
        done += len(texts)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return done / elapsed


def latency_us(
    call: Callable[[str], object], texts: list[str], passes: int = 5
) -> dict[str, float]:
    """Per-call wall-clock latency (microseconds) of ``call(text)`` over ``texts``.

    p50/p95 over all calls of all passes; ``best_pass_mean``: the mean per call of the fastest
    pass; ``p50_of_per_text_min``: the median over texts of each text's fastest call;
    ``cpu_p50``: the median CPU time of this thread per call (the three last are the least
    disturbed by other processes on a shared machine; p50/p95 are the headline figures).
    """
    for t in texts[:50]:  # warm caches
        call(t)
    samples: list[int] = []
    cpu: list[int] = []
    pass_means: list[float] = []
    for _ in range(passes):
        start_pass = len(samples)
        for t in texts:
            start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
            call(t)
            cpu.append(time.thread_time_ns() - start_cpu)
            samples.append(time.perf_counter_ns() - start)
        pass_means.append(float(np.mean(samples[start_pass:])))
    arr = np.array(samples, dtype=np.float64) / 1000.0
    per_text_min = arr.reshape(passes, len(texts)).min(axis=0)
    return {
        "p50": round(float(np.percentile(arr, 50)), 1),
        "p95": round(float(np.percentile(arr, 95)), 1),
        "best_pass_mean": round(min(pass_means) / 1000.0, 1),
        "p50_of_per_text_min": round(float(np.median(per_text_min)), 1),
        "cpu_p50": round(float(np.percentile(cpu, 50)) / 1000.0, 1),
        "calls": len(samples),
    }


def heldout() -> dict[str, object]:
    """Student vs lexicon on the held-out split recorded in the shipped model."""
    scorer = SentimentX()
    if scorer.fallback_reason is not None:
        return {"model": scorer.model, "error": scorer.fallback_reason}
    record = scorer.record
    items = load_labelled()
    position = {(it.dataset, it.row): i for i, it in enumerate(items)}
    test = [position[(d, r)] for d, rows in record["heldout_rows"].items() for r in rows]
    figures = heldout_figures(scorer, items, test)
    out: dict[str, object] = {
        "model": scorer.model,
        "split": record["split"],
        "seed": record["seed"],
        "n_train": record["n_train"],
        "reproduces_training_figures": figures == record["figures"],
    }
    for d, f in figures.items():
        f["pearson_margin_all"] = _r(
            f["student_all"]["pearson"] - f["lexicon_all_uncovered_as_0"]["pearson"]
        )
        f["pearson_margin_covered"] = _r(
            f["student_lexicon_covered"]["pearson"] - f["lexicon_covered"]["pearson"]
        )
        out[d] = f
    headlines = [items[i].text for i in test if items[i].dataset == "semeval"]
    out["student_latency_us"] = latency_us(scorer.score, headlines)
    out["lexicon_latency_us"] = latency_us(score_text, headlines)
    out["load_average_1min"] = round(os.getloadavg()[0], 2)
    out["model_bytes"] = scorer.path.stat().st_size
    return out


def run() -> dict[str, object]:
    sem_texts, sem_labels = load_semeval()
    fiqa_texts, fiqa_labels = load_fiqa()
    return {
        "benchmark": "sentiment_lexicon",
        "method": "hand-written lexicon (not fitted on these labels); planets.score_text",
        "lexicon_terms": len(load_lexicon()),
        "semeval2017_task5_headlines": evaluate(sem_texts, sem_labels),
        "fiqa2018_task1_posts": evaluate(fiqa_texts, fiqa_labels),
        "throughput_texts_per_s": round(throughput(sem_texts)),
        "heldout": heldout(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one line of JSON")
    args = parser.parse_args(argv)
    result = run()
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
