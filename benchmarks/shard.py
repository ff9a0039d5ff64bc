"""A universe sharded across worker processes over Redis: 1 worker against 2.

    python benchmarks/shard.py [--json] [--instruments N] [--ticks T] [--redis URL]

For each worker count W in (1, 2): start W ``heliarch worker --universe N`` processes, let
the coordinator (this process) publish one warm-up tick (each worker's first pass computes
its moons from scratch), then ``T`` ticks of the bundled clock, one after the other.

* ``shard_tick_ms_p50_w1`` / ``_w2``: publish -> every decision collected, per tick;
* ``shard_instruments_per_s_w1`` / ``_w2``: N * T / wall time of the T ticks;
* ``shard_scaling_w2_over_w1``: the ratio of the two (2.0 would be perfect scaling; on a
  machine with fewer free cores than workers + coordinator it will not scale);
* ``inprocess_tick_ms_p50``: the same ticks decided by one ``decide_universe`` in this
  process (no bus), the reference for the bus overhead (``shard_overhead_w1``);
* ``load_avg``: the 1-minute load average at the end (absolute times are noisy under load).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from uuid import uuid4

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bus import BarSeries, MarketSnapshot, RedisBus, to_datetime  # noqa: E402
from heliarch.backtest import bundled_universe  # noqa: E402
from sun import Sun  # noqa: E402
from sun.shard import ShardConfig, ShardCoordinator  # noqa: E402

CONFIG = ShardConfig(heartbeat_s=0.5, member_ttl_s=2.0, claim_ttl_s=5.0, poll_s=0.01)


def start_workers(
    url: str, prefix: str, count: int, n: int, bars: int
) -> list[subprocess.Popen[str]]:
    processes = []
    for k in range(count):
        command = [sys.executable, "-m", "heliarch", "worker", "--universe", str(n),
                   "--universe-bars", str(bars), "--redis", url, "--prefix", prefix,
                   "--pool", "bench", "--consumer", f"w{k + 1}", "--heartbeat-s", "0.5",
                   "--member-ttl-s", "2"]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        processes.append(
            subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, env=env)
        )
    for process in processes:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError(f"worker did not start: {line!r}")
    return processes


def stop_workers(processes: list[subprocess.Popen[str]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def run_ticks(
    url: str, prefix: str, count: int, names: list[str], stamps: list[Any]
) -> dict[str, Any]:
    async with (
        RedisBus(url, prefix=prefix, config=CONFIG.bus_config()) as bus,
        ShardCoordinator(bus, pool="bench", config=CONFIG) as coordinator,
    ):
        await coordinator.wait_for_workers(count, timeout_s=120)
        await coordinator.tick(to_datetime(stamps[0]), names)  # warm-up
        tick_ms = []
        started = time.perf_counter()
        for stamp in stamps[1:]:
            result = await coordinator.tick(to_datetime(stamp), names)
            tick_ms.append(result.elapsed_s * 1e3)
            assert len(result.decisions) == len(names)
        wall = time.perf_counter() - started
        return {"tick_ms": tick_ms, "wall": wall, "duplicates": coordinator.duplicates,
                "workers": sorted(result.by_worker())}  # fmt: skip


async def delete_prefix(url: str, prefix: str) -> None:
    async with RedisBus(url, prefix=prefix) as bus:
        keys = [key async for key in bus.client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await bus.client.delete(*keys)


def inprocess(
    universe: dict[str, BarSeries], benchmark: BarSeries, stamps: list[Any]
) -> list[float]:
    samples = []
    with Sun("quant", checkpoint="none") as sun:
        for k, stamp in enumerate(stamps):
            started = time.perf_counter()
            snapshot = MarketSnapshot.at(to_datetime(stamp), universe, benchmark=benchmark)
            sun.decide_universe(snapshot)
            if k:
                samples.append((time.perf_counter() - started) * 1e3)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--instruments", type=int, default=200)
    parser.add_argument("--bars", type=int, default=400)
    parser.add_argument("--ticks", type=int, default=10)
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()
    universe, benchmark = bundled_universe(args.instruments, args.bars)
    names = sorted(universe)
    stamps = list(benchmark.timestamps[-(args.ticks + 1) :])
    result: dict[str, Any] = {"instruments": len(names), "ticks": args.ticks}
    for count in (1, 2):
        prefix = f"heliarch:bench:shard:{uuid4().hex}:"
        processes = start_workers(args.redis, prefix, count, args.instruments, args.bars)
        try:
            run = asyncio.run(run_ticks(args.redis, prefix, count, names, stamps))
        finally:
            stop_workers(processes)
            asyncio.run(delete_prefix(args.redis, prefix))
        result[f"shard_tick_ms_p50_w{count}"] = round(statistics.median(run["tick_ms"]), 1)
        result[f"shard_instruments_per_s_w{count}"] = round(
            len(names) * args.ticks / run["wall"], 1
        )
        result[f"shard_ticks_per_s_w{count}"] = round(args.ticks / run["wall"], 2)
        result[f"shard_duplicates_w{count}"] = run["duplicates"]
        result[f"shard_workers_deciding_w{count}"] = len(run["workers"])
    local = inprocess(universe, benchmark, stamps)
    result["inprocess_tick_ms_p50"] = round(statistics.median(local), 1)
    result["shard_scaling_w2_over_w1"] = round(
        result["shard_instruments_per_s_w2"] / result["shard_instruments_per_s_w1"], 2
    )
    result["shard_overhead_w1"] = round(
        result["shard_tick_ms_p50_w1"] / result["inprocess_tick_ms_p50"], 2
    )
    result["load_avg"] = round(os.getloadavg()[0], 2)
    result["cpus"] = os.cpu_count()
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:40s} {value}")


if __name__ == "__main__":
    main()
