"""Scorecard: do a reasoner's decisions carry information?

For each reasoner (quant; local at its granted authority; local forced to decide; always
long; a coin with the quant's action mix) over evenly spaced dates of the bundled GOOG
(daily) and EURUSD (hourly) data: hit rate and mean signed 5-bar return (target x return)
with bootstrap 95% intervals, a one-sided permutation p-value of the mean signed return
against shuffles of the reasoner's own targets (a coin with the same action mix), input
sensitivity on mirrored bars (see ``sun.check_model``), share of invalid first answers, and
latency p50/p95 of the model calls. A reasoner adds information only if p < 0.05.

``sentiment``: the SentimentX student against the lexicon on the held-out split of each
labelled data set recorded in the shipped model (Pearson, Spearman, directional accuracy;
see benchmarks/sentiment.py) and the per-headline latency p50/p95 of both.

    python benchmarks/decisions.py --json [--dates 200] [--local-dates 200] [--mirror-dates 20]
        [--markets GOOG EURUSD] [--sections decisions sentiment]

Progress lines (one per 10 decisions) go to stderr; the JSON object to stdout.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bus import BarSeries, MarketSnapshot, SunDecision, load_csv
from sun import BreakerConfig, ChainPolicy, ModelConfig, OrchestrationConfig, Sun
from sun.checks import bootstrap_ci, check_dates, consensus, mirror_series, raw_target

HORIZON = 5
DATA = ROOT / "examples" / "data"
Decider = Callable[[BarSeries, pd.Timestamp], SunDecision | None]


def forward_returns(series: BarSeries, dates: list) -> np.ndarray:
    """close[t + HORIZON] / close[t] - 1 for each date."""
    stamps = pd.DatetimeIndex(series.timestamps)
    index = stamps.get_indexer(pd.DatetimeIndex(dates))
    return series.close[index + HORIZON] / series.close[index] - 1.0


def permutation_p(targets: np.ndarray, returns: np.ndarray, rounds: int = 5000) -> float:
    """One-sided p of the mean signed return against shuffled targets (same action mix)."""
    rng = np.random.default_rng(1)
    observed = float(np.mean(targets * returns))
    shuffled = np.array([np.mean(rng.permutation(targets) * returns) for _ in range(rounds)])
    return float((1 + np.sum(shuffled >= observed - 1e-15)) / (rounds + 1))


def score(targets: np.ndarray, returns: np.ndarray) -> dict[str, object]:
    """Hit rate and mean signed return with 95% intervals, and the permutation p-value."""
    active = targets != 0
    hits = (np.sign(targets[active]) == np.sign(returns[active])).astype(float).tolist()
    signed = (targets * returns).tolist()
    return {
        "decisions": int(len(targets)),
        "active": int(active.sum()),
        "long_share": round(float(np.mean(targets > 0)), 3),
        "short_share": round(float(np.mean(targets < 0)), 3),
        "hit_rate": round(float(np.mean(hits)), 4) if hits else None,
        "hit_rate_ci": [round(x, 4) for x in bootstrap_ci(hits)] if hits else None,
        "mean_signed_return_bp": round(float(np.mean(signed)) * 1e4, 2),
        "mean_signed_return_ci_bp": [round(x * 1e4, 2) for x in bootstrap_ci(signed)],
        "permutation_p": round(permutation_p(targets, returns), 4),
    }


def sun_decider(sun: Sun) -> Decider:
    def decide(series: BarSeries, when: pd.Timestamp) -> SunDecision:
        return sun.decide(MarketSnapshot.at(when, {series.instrument: series}))

    return decide


def run(decider: Decider, series: BarSeries, dates: list, label: str = "") -> list[SunDecision]:
    out = []
    started = time.perf_counter()
    for when in dates:
        decision = decider(series, when)
        assert decision is not None
        out.append(decision)
        if label and (len(out) % 10 == 0 or len(out) == len(dates)):
            elapsed = time.perf_counter() - started
            print(f"{label}: {len(out)}/{len(dates)} {elapsed:.0f}s", file=sys.stderr, flush=True)
    return out


def sentiment() -> dict[str, object]:
    """Student vs lexicon on each held-out split, and per-headline latency (sentiment.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "_sentiment_bench", ROOT / "benchmarks" / "sentiment.py"
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    held = bench.heldout()
    out: dict[str, object] = {k: held[k] for k in ("model", "split", "seed", "n_train",
                                                   "reproduces_training_figures")}  # fmt: skip
    for d in ("semeval", "fiqa"):
        f = held[d]
        out[d] = {
            "n": f["n"],
            "student": f["student_all"],
            "lexicon": f["lexicon_all_uncovered_as_0"],
            "pearson_margin": f["pearson_margin_all"],
        }
    for k in ("student_latency_us", "lexicon_latency_us", "load_average_1min", "model_bytes"):
        out[k] = held[k]
    return out


def llm_figures(decisions: list[SunDecision]) -> dict[str, object]:
    """Share of invalid first answers, fallbacks, latency of the model calls."""
    llm = [d for d in decisions if d.attempts and d.attempts[0].level.startswith("primary")]
    if not llm:
        return {"invalid_share": 0.0, "fallback_share": 0.0, "latency_p50_ms": 0.0,
                "latency_p95_ms": 0.0}  # fmt: skip
    latency = [sum(a.latency_ms for a in d.attempts if a.level.startswith("primary")) for d in llm]
    return {
        "invalid_share": round(float(np.mean([not d.attempts[0].ok for d in llm])), 4),
        "fallback_share": round(float(np.mean([d.fallback_level != "primary" for d in llm])), 4),
        "latency_p50_ms": round(float(np.percentile(latency, 50)), 1),
        "latency_p95_ms": round(float(np.percentile(latency, 95)), 1),
    }


def sensitivity(decider: Decider, series: BarSeries, dates: list, directional) -> float | None:
    """Mean of sign(consensus) x (sign(t) - sign(t_mirror)) / 2 over the dates."""
    mirrored = mirror_series(series)
    moves = []
    for when in dates:
        real, mirror = decider(series, when), decider(mirrored, when)
        if real is None or mirror is None:
            return None
        c = consensus(real, directional)
        if c != 0.0:
            t, tm = np.sign(raw_target(real)), np.sign(raw_target(mirror))
            moves.append(np.sign(c) * (t - tm) / 2)
    return round(float(np.mean(moves)), 4) if moves else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--dates", type=int, default=200, help="dates per data file")
    parser.add_argument("--local-dates", type=int, default=200, help="dates for local runs")
    parser.add_argument("--mirror-dates", type=int, default=20, help="dates for sensitivity")
    parser.add_argument("--no-local", action="store_true")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per model call")
    parser.add_argument("--markets", nargs="+", default=["GOOG", "EURUSD"],
                        choices=["GOOG", "EURUSD"])  # fmt: skip
    parser.add_argument("--sections", nargs="+", default=["decisions", "sentiment"],
                        choices=["decisions", "sentiment"])  # fmt: skip
    args = parser.parse_args()
    started = time.perf_counter()
    report: dict[str, object] = {"horizon": HORIZON, "markets": {}}
    if "sentiment" in args.sections:
        report["sentiment"] = sentiment()
    if "decisions" in args.sections:
        decisions(args, report)
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["load_average"] = [round(x, 2) for x in os.getloadavg()]
    report["settings"] = vars(args)
    print(json.dumps(report) if args.json else json.dumps(report, indent=1))


def decisions(args: argparse.Namespace, report: dict[str, object]) -> None:
    """The reasoners' rows per market (see the module docstring)."""
    histories = [load_csv(DATA / f"{m}.csv", m) for m in args.markets]
    always = OrchestrationConfig(llm_policy="always")
    # Why: on a loaded machine the embedded model can take minutes; a short timeout or an
    # open breaker would measure the council, not the model.
    patient = ChainPolicy(
        timeout_s=args.timeout, max_retries=0, breaker=BreakerConfig(failure_threshold=10**6,
                                                                     min_calls=10**6),
    )  # fmt: skip
    suns: dict[str, Sun] = {"quant": Sun("quant", checkpoint="none")}
    if not args.no_local:
        suns["local"] = Sun("local", checkpoint="none", orchestration=always,
                            models=ModelConfig(backup_models=[], chain_policy=patient))  # fmt: skip
        suns["local-decide"] = Sun("local", checkpoint="none", orchestration=always,
                                   models=ModelConfig(backup_models=[], authority="decide",
                                                      chain_policy=patient))  # fmt: skip
    for series in histories:
        market: dict[str, object] = {}
        dates = check_dates(series, args.dates, HORIZON)
        returns = forward_returns(series, dates)
        quant = np.array(
            [d.target_position for d in run(sun_decider(suns["quant"]), series, dates, "quant")]
        )
        for name, sun in suns.items():
            n = args.dates if name == "quant" else args.local_dates
            chosen = check_dates(series, n, HORIZON)
            decisions = run(sun_decider(sun), series, chosen, f"{series.instrument} {name}")
            targets = np.array([d.target_position for d in decisions])
            authority = sorted({d.authority for d in decisions})
            market[f"{name} ({'/'.join(authority)})"] = {
                **score(targets, forward_returns(series, chosen)),
                **llm_figures(decisions),
                "sensitivity": sensitivity(
                    sun_decider(sun),
                    series,
                    check_dates(series, args.mirror_dates, HORIZON),
                    sun.context.directional,
                ),  # fmt: skip
            }
        market["always-long"] = {**score(np.ones_like(returns), returns), "sensitivity": 0.0,
                                 "invalid_share": 0.0}  # fmt: skip
        rng = np.random.default_rng(7)
        coin = rng.choice(quant, size=len(quant), replace=True)
        market["coin (quant's action mix)"] = {**score(coin, returns), "sensitivity": 0.0,
                                               "invalid_share": 0.0}  # fmt: skip
        report["markets"][f"{series.instrument}"] = market  # type: ignore[index]
    for sun in suns.values():
        sun.close()


if __name__ == "__main__":
    main()
