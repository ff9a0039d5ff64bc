"""Memory recall latency at 100,000 situations, persistence across processes, GOOG backtest time.

    python benchmarks/memory.py [--json] [--memories N] [--queries N] [--skip-backtest]

* ``recall_ms_p50/p95``: ``UniversalMemory.recall`` (situation vector + exact ranked recall with
  the no-look-ahead filter, across all instruments) over ``memories`` stored situations in an embedded ChromaDB store;
  ``recall_chroma_ms_p50/p95``: the same query through Chroma's HNSW index with a metadata
  filter (``LongTermMemory.recall_chroma``).
* ``write_per_s``: situations written per second (batched upserts).
* ``reopen_ok``: one subprocess writes memories, another opens the directory and recalls them;
  ``reopen_s``: time for a fresh process to open the 100,000-situation store (hydration).
* ``backtest_goog_quant_s``: the whole GOOG walk-forward with the quant reasoner (learning on).

Situations are real moon-panel rows of GOOG and EURUSD, jittered (seeded) into synthetic
instruments to reach the requested count.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import moons  # noqa: E402
from bus import load_csv, to_datetime  # noqa: E402
from memory import Outcome, UniversalMemory  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def panel_rows() -> list[tuple[object, dict[str, float]]]:
    rows = []
    for name in ("GOOG", "EURUSD"):
        series = load_csv(ROOT / "examples" / "data" / f"{name}.csv", name)
        ohlcv = moons.Ohlcv(series.open, series.high, series.low, series.close, series.volume)
        panel = moons.batch_panel(ohlcv, cache=None)
        for i in range(len(series)):
            values = {k: float(v[i]) for k, v in panel.items()}
            values["close"] = float(series.close[i])
            if np.isfinite(values["var95"]):
                rows.append((to_datetime(series.timestamps[i]), values))
    return rows


def fill(memory: UniversalMemory, count: int, seed: int = 7) -> float:
    rng = np.random.default_rng(seed)
    rows = panel_rows()
    started = time.perf_counter()
    for n in range(count):
        moment, values = rows[n % len(rows)]
        copy = n // len(rows)
        jitter = {k: v * (1.0 + 0.05 * rng.standard_normal()) if copy else v
                  for k, v in values.items()}  # fmt: skip
        situation = memory.situation(
            f"SYN{copy:03d}", moment, action="BUY", target_position=0.5, confidence=0.6,
            regime="range/calm", moons=jitter,
        )  # fmt: skip
        ret = float(rng.normal(0, 0.02))
        end = moment + timedelta(days=5)
        memory.long_term.add(
            situation, Outcome(end, 5, ret, 0.5 * ret, -0.5 * ret, 0.5), float(rng.random())
        )
    memory.flush()
    return count / (time.perf_counter() - started)


WRITER = """
import sys; sys.path.insert(0, {root!r})
from datetime import datetime, timedelta
from memory import UniversalMemory, Outcome
m = UniversalMemory({path!r})
base = dict(close=100.0, sma=98.0, ema=99.0, rsi=50.0, macd_hist=0.5, bb_pctb=0.6, atr=2.0,
            realized_vol=0.3, ret_z=0.4, max_drawdown=0.1, var95=0.02, sharpe=1.0, volume_z=0.1)
for day in range(500):
    s = m.situation("X", datetime(2010, 1, 1) + timedelta(days=day), action="BUY",
                    target_position=0.5, confidence=0.5, moons=dict(base, rsi=20.0 + day / 10))
    end = datetime(2010, 1, 1) + timedelta(days=day + 5)
    m.remember_outcome(s, Outcome(end, 5, day / 1e4, day / 2e4, -day / 2e4, 0.5))
m.close()
"""

READER = """
import sys, json; sys.path.insert(0, {root!r})
from datetime import datetime
from memory import UniversalMemory, RecallWeights
m = UniversalMemory({path!r}, weights=RecallWeights(recency=0.0, importance=0.0))
base = dict(close=100.0, sma=98.0, ema=99.0, rsi=45.0, macd_hist=0.5, bb_pctb=0.6, atr=2.0,
            realized_vol=0.3, ret_z=0.4, max_drawdown=0.1, var95=0.02, sharpe=1.0, volume_z=0.1)
