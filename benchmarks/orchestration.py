"""Decision latency through the whole hierarchy, against a naive LangGraph build, in one run.

    python benchmarks/orchestration.py [--json] [--decisions N] [--local-decisions N]

Walks GOOG forward over ``--decisions`` dates (each date a new history, so the moon cache
misses as it would live) and times one decision per date:

* ``decision_ms_*``: ``Sun("quant", checkpoint="none")`` (inline planets, the fast path);
* ``decision_ms_p50_full_moon_pass``: the fast path without the carried moon state
  (``moon_carry=None``: every new date runs the moons over the whole history), timed in
  alternation with the carried one (``decision_ms_p50_carried``), hence ``moon_carry_speedup``;
* ``decision_ms_p50_subgraph_mode``: the same with each planet's compiled subgraph invoked;
* ``decision_ms_p50_sqlite``: the fast path with the default durable SQLite checkpointer;
* ``naive_langgraph_ms_p50``: ``benchmarks/_naive.py`` (Send per planet and per moon), timed
  in alternation with the fast path so ``speedup_vs_naive`` compares them under the same load;
* ``local_decision_ms_*``: the embedded local model reasoning on every decision.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._naive import build_naive_graph  # noqa: E402
from bus import MarketSnapshot, load_csv  # noqa: E402
from moons import DEFAULT_CACHE  # noqa: E402
from sun import OrchestrationConfig, Sun, local_available  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def snapshots(count: int) -> list[MarketSnapshot]:
    goog = load_csv(ROOT / "examples/data/GOOG.csv", "GOOG")
    stamps = goog.timestamps[300 :: max(1, (len(goog) - 300) // count)][:count]
    return [MarketSnapshot.at(goog.up_to(s).last_timestamp, {"GOOG": goog}) for s in stamps]


def time_calls(call, items, warmup: int = 5) -> list[float]:  # type: ignore[no-untyped-def]
    for item in items[:warmup]:
        call(item)
    DEFAULT_CACHE.backend.clear()  # type: ignore[attr-defined]
    samples = []
    for item in items:
        started = time.perf_counter()
        call(item)
        samples.append((time.perf_counter() - started) * 1e3)
    return samples


def time_interleaved(call_a, call_b, items, warmup: int = 5) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    """Time two calls on the same items in alternation (a-b, then b-a on the next item), so
    both see the same machine noise and their ratio is fair on a busy machine."""
    for item in items[:warmup]:
        call_a(item)
        call_b(item)
    DEFAULT_CACHE.backend.clear()  # type: ignore[attr-defined]
    samples: tuple[list[float], list[float]] = ([], [])
    for index, item in enumerate(items):
        order = ((0, call_a), (1, call_b)) if index % 2 == 0 else ((1, call_b), (0, call_a))
        for slot, call in order:
            started = time.perf_counter()
            call(item)
            samples[slot].append((time.perf_counter() - started) * 1e3)
    return samples


def run(decisions: int, local_decisions: int) -> dict[str, object]:
    snaps = snapshots(decisions)
    result: dict[str, object] = {"decisions": len(snaps), "instrument": "GOOG"}
    naive_graph = build_naive_graph()
    with Sun("quant", checkpoint="none") as sun:
        fast, naive = time_interleaved(
            sun.decide, lambda s: naive_graph.invoke({"snapshot": s}), snaps
        )
        fast_targets = [sun.decide(s).target_position for s in snaps]
    with (
        Sun("quant", checkpoint="none") as carried,
        Sun("quant", checkpoint="none", orchestration=OrchestrationConfig(moon_carry=None)) as full,
    ):
        carried_ms, full_ms = time_interleaved(carried.decide, full.decide, snaps)
    with Sun(
        "quant", checkpoint="none", orchestration=OrchestrationConfig(planet_mode="subgraph")
    ) as sun:
        nested = time_calls(sun.decide, snaps)
    with tempfile.TemporaryDirectory() as tmp, Sun("quant", checkpoint=f"{tmp}/c.sqlite") as sun:
        durable = time_calls(sun.decide, snaps)
    naive_targets = [naive_graph.invoke({"snapshot": s})["decision"].target_position for s in snaps]
    result.update(
        decision_ms_p50=round(percentile(fast, 0.5), 3),
        decision_ms_p95=round(percentile(fast, 0.95), 3),
        decision_ms_p50_carried=round(percentile(carried_ms, 0.5), 3),
        decision_ms_p50_full_moon_pass=round(percentile(full_ms, 0.5), 3),
        moon_carry_speedup=round(percentile(full_ms, 0.5) / percentile(carried_ms, 0.5), 2),
        decision_ms_p50_subgraph_mode=round(percentile(nested, 0.5), 3),
        decision_ms_p50_sqlite=round(percentile(durable, 0.5), 3),
        naive_langgraph_ms_p50=round(percentile(naive, 0.5), 3),
        speedup_vs_naive=round(percentile(naive, 0.5) / percentile(fast, 0.5), 2),
        same_decisions_as_naive=fast_targets == naive_targets,
    )
    result.update(
        local_figures(snaps[:: max(1, len(snaps) // max(1, local_decisions))][:local_decisions])
    )
    return result


def local_figures(snaps: list[MarketSnapshot]) -> dict[str, object]:
    if not snaps:
        return {}
    if not local_available():
        return {"local_decision_ms_p50": None, "local_note": "local model not installed"}
    with Sun(
        "local", checkpoint="none", orchestration=OrchestrationConfig(llm_policy="always")
    ) as sun:
        sun.decide(snaps[0])  # loads the model
        latencies, calls, levels = [], [], []
        for snap in snaps:
            started = time.perf_counter()
            decision = sun.decide(snap)
            latencies.append((time.perf_counter() - started) * 1e3)
            calls.append(decision.llm_usage.calls)
            levels.append(decision.fallback_level)
    with Sun(
        "local", checkpoint="none", orchestration=OrchestrationConfig(llm_policy="auto")
    ) as sun:
        auto_calls = [sun.decide(s).llm_usage.calls for s in snaps]
    return {
        "local_decisions": len(snaps),
        "local_decision_ms_p50": round(percentile(latencies, 0.5), 1),
        "local_decision_ms_p95": round(percentile(latencies, 0.95), 1),
        "llm_calls_per_decision": round(statistics.mean(calls), 3),
        "llm_calls_per_decision_max": max(calls),
        "local_llm_decided_rate": round(levels.count("primary") / len(levels), 3),
        "llm_calls_per_decision_auto_policy": round(statistics.mean(auto_calls), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--decisions", type=int, default=200)
    parser.add_argument("--local-decisions", type=int, default=30)
    args = parser.parse_args()
    result = run(args.decisions, args.local_decisions)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:36s} {value}")


if __name__ == "__main__":
    main()
