"""Bus benchmark: in-process and Redis throughput, Redis end-to-end latency, and a SIGKILL run.

Usage: ``python benchmarks/bus.py --json [--redis-url URL] [--messages N]`` prints one JSON
object. Redis numbers need ``REDIS_URL`` (or ``--redis-url``); consumers are separate
processes (``tests/bus/_load_consumer.py``) applying each message exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from uuid import uuid4

ROOT = Path(__file__).resolve().parents[1]
CONSUMER = ROOT / "tests" / "bus" / "_load_consumer.py"
sys.path[:0] = [str(ROOT), str(CONSUMER.parent)]

from _load_consumer import LOAD_CONFIG, delete_prefix, pending_of  # noqa: E402

from bus import Envelope, InProcBus, RedisBus  # noqa: E402

BATCH = 500


def load_batch(prefix: str, start: int, size: int, latency: bool = False) -> list[Envelope]:
    return [
        Envelope(
            sender="sun",
            recipient="load",
            kind="event",
            priority=(start + i) % 4,
            payload={"prefix": prefix, "latency": latency},
        )
        for i in range(size)
    ]


async def inproc_rate(messages: int) -> float:
    bus = InProcBus(LOAD_CONFIG)
    done = asyncio.Event()
    count = 0

    async def handler(_: Envelope) -> None:
        nonlocal count
        count += 1
        if count == messages:
            done.set()

    await bus.subscribe("load", handler)
    envelopes = load_batch("x", 0, messages)
    started = time.perf_counter()
    for offset in range(0, messages, BATCH):
        await bus.send_many(envelopes[offset : offset + BATCH])
    await done.wait()
    elapsed = time.perf_counter() - started
    await bus.close()
    return messages / elapsed


class Cluster:
    """Consumer processes on one key prefix."""

    def __init__(self, url: str, count: int) -> None:
        self.url = url
        self.prefix = f"heliarch:bench:{uuid4().hex}:"
        self.bus = RedisBus(url, prefix=self.prefix, config=LOAD_CONFIG)
        self.names = [f"c{i}" for i in range(count)]
        self.workers: dict[str, subprocess.Popen[bytes]] = {}

    def spawn(self, name: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        command = [sys.executable, str(CONSUMER), "--url", self.url, "--prefix", self.prefix]
        self.workers[name] = subprocess.Popen([*command, "--name", name], cwd=ROOT, env=env)

    async def start(self) -> None:
        await self.bus.ensure_group("load", "load")
        for name in self.names:
            self.spawn(name)
        for name in self.names:
            while not await self.bus.client.exists(f"{self.prefix}ready:{name}"):
                await asyncio.sleep(0.05)

    async def applied(self) -> int:
        return int(await self.bus.client.hlen(f"{self.prefix}applied"))

    async def wait_applied(self, target: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while await self.applied() < target and time.monotonic() < deadline:
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        for process in self.workers.values():
            process.send_signal(signal.SIGKILL)
            process.wait()
        await self.bus.close()
        await delete_prefix(self.url, self.prefix)


async def redis_rate(url: str, messages: int) -> float:
    cluster = Cluster(url, 2)
    await cluster.start()
    try:
        started = time.perf_counter()
        for offset in range(0, messages, BATCH):
            await cluster.bus.send_many(load_batch(cluster.prefix, offset, BATCH))
        await cluster.wait_applied(messages, 120)
        elapsed = time.perf_counter() - started
        return await cluster.applied() / elapsed
    finally:
        await cluster.stop()


async def redis_latency(url: str, rate: int, seconds: float) -> dict[str, float]:
    """End-to-end latency (envelope creation -> handler) at a steady, unsaturated rate."""
    cluster = Cluster(url, 2)
    await cluster.start()
    try:
        per_tick, tick = max(1, rate // 100), 0.01
        sent, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            await cluster.bus.send_many(load_batch(cluster.prefix, sent, per_tick, latency=True))
            sent += per_tick
            await asyncio.sleep(max(0.0, started + (sent / per_tick) * tick - time.perf_counter()))
        await cluster.wait_applied(sent, 30)
        raw = await cluster.bus.client.lrange(f"{cluster.prefix}latency", 0, -1)
        values = sorted(float(v) for v in raw)
        return {
            "p50": values[len(values) // 2],
            "p99": values[int(len(values) * 0.99) - 1],
            "samples": len(values),
        }
    finally:
        await cluster.stop()


async def kill_run(url: str, messages: int, limit_s: float) -> dict[str, int | float]:
    """Three consumers, one SIGKILLed at 25% and restarted; count lost and doubled messages."""
    cluster = Cluster(url, 3)
    await cluster.start()
    try:
        sent, injected, killed, orphaned = 0, 0, False, 0
        deadline = time.monotonic() + limit_s
        while sent < messages and time.monotonic() < deadline:
            await cluster.bus.send_many(load_batch(cluster.prefix, sent, BATCH))
            sent += BATCH
            if sent % 10_000 == 0:
                await cluster.bus.publish_raw("load", f"{{malformed #{injected}")
                injected += 1
            if not killed and await cluster.applied() >= messages // 4:
                cluster.workers["c0"].send_signal(signal.SIGKILL)
                cluster.workers["c0"].wait()
                orphaned = await pending_of(cluster.bus, "c0")
                cluster.spawn("c0")
                killed = True
        await cluster.wait_applied(sent, 60)
        await asyncio.sleep(2 * LOAD_CONFIG.visibility_timeout_s)
        counts = [
            int(v) for v in (await cluster.bus.client.hgetall(f"{cluster.prefix}applied")).values()
        ]
        dead = await cluster.bus.dead_letters()
        return {
            "kill_run_messages": sent,
            "lost": sent - len(counts),
            "applied_twice": sum(c > 1 for c in counts),
            "dead_lettered": len(dead),
            "malformed_injected": injected,
            "consumer_killed": int(killed),
            "orphaned_by_kill": orphaned,
        }
    finally:
        await cluster.stop()


def decision_latency(url: str, decisions: int = 60) -> dict[str, float]:
    """p50 of one quant decision with every planet consulted through Redis workers vs local.

    One worker process per planet (``heliarch worker``); the same GOOG snapshots both ways,
    after a warm-up pass (moon cache and both code paths hot).
    """
    from datetime import datetime

    from bus import MarketSnapshot, load_csv
    from planets import default_planets
    from planets.remote import remote_planets
    from sun import Sun

    names = ["technical", "risk", "sentiment", "execution"]
    prefix = f"heliarch:bench:remote:{uuid4().hex}:"
    cli = "from heliarch.cli import main; main()"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", cli, "worker", "--redis", url, "--prefix", prefix, "-p", name],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for name in names
    ]
    goog = load_csv(ROOT / "examples" / "data" / "GOOG.csv", "GOOG")
    days = [datetime(2008, 10, 1), datetime(2010, 6, 1), datetime(2012, 6, 1), datetime(2013, 3, 1)]
    snapshots = [MarketSnapshot.at(day, {"GOOG": goog}) for day in days]

    def p50(sun: Sun) -> float:
        for snapshot in snapshots:
            sun.decide(snapshot)
        times = []
        for i in range(decisions):
            started = time.perf_counter()
            sun.decide(snapshots[i % len(snapshots)])
            times.append((time.perf_counter() - started) * 1e3)
        return sorted(times)[len(times) // 2]

    try:
        with remote_planets(url, names, prefix=prefix) as remote:
            remote.wait_for_workers(60)
            with Sun("quant", checkpoint="none", planets={**default_planets(), **remote}) as sun:
                remote_ms = p50(sun)
        with Sun("quant", checkpoint="none") as sun:
            local_ms = p50(sun)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)
        asyncio.run(delete_prefix(url, prefix))
    return {
        "remote_decision_ms_p50": round(remote_ms, 3),
        "local_decision_ms_p50": round(local_ms, 3),
        "remote_vs_local_decision_ms_p50": round(remote_ms / local_ms, 2),
    }


async def main(args: argparse.Namespace) -> dict[str, object]:
    result: dict[str, object] = {"inproc_msgs_per_s": round(await inproc_rate(args.messages))}
    url = args.redis_url or os.environ.get("REDIS_URL")
    if not url:
        result["redis_skipped"] = "REDIS_URL is not set"
        return result
    result["redis_msgs_per_s"] = round(await redis_rate(url, args.messages))
    latency = await redis_latency(url, rate=2_000, seconds=3.0)
    result["redis_p50_ms"] = round(latency["p50"], 3)
    result["redis_p99_ms"] = round(latency["p99"], 3)
    result["redis_latency_rate_msgs_per_s"] = 2_000
    result.update(await kill_run(url, args.messages, limit_s=60.0))
    result.update(await asyncio.to_thread(decision_latency, url))
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--messages", type=int, default=100_000)
    parsed = parser.parse_args()
    outcome = asyncio.run(main(parsed))
    print(json.dumps(outcome, indent=None if parsed.json else 2))