top = m.recall("X", base, datetime(2012, 1, 1), k=1)[0]
print(json.dumps({{"count": len(m.long_term), "top_day": (top.as_of - datetime(2010, 1, 1)).days,
                  "ret": top.outcome.realized_return}}))
"""

OPENER = """
import sys, time, json; sys.path.insert(0, {root!r})
import memory
started = time.perf_counter()
m = memory.UniversalMemory({path!r})
print(json.dumps({{"count": len(m.long_term), "s": time.perf_counter() - started}}))
"""


def reopen_check(root: Path) -> bool:
    path = tempfile.mkdtemp(prefix="heliarch-reopen-")
    try:
        code = WRITER.format(root=str(root), path=path)
        subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
        code = READER.format(root=str(root), path=path)
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                             text=True, timeout=300)  # fmt: skip
        got = json.loads(out.stdout.strip().splitlines()[-1])
        return got["count"] == 500 and got["top_day"] == 250 and abs(got["ret"] - 0.025) < 1e-12
    finally:
        shutil.rmtree(path, ignore_errors=True)


def run(count: int, queries: int, backtest: bool) -> dict[str, object]:
    result: dict[str, object] = {"memories": count}
    path = tempfile.mkdtemp(prefix="heliarch-memory-bench-")
    try:
        memory = UniversalMemory(path, flush_every=5000)
        result["write_per_s"] = round(fill(memory, count))
        result["memories"] = len(memory.long_term)
        rows = panel_rows()
        rng = np.random.default_rng(11)
        picks = rng.integers(0, len(rows), size=queries)
        samples, chroma_samples = [], []
        for j, index in enumerate(picks):
            moment, values = rows[int(index)]
            started = time.perf_counter()
            memory.recall("SYN001", values, moment + timedelta(days=365), k=5,
                          same_instrument=False)  # fmt: skip
            samples.append((time.perf_counter() - started) * 1e3)
            if j < max(20, queries // 10):
                vector = memory.short_term.lookup("SYN001", moment + timedelta(days=365))
                started = time.perf_counter()
                memory.long_term.recall_chroma(vector[1], moment + timedelta(days=365), k=5)
                chroma_samples.append((time.perf_counter() - started) * 1e3)
        result["recall_queries"] = queries
        result["recall_ms_p50"] = round(statistics.median(samples), 3)
        result["recall_ms_p95"] = round(percentile(samples, 0.95), 3)
        result["recall_chroma_ms_p50"] = round(statistics.median(chroma_samples), 3)
        result["recall_chroma_ms_p95"] = round(percentile(chroma_samples, 0.95), 3)
        out = subprocess.run(
            [sys.executable, "-c", OPENER.format(root=str(ROOT), path=path)],
            check=True, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        opened = json.loads(out.stdout.strip().splitlines()[-1])
        result["reopen_count"] = opened["count"]
        result["reopen_s"] = round(opened["s"], 3)
    finally:
        shutil.rmtree(path, ignore_errors=True)
    result["reopen_ok"] = reopen_check(ROOT) and result["reopen_count"] == result["memories"]
    if backtest:
        from heliarch.backtest import BacktestConfig, run_backtest

        goog = load_csv(ROOT / "examples" / "data" / "GOOG.csv", "GOOG")
        started = time.perf_counter()
        bt = run_backtest(goog, BacktestConfig())
        result["backtest_goog_quant_s"] = round(time.perf_counter() - started, 2)
        result["backtest_goog_decisions"] = bt.decisions
        result["backtest_goog_ms_per_decision"] = round(
            result["backtest_goog_quant_s"] * 1e3 / bt.decisions,
            2,  # type: ignore[operator]
        )
    result["targets"] = {"recall_ms_p50": 5.0, "backtest_goog_quant_s": 60.0}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--memories", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--skip-backtest", action="store_true")
    args = parser.parse_args()
    result = run(args.memories, args.queries, not args.skip_backtest)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>30}: {value}")


if __name__ == "__main__":
    main()
