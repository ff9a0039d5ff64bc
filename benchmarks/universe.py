"""A whole universe per tick: one vectorized pass against deciding instruments one by one.

    python benchmarks/universe.py [--json] [--instruments N] [--ticks T] [--reflex-ticks R]

The universe is ``heliarch.backtest.bundled_universe(N)`` (windows, offsets and scalings of
the bundled real GOOG / EURUSD / BTCUSD bars on one daily clock, GOOG as benchmark). Walking
forward over the last ``T`` ticks (each tick a new snapshot whose histories grew by one bar):

* ``universe_decide_ms_p50_500``: ``Sun("quant").decide_universe(snapshot)`` per tick;
* ``per_instrument_decide_ms_p50``: ``Sun("quant").decide`` on one instrument's snapshot,
  the same ticks, a fixed sample of instruments (timed in alternation with the universe);
* ``universe_speedup``: ``per_instrument_decide_ms_p50 * N / universe_decide_ms_p50_500``
  (wall clock); ``*_cpu_*`` and ``universe_speedup_cpu``: the same from process CPU time,
  steadier when other jobs share the cores;
* ``reflex_tick_us_p50_500`` / ``_p99_``: ``ReflexLoop.tick`` (moons + hard risk rules) over
  the last ``R`` bars with the universe's decided positions;
* ``guardian_us_p50_500``: ``portfolio_guard`` (the array pass) on the decided targets, and
  ``guardian_with_corrections_us_p50_500`` with the ``GuardCorrection`` records;
* ``history_checks``: how the universe verified that each history only grew (compared word
  by word, or ``by_buffers``: the same read-only buffers as last tick; see
  ``sun/universe/_prefix.py``);
* ``gap_checks``: ticks whose gap check ran in ``full``, or was ``carried`` (last tick clean,
  every history grew by one bar at one shared stamp; see ``GapMemo`` in
  ``sun/universe/_quality.py``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import moons  # noqa: E402
from bus import MarketSnapshot, to_datetime  # noqa: E402
from heliarch.backtest import bundled_universe  # noqa: E402
from planets import RiskLimits  # noqa: E402
from sun import OrchestrationConfig, Sun  # noqa: E402
from sun.universe import PortfolioLimits, ReflexLoop, corrections_of, portfolio_guard  # noqa: E402

TARGETS = {
    "universe_speedup": ">= 50",
    "reflex_tick_us_p50_500": "<= 1000",
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def snapshot_at(universe: dict, benchmark, stamp, names=None) -> MarketSnapshot:  # type: ignore[no-untyped-def]
    chosen = names or [n for n, s in universe.items() if s.timestamps[0] <= stamp]
    return MarketSnapshot.at(
        to_datetime(stamp), {n: universe[n] for n in chosen}, benchmark=benchmark
    )


def bench_decide(universe: dict, benchmark, ticks: int, sample: int) -> dict:  # type: ignore[no-untyped-def]
    stamps = benchmark.timestamps[-(ticks + 1) :]
    orchestration = OrchestrationConfig(moon_cache=moons.MoonCache(moons.LruBackend(4096)))
    whole = Sun("quant", checkpoint="none", orchestration=orchestration)
    one = Sun("quant", checkpoint="none", orchestration=orchestration)
    names = list(universe)
    picks = names[:: max(1, len(names) // sample)][:sample]
    whole.decide_universe(snapshot_at(universe, benchmark, stamps[0]))  # warm-up: replay
    for name in picks[:3]:
        one.decide(snapshot_at(universe, benchmark, stamps[0], [name]))
    universe_ms, single_ms, universe_cpu, single_cpu = [], [], [], []
    for stamp in stamps[1:]:
        snapshot = snapshot_at(universe, benchmark, stamp)
        started, cpu = time.perf_counter(), time.process_time()
        decisions = whole.decide_universe(snapshot)
        universe_ms.append((time.perf_counter() - started) * 1e3)
        universe_cpu.append((time.process_time() - cpu) * 1e3)
        for name in picks:
            single = snapshot_at(universe, benchmark, stamp, [name])
            started, cpu = time.perf_counter(), time.process_time()
            one.decide(single)
            single_ms.append((time.perf_counter() - started) * 1e3)
            single_cpu.append((time.process_time() - cpu) * 1e3)
    stats = whole.universe.moons_for(whole.context).stats
    return {
        "universe_ms": universe_ms,
        "single_ms": single_ms,
        "universe_cpu": universe_cpu,
        "single_cpu": single_cpu,
        "decisions": decisions,
        "moon_stats": dict(stats),
        "history_checks": whole.universe.moons_for(whole.context).history_checks,
        "gap_checks": whole.universe.gap_checks,
    }


def bench_reflex(universe: dict, decisions: dict, ticks: int) -> list[float]:
    names = [n for n in universe if len(universe[n]) > ticks + 30]
    loop = ReflexLoop(names, RiskLimits())
    histories = [moons.Ohlcv(*(np.asarray(getattr(universe[n], f)[:-ticks]) for f in
                 ("open", "high", "low", "close", "volume"))) for n in names]  # fmt: skip
    loop.warm_up(histories)
    loop.set_targets({n: decisions[n].target_position for n in names if n in decisions})
    fields = [np.stack([np.asarray(getattr(universe[n], f)[-ticks:]) for n in names], axis=1)
              for f in ("open", "high", "low", "close", "volume")]  # fmt: skip
    stamps = universe[names[0]].timestamps[-ticks:]
    samples = []
    for t in range(ticks):
        bar = [np.ascontiguousarray(f[t]) for f in fields]
        as_of = to_datetime(stamps[t])
        started = time.perf_counter()
        loop.tick(*bar, as_of=as_of)
        samples.append((time.perf_counter() - started) * 1e6)
    return samples


def bench_guardian(universe: dict, decisions: dict, runs: int) -> tuple[list[float], list[float]]:
    ordered = [decisions[n] for n in universe if n in decisions]
    targets = np.array([d.target_position for d in ordered])
    rng = np.random.default_rng(0)
    vol = np.abs(rng.normal(0.3, 0.1, len(targets))) + 0.05
    corr = rng.uniform(-1.0, 1.0, len(targets))
    limits = PortfolioLimits()
    plain, full = [], []
    for _ in range(runs):
        started = time.perf_counter()
        steps = portfolio_guard(targets, vol, corr, limits)
        plain.append((time.perf_counter() - started) * 1e6)
        started = time.perf_counter()
        corrections_of(portfolio_guard(targets, vol, corr, limits), limits)
        full.append((time.perf_counter() - started) * 1e6)
    assert steps.shape == (6, len(targets))
    return plain, full


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--instruments", type=int, default=500)
    parser.add_argument("--bars", type=int, default=600)
    parser.add_argument("--ticks", type=int, default=8)
    parser.add_argument("--sample", type=int, default=6)
    parser.add_argument("--reflex-ticks", type=int, default=300)
    args = parser.parse_args()
    universe, benchmark = bundled_universe(args.instruments, args.bars)
    n = len(universe)
    decided = bench_decide(universe, benchmark, args.ticks, args.sample)
    reflex = bench_reflex(universe, decided["decisions"], args.reflex_ticks)
    plain, full = bench_guardian(universe, decided["decisions"], 300)
    universe_p50 = statistics.median(decided["universe_ms"])
    single_p50 = statistics.median(decided["single_ms"])
    levels: dict[str, int] = {}
    for decision in decided["decisions"].values():
        levels[decision.fallback_level] = levels.get(decision.fallback_level, 0) + 1
    result = {
        "instruments": n,
        "ticks": args.ticks,
        f"universe_decide_ms_p50_{n}": round(universe_p50, 2),
        f"universe_decide_ms_max_{n}": round(max(decided["universe_ms"]), 2),
        "per_instrument_decide_ms_p50": round(single_p50, 3),
        "per_instrument_samples": len(decided["single_ms"]),
        "universe_speedup": round(single_p50 * n / universe_p50, 1),
        f"universe_decide_cpu_ms_p50_{n}": round(statistics.median(decided["universe_cpu"]), 2),
        "per_instrument_decide_cpu_ms_p50": round(statistics.median(decided["single_cpu"]), 3),
        "universe_speedup_cpu": round(
            statistics.median(decided["single_cpu"])
            * n
            / statistics.median(decided["universe_cpu"]),
            1,
        ),
        f"reflex_tick_us_p50_{n}": round(statistics.median(reflex), 1),
        f"reflex_tick_us_p99_{n}": round(percentile(reflex, 0.99), 1),
        f"guardian_us_p50_{n}": round(statistics.median(plain), 1),
        f"guardian_with_corrections_us_p50_{n}": round(statistics.median(full), 1),
        "decision_levels": levels,
        "moon_stats": decided["moon_stats"],
        "history_checks": decided["history_checks"],
        "gap_checks": decided["gap_checks"],
        "targets": TARGETS,
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:45s} {value}")


if __name__ == "__main__":
    main()
