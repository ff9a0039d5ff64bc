"""Prompt evolution benchmark: sequential A/B statistics in simulation + one real GOOG run.

Simulation (seeded): an incumbent and ``K`` candidates; per situation each prompt's utility is
+1 (a good decision) with probability ``p`` and -1 otherwise. In the *null* scenario every
candidate equals the incumbent (``p = 0.5``); in the *alternative* one candidate is better by
``margin`` (``p = 0.5 + margin``) and the others are equal. Each repetition runs the real
:class:`prompts.Evolution` engine (Thompson allocation, paired betting tests at ``alpha / K``
checked after every trial, held-out confirmation). Reported:

* ``false_adoption_rate`` – share of null repetitions that adopted any candidate.
* ``true_adoption_rate`` – share of alternative repetitions that adopted the better one.
* ``mean_trials_to_decision`` – selection trials spent on the better candidate until its test
  decided (alternative scenario), and overall trials per run.
* ``fixed_horizon_trials`` – trials per candidate a fixed-sample one-sided z-test at
  ``alpha / K`` needs for the same power.

Then, with ``sun.llm._models.local_available()``, one real evolution of ``sun_reason`` on GOOG with
the embedded model under a hard call budget.

    python benchmarks/prompts.py --json [--reps 1000] [--real-calls 30] [--no-real]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class _Sim:
    def __init__(self, p: dict[str, float], seed: int) -> None:
        self.p = p
        self.rng = np.random.default_rng(seed)

    def evaluate(self, prompt, situation):  # noqa: ANN001, ANN201
        from prompts import TrialScore

        return TrialScore(utility=1.0 if self.rng.random() < self.p[prompt.version] else -1.0,
                          valid=True)  # fmt: skip


def simulate(reps: int, candidates: int, margin: float, alpha: float, horizon: int) -> dict:
    """Null and alternative scenarios through the real engine (no store, no pins)."""
    from prompts import Evolution, EvolutionConfig, fixed_horizon_trials, get_prompt, write_version

    base = get_prompt("sun_reason")
    cands = [
        write_version("sun_reason", f"{base.system} Variant {i}.", base.user, parent="1",
                      origin="evolved")
        for i in range(candidates)
    ]  # fmt: skip
    selection = [f"s{i}" for i in range(horizon)]
    holdout = [f"h{i}" for i in range(100)]
    out: dict = {}
    for scenario in ("null", "alternative"):
        adopted_any = adopted_true = 0
        trials_true, trials_run = [], []
        for rep in range(reps):
            p = {"1": 0.5, **{c.version: 0.5 for c in cands}}
            if scenario == "alternative":
                p[cands[0].version] = 0.5 + margin
            config = EvolutionConfig(alpha=alpha, max_trials=horizon, auto_adopt=False, seed=rep)
            result = Evolution(_Sim(p, seed=10_000 * (scenario == "null") + rep), None, config).run(
                "sun_reason", cands, selection, holdout, incumbent=base
            )
            adopted_any += result.winner is not None
            adopted_true += result.winner == cands[0].version
            trials_run.append(sum(int(c.selection["n"]) for c in result.candidates))
            trials_true.append(int(result.candidates[0].selection["n"]))
        out[scenario] = {
            "adopted_any": adopted_any / reps,
            "adopted_better": adopted_true / reps,
            "mean_selection_trials_per_run": float(np.mean(trials_run)),
            "mean_trials_on_better": float(np.mean(trials_true)),
        }
    power = out["alternative"]["adopted_better"]
    sd = float(np.sqrt((0.5 + margin) * (0.5 - margin) * 4 + 1.0))  # sd of d in {-2, 0, 2}
    fixed = fixed_horizon_trials(2 * margin, sd, alpha / candidates, min(max(power, 0.5), 0.999))
    return {
        "alpha": alpha,
        "candidates": candidates,
        "margin_in_win_probability": margin,
        "reps_per_scenario": reps,
        "max_trials_per_candidate": horizon,
        "false_adoption_rate": out["null"]["adopted_any"],
        "true_adoption_rate": power,
        "false_adoption_rate_alternative": out["alternative"]["adopted_any"]
        - out["alternative"]["adopted_better"],
        "mean_trials_to_decision": out["alternative"]["mean_trials_on_better"],
        "mean_selection_trials_per_run_alternative": out["alternative"][
            "mean_selection_trials_per_run"
        ],
        "mean_selection_trials_per_run_null": out["null"]["mean_selection_trials_per_run"],
        "fixed_horizon_trials": fixed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON only")
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--candidates", type=int, default=3)
    parser.add_argument("--margin", type=float, default=0.2)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--horizon", type=int, default=300)
    parser.add_argument("--real-calls", type=int, default=30, help="LLM call budget of the run")
    parser.add_argument("--no-real", action="store_true", help="skip the real GOOG run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HELIARCH_PROMPTS_DIR"] = str(Path(tmp) / "prompts")
        started = time.perf_counter()
        report = {"simulation": simulate(args.reps, args.candidates, args.margin, args.alpha,
                                         args.horizon)}  # fmt: skip
        report["simulation"]["seconds"] = round(time.perf_counter() - started, 1)
        report["real_run"] = real_run(args.real_calls) if not args.no_real else "skipped"
    print(json.dumps(report, indent=None if args.json else 2, default=str))


def real_run(max_calls: int) -> dict | str:
    """One evolution of ``sun_reason`` on GOOG with the local model (fresh prompt dir)."""
    from sun.llm import local_available

    if not local_available():
        return "skipped: local model not available"
    from bus import load_csv
    from heliarch import run_evolution
    from prompts import TrialStore

    started = time.perf_counter()
    series = load_csv(ROOT / "examples" / "data" / "GOOG.csv", "GOOG")
    with TrialStore(":memory:") as store:
        report = run_evolution(series, variants=3, selection=20, holdout=10,
                               max_calls=max_calls, store=store)  # fmt: skip
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report


if __name__ == "__main__":
    main()
